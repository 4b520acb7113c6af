package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact/redacttest"
)

// TestNothingShowsASecret formats every public type of the package, and the
// errors it returns, with every fmt verb, JSON and log/slog, and checks that
// no secret appears.
func TestNothingShowsASecret(t *testing.T) {
	gh := newFakeGitHub(t, nil)
	gh.Add(apptest.Installation{ID: 42, Login: "acme"}, apptest.Installation{ID: 44, Login: "suspended-co", Suspended: true})
	bb := newFakeOAuth(t, "consumer-key", "consumer-secret-value")
	cfg := integrations.Config{
		GitHub: []integrations.GitHubConfig{{APIBaseURL: gh.URL, Token: secret("ghp_hostwidesecret"), Apps: []integrations.GitHubAppConfig{app()},
			Credentials: []integrations.ScopedCredential{{Owners: []string{"initech"}, Token: secret("ghp_scopedsecret")}}}},
		BitbucketCloud: []integrations.BitbucketCloudConfig{{ClientID: "consumer-key", ClientSecret: secret("consumer-secret-value"), TokenURL: bb.URL}},
	}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	user := UserSource(&oauth2.Config{ClientID: "web", ClientSecret: "web-client-secret"},
		&oauth2.Token{AccessToken: "ghu_usersecret", RefreshToken: "ghr_refreshsecret", Expiry: time.Now().Add(time.Hour)}, nil)

	appCred, err := r.Resolve(t.Context(), Request{Host: "github.com", Owner: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	patCred, _ := r.Resolve(t.Context(), Request{Host: "github.com", Owner: "someone"})
	scopedCred, _ := r.Resolve(t.Context(), Request{Host: "github.com", Owner: "initech"})
	userCred, _ := r.Resolve(t.Context(), Request{Host: "github.com", Owner: "acme", User: user})
	bbCred, err := r.Resolve(t.Context(), Request{Host: "bitbucket.org", Owner: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	basicCred := &Credential{Kind: KindToken, Token: "basic-password-secret", Username: "svc", Source: "x"}
	_, suspendedErr := r.Resolve(t.Context(), Request{Host: "github.com", Owner: "suspended-co"})
	_, requireErr := r.Resolve(t.Context(), Request{Host: "github.com", Owner: "acme", Policy: RequireUser})
	_, unknownErr := r.Resolve(t.Context(), Request{URL: "https://user:pw-in-url@evil.example.com/x"})
	// Explain's traces of the same requests, and one more per candidate
	// kind: a token in the configuration never reaches a Candidate.
	var traces []Candidate
	for _, req := range []Request{
		{Host: "github.com", Owner: "acme"}, {Host: "github.com", Owner: "someone"}, {Host: "github.com", Owner: "initech"},
		{Host: "github.com", Owner: "acme", User: user}, {Host: "bitbucket.org", Owner: "acme"}, {Host: "github.com", Owner: "suspended-co"},
		{Host: "github.com", Owner: "acme", Policy: RequireUser}, {URL: "https://user:pw-in-url@evil.example.com/x"}, {Host: "github.com", Owner: "someone", Write: true},
	} {
		_, cands, _ := r.Explain(t.Context(), req)
		traces = append(traces, cands...)
	}
	if len(traces) < 20 {
		t.Fatalf("Explain gave %d candidates in all: %v; want every request's trace", len(traces), traces)
	}

	secrets := []string{appCred.Token, "ghp_hostwidesecret", "ghp_scopedsecret", "ghu_usersecret", "ghr_refreshsecret",
		"web-client-secret", "consumer-secret-value", bbCred.Token, "basic-password-secret", "pw-in-url", "PRIVATE KEY"}
	req := Request{Host: "github.com", Owner: "acme", Repo: "widgets", Write: true, User: user, Policy: NoAnonymous}
	values := map[string]any{
		"app Credential":      appCred,
		"PAT Credential":      patCred,
		"scoped Credential":   scopedCred,
		"user Credential":     userCred,
		"consumer Credential": bbCred,
		"basic Credential":    basicCred,
		"Credential value":    *appCred,
		"Request":             req,
		"*Request":            &req,
		"Resolver":            r,
		"UserTokenSource":     user,
		"CachedSource":        Cached(Static(*patCred), nil),
		"Transport":           &Transport{Resolver: r, Request: req},
		"Policy":              RequireUser | NoAnonymous,
		"suspended error":     suspendedErr,
		"RequireUser error":   requireErr,
		"unknown host error":  unknownErr,
		"Candidates":          traces,
		"Candidate":           traces[len(traces)-1],
		"Outcome":             Failed,
		"exported fields": struct {
			C   Credential
			P   *Credential
			Req Request
			U   Source
		}{*userCred, bbCred, req, user},
	}
	for name, v := range values {
		redacttest.Hidden(t, name, v, secrets...)
	}

	// What they do show.
	if got := fmt.Sprint(appCred); got != "app credential from integrations.github[0].apps[0] installation 42, expires "+appCred.Expiry.UTC().Format(time.RFC3339) {
		t.Errorf("fmt.Sprint(credential) = %q", got)
	}
	js, _ := json.Marshal(basicCred)
	if got, want := string(js), `{"kind":"token","token":"[redacted]","username":"svc","source":"x"}`; got != want {
		t.Errorf("JSON = %s; want %s", got, want)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})).Info("resolved", "cred", patCred)
	if got, want := buf.String(), `{"level":"INFO","msg":"resolved","cred":{"kind":"token","source":"integrations.github[0].token","token":"[redacted]"}}`+"\n"; got != want {
		t.Errorf("slog JSON = %s; want %s", got, want)
	}
}

func TestURLRedaction(t *testing.T) {
	const raw = "https://alice:pw-secret@git.example.com:8443/acme/widgets.git?token=qs-secret&x=1#frag-secret"
	tests := []struct {
		name string
		got  func() string
		want string // contained; "" to check only that nothing leaks
	}{
		{"Request.String", func() string { return Request{URL: raw, Owner: "acme"}.String() },
			"credentials.Request{Host: https://git.example.com:8443/acme/widgets.git, Owner: acme}"},
		{"Request %+v", func() string { return fmt.Sprintf("%+v", Request{URL: raw}) }, "https://git.example.com:8443/acme/widgets.git}"},
		{"Transport.String", func() string { return (&Transport{Request: Request{URL: raw}}).String() },
			"credentials.Transport(credentials.Request{Host: https://git.example.com:8443/acme/widgets.git})"},
		{"Transport.LogValue", func() string {
			var b strings.Builder
			slog.New(slog.NewTextHandler(&b, nil)).Info("x", "t", &Transport{Request: Request{URL: raw}})
			return b.String()
		}, "https://git.example.com:8443/acme/widgets.git"},
		{"Resolve: the request names no host", func() string {
			r, err := newResolver(nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Resolve(t.Context(), Request{URL: "/acme/widgets?token=qs-secret#frag-secret"})
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("Resolve = %v; want InvalidArgument", err)
			}
			return err.Error()
		}, `URL "/acme/widgets"`},
		{"unparseable", func() string { return Request{URL: "https://h/%zz?token=qs-secret"}.String() }, "(unparsable URL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.got()
			mustNotContain(t, "output", got, "pw-secret", "qs-secret", "frag-secret", "alice")
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q; want it to contain %q", got, tt.want)
			}
		})
	}
}
