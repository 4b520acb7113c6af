package credentials

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact/redacttest"
)

// TestUserSecretsRedactedUnderEveryVerb prints the values that hold a
// signed-in user's credential with every verb, directly and from the
// unexported field of an embedding struct, where fmt does not reach their
// Format methods and prints their fields by reflection.
func TestUserSecretsRedactedUnderEveryVerb(t *testing.T) {
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{Token: secret("ghp_hostwidesecret")}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	user := UserSource(&oauth2.Config{ClientID: "web", ClientSecret: "web-client-secret"},
		&oauth2.Token{AccessToken: "ghu_usersecret", RefreshToken: "ghr_refreshsecret", Expiry: time.Now().Add(time.Hour)}, nil)
	req := Request{Host: "github.com", Owner: "acme", User: user}
	cached := Cached(user, nil)
	tr := &Transport{Resolver: r, Request: req}
	type embedding struct {
		name   string
		user   *UserTokenSource
		req    Request
		src    Source
		cached *CachedSource
		tr     *Transport
	}
	values := map[string]any{
		"*UserTokenSource":   user,
		"Request":            req,
		"*CachedSource":      cached,
		"*Transport":         tr,
		"unexported fields":  embedding{"view", user, req, user, cached, tr},
		"*unexported fields": &embedding{"view", user, req, user, cached, tr},
	}
	secrets := []string{"ghu_usersecret", "ghr_refreshsecret", "web-client-secret", "ghp_hostwidesecret"}
	for name, v := range values {
		redacttest.Hidden(t, name, v, secrets...)
	}
}

// TestTransportRefusesAUserWithoutHost: a template with the user's
// credential and no Host would offer the user's token to every configured
// host; it is refused with InvalidArgument and nothing is sent.
func TestTransportRefusesAUserWithoutHost(t *testing.T) {
	api := newRecorder(t, nil)
	other := newRecorder(t, nil)
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{
		{Host: "gitlab.example.com", APIBaseURL: api.URL, Token: secret("glpat-x")},
		{Host: "gitlab.other.example", APIBaseURL: other.URL, Token: secret("glpat-other")},
	}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	user := Static(Credential{Kind: KindUser, Token: "gloas-user"})
	for _, tc := range []struct {
		name string
		req  Request
		code string // "" = sent
	}{
		{"User without Host", Request{User: user}, "InvalidArgument"},
		{"User without Host, with Owner", Request{Owner: "acme", User: user}, "InvalidArgument"},
		{"User with Host", Request{Host: "gitlab.example.com", User: user}, ""},
		{"no User, no Host", Request{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(api.Auths()) + len(other.Auths())
			client := &http.Client{Transport: &Transport{Resolver: r, Request: tc.req}}
			body := &closeTracker{Reader: strings.NewReader("payload")}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, other.URL+"/x", body)
			resp, err := client.Do(req)
			if resp != nil {
				resp.Body.Close()
			}
			sent := len(api.Auths()) + len(other.Auths()) - before
			if tc.code == "" {
				if err != nil || sent != 1 {
					t.Fatalf("Do: %v, %d requests sent; want it sent", err, sent)
				}
				if got := other.Auths(); got[len(got)-1] == "Bearer gloas-user" {
					t.Errorf("the user's token reached another integration's host")
				}
				return
			}
			if got := errcode.CodeOf(err).String(); got != tc.code {
				t.Errorf("Do: error %v (code %s); want %s", err, got, tc.code)
			}
			if sent != 0 {
				t.Errorf("%d requests sent; want none", sent)
			}
			if !body.closed {
				t.Error("the request body was not closed")
			}
			if err != nil && strings.Contains(err.Error(), "gloas-user") {
				t.Errorf("error shows the user's token: %v", err)
			}
		})
	}
}

// TestTokenEndpointEchoNeverInErrors: a token endpoint that echoes what it
// received (the refresh token, the client secret, the Basic header) in its
// error description does not put any of it in the error of a user token's
// refresh or of a Bitbucket OAuth consumer's token.
func TestTokenEndpointEchoNeverInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		auth := r.Header.Get("Authorization")
		dec, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic "))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
			"error_description": fmt.Sprintf("refresh_token=%s client_secret=%s authorization=%s (%s)",
				r.Form.Get("refresh_token"), r.Form.Get("client_secret"), auth, dec)})
	}))
	defer srv.Close()
	secrets := []string{"ghr_echoed-refresh-token", "echoed-client-secret"}

	user := UserSource(&oauth2.Config{ClientID: "web-app", ClientSecret: "echoed-client-secret",
		Endpoint: oauth2.Endpoint{TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInParams}},
		&oauth2.Token{RefreshToken: "ghr_echoed-refresh-token"}, &UserOptions{HTTPClient: srv.Client()})
	_, userErr := user.Credential(t.Context())

	cfg := integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{ClientID: "consumer-key",
		ClientSecret: secret("echoed-client-secret"), TokenURL: srv.URL}}}
	r, err := newResolver(testIntegrations(cfg), nil, &ResolverOptions{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, consumerErr := r.Resolve(t.Context(), Request{Host: "bitbucket.org", Owner: "acme"})

	for name, err := range map[string]error{"user token refresh": userErr, "OAuth consumer": consumerErr} {
		if err == nil {
			t.Fatalf("%s: no error; want the endpoint's refusal", name)
		}
		for _, m := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			for _, s := range append(secrets, base64.StdEncoding.EncodeToString([]byte("consumer-key:echoed-client-secret"))) {
				if strings.Contains(m, s) {
					t.Errorf("%s: error shows %s: %s", name, s, m)
				}
			}
		}
		if !strings.Contains(err.Error(), "REDACTED") {
			t.Errorf("%s: error %q; want the echoed values replaced", name, err)
		}
	}
}
