package credentials

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// edgeTransports returns, for one GitLab integration with a token, a
// Transport resolving credentials and one with a fixed credential, both
// over base.
func edgeTransports(t *testing.T, base http.RoundTripper) map[string]*Transport {
	t.Helper()
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{
		{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4", Token: secret("glpat-tls")},
	}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := integrations.NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*Transport{
		"resolver": {Base: base, Resolver: r},
		"fixed": {Base: base, Registry: reg, Request: Request{Host: "gitlab.example.com"},
			Credential: &Credential{Kind: KindToken, Token: "glpat-tls"}},
	}
}

// authRecorder is a base transport that records the Authorization header
// of each request it is given.
func authRecorder(got *[]string) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		*got = append(*got, req.Header.Get("Authorization"))
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
	})
}

// TestTransportNoCredentialAfterAHopToTheOtherSchemesDefaultPort: a
// redirect chain that went through https://host:80 (a service other than
// the one configured, and answerable by whoever holds that port) carries
// no credential further, even back on the integration's own host.
func TestTransportNoCredentialAfterAHopToTheOtherSchemesDefaultPort(t *testing.T) {
	for mode := range edgeTransports(t, nil) {
		var got []string
		tr := edgeTransports(t, authRecorder(&got))[mode]
		hop, _ := http.NewRequest(http.MethodGet, "https://gitlab.example.com:80/api/v4/projects", nil)
		req, _ := http.NewRequest(http.MethodGet, "https://gitlab.example.com/api/v4/projects", nil)
		req.Response = &http.Response{StatusCode: http.StatusFound, Request: hop}
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != "" {
			t.Errorf("%s: Authorization %q; want none after a hop to https://host:80", mode, got)
		}
	}
}

// TestTransportNoCredentialForOtherSchemes: only https (and http where the
// configuration says so) gets a credential; a base transport that speaks
// another scheme gets the request without one.
func TestTransportNoCredentialForOtherSchemes(t *testing.T) {
	for _, u := range []string{"ws://gitlab.example.com/api/v4/projects", "wss://gitlab.example.com/api/v4/projects", "ftp://gitlab.example.com/x"} {
		for mode := range edgeTransports(t, nil) {
			var got []string
			tr := edgeTransports(t, authRecorder(&got))[mode]
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if _, err := tr.RoundTrip(req); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != "" {
				t.Errorf("%s %s: Authorization %q; want none", mode, u, got)
			}
		}
	}
}

// TestTransportFixedCredentialKeepsTheCallersAuthorization: a request that
// already carries an Authorization header is sent as it is.
func TestTransportFixedCredentialKeepsTheCallersAuthorization(t *testing.T) {
	var got []string
	tr := edgeTransports(t, authRecorder(&got))["fixed"]
	req, _ := http.NewRequest(http.MethodGet, "https://gitlab.example.com/api/v4/projects", nil)
	req.Header.Set("Authorization", "Bearer the-callers-own")
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "Bearer the-callers-own" {
		t.Errorf("Authorization %q; want the caller's own", got)
	}
}

// TestTransportFixedCredentialNeedsATemplateHost: a fixed credential
// without Request.Host (the host it belongs to) sends nothing.
func TestTransportFixedCredentialNeedsATemplateHost(t *testing.T) {
	var got []string
	tr := edgeTransports(t, authRecorder(&got))["fixed"]
	tr.Request.Host = ""
	req, _ := http.NewRequest(http.MethodGet, "https://gitlab.example.com/api/v4/projects", nil)
	if _, err := tr.RoundTrip(req); errcode.CodeOf(err) != errcode.InvalidArgument || len(got) != 0 {
		t.Errorf("RoundTrip = %v after %d requests; want InvalidArgument and nothing sent", err, len(got))
	}
}

// sameUser is a user Source whose token, once dropped, comes back the
// same (its refresh did not renew it).
type sameUser struct{ invalidated atomic.Int32 }

func (u *sameUser) Credential(context.Context) (*Credential, error) {
	return &Credential{Kind: KindUser, Token: "ghu_same", Source: "user"}, nil
}

func (u *sameUser) Invalidate(*Credential) bool { u.invalidated.Add(1); return true }

// TestTransportDoesNotResendTheSameTokenAfter401: when the token renewed
// after a 401 is the one refused, the 401 is the answer: no second request.
func TestTransportDoesNotResendTheSameTokenAfter401(t *testing.T) {
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: api.URL}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	user := &sameUser{}
	resp := get(t, &http.Client{Transport: &Transport{Resolver: r, Request: Request{Host: "gitlab.example.com", User: user}}}, api.URL+"/x")
	if resp.StatusCode != http.StatusUnauthorized || len(api.Auths()) != 1 || user.invalidated.Load() != 1 {
		t.Errorf("status %d after %d requests, %d invalidations; want 401 after 1 request", resp.StatusCode, len(api.Auths()), user.invalidated.Load())
	}
}

// TestNotPermittedNamesOnlyTheAuthorisationException: a 401 is "accepted
// but not permitted" only with Bitbucket's AuthorisationException and the
// user it authenticated; other exceptions (an authentication failure) mean
// the credential is to be renewed.
func TestNotPermittedNamesOnlyTheAuthorisationException(t *testing.T) {
	for _, tc := range []struct {
		name, user, body string
		want             bool
	}{
		{"authorisation", "alice", `{"errors":[{"exceptionName":"com.atlassian.bitbucket.AuthorisationException"}]}`, true},
		{"authentication", "alice", `{"errors":[{"exceptionName":"com.atlassian.bitbucket.auth.AuthenticationException"}]}`, false},
		{"expired token", "alice", `{"errors":[{"exceptionName":"com.atlassian.bitbucket.auth.ExpiredAccessTokenException"}]}`, false},
		{"anonymous", "", `{"errors":[{"exceptionName":"com.atlassian.bitbucket.AuthorisationException"}]}`, false},
	} {
		resp := &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{"Content-Type": {"application/json;charset=UTF-8"}},
			Body: io.NopCloser(strings.NewReader(tc.body))}
		if tc.user != "" {
			resp.Header.Set("X-AUSERNAME", tc.user)
		}
		if got := notPermitted(resp); got != tc.want {
			t.Errorf("%s: notPermitted = %v; want %v", tc.name, got, tc.want)
		}
		if b, _ := io.ReadAll(resp.Body); string(b) != tc.body {
			t.Errorf("%s: body after notPermitted = %q", tc.name, b)
		}
	}
}
