package credentials

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// TestResolveUserSourceWithoutToken: a Request.User source that returns no
// credential, or one with an empty token, fails the request with
// Unauthorized, for a read and for a write: it used to be skipped as "no
// user", and the request went out, a write too, with the integration's own
// token (review29-integ2 #6). A request without User still gets that token.
func TestResolveUserSourceWithoutToken(t *testing.T) {
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{Token: secret("ghp_host")}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		src  Source
	}{
		{"nil credential", SourceFunc(func(context.Context) (*Credential, error) { return nil, nil })},
		{"empty token", Static(Credential{Kind: KindUser, Source: "user github alice"})},
		{"cached empty token", Cached(SourceFunc(func(context.Context) (*Credential, error) {
			return &Credential{Kind: KindUser}, nil
		}), nil)},
	} {
		for _, write := range []bool{false, true} {
			req := Request{Host: "github.com", Owner: "acme", Repo: "svc", Write: write, User: tt.src}
			c, err := r.Resolve(t.Context(), req)
			if c != nil || errcode.CodeOf(err) != errcode.Unauthorized || !strings.Contains(err.Error(), "the signed-in user's token could not be used") {
				t.Errorf("%s, write %v: Resolve = %v, %v; want Unauthorized saying the user's token could not be used", tt.name, write, c, err)
			}
			if err != nil {
				mustNotContain(t, "error", err.Error(), "ghp_host")
			}
			_, trace, _ := r.Explain(t.Context(), req)
			if len(trace) != 1 || trace[0].Outcome != Failed {
				t.Errorf("%s, write %v: Explain = %v; want the user token Failed, nothing else tried", tt.name, write, trace)
			}
		}
	}
	c, err := r.Resolve(t.Context(), Request{Host: "github.com", Owner: "acme", Write: true})
	if err != nil || c.Token != "ghp_host" {
		t.Errorf("Resolve without User = %v, %v; want the integration's token", c, err)
	}
}

// TestCachedSourceRefusesEmptyToken: a credential without a token is an
// Unauthorized error, not cached: the next call asks the source again.
func TestCachedSourceRefusesEmptyToken(t *testing.T) {
	var calls atomic.Int32
	c := Cached(SourceFunc(func(context.Context) (*Credential, error) {
		if calls.Add(1) == 1 {
			return &Credential{Kind: KindUser}, nil
		}
		return &Credential{Kind: KindUser, Token: "ghu_ok"}, nil
	}), nil)
	if got, err := c.Credential(t.Context()); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("Credential with an empty token = %v, %v; want Unauthorized", got, err)
	}
	if got, err := c.Credential(t.Context()); err != nil || got.Token != "ghu_ok" {
		t.Errorf("Credential after = %v, %v; want the source's new token", got, err)
	}
	anon := Cached(Static(Credential{Kind: KindAnonymous}), nil)
	if got, err := anon.Credential(t.Context()); err != nil || got.Kind != KindAnonymous {
		t.Errorf("Credential of an anonymous source = %v, %v; want it", got, err)
	}
}
