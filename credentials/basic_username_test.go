package credentials

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
)

// TestWithBasicUsername: the context value turns a token without a
// Username into Basic with the given user name (git over HTTPS on GitHub),
// leaves a credential with its own Username and a context without the
// value as they were, and refuses user names Basic cannot carry.
func TestWithBasicUsername(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config func(api string) integrations.Config
		ctx    func(context.Context) context.Context
		want   string
	}{
		{"GitHub token, x-access-token", func(api string) integrations.Config {
			return integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "ghe.example.com", APIBaseURL: api, Token: secret("ghp_pat")}}}
		}, func(ctx context.Context) context.Context { return WithBasicUsername(ctx, "x-access-token") }, basic("x-access-token", "ghp_pat")},
		{"no value: Bearer", func(api string) integrations.Config {
			return integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "ghe.example.com", APIBaseURL: api, Token: secret("ghp_pat")}}}
		}, func(ctx context.Context) context.Context { return ctx }, "Bearer ghp_pat"},
		{"the credential's own username wins", func(api string) integrations.Config {
			return integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: "bb.example.com", APIBaseURL: api, Username: "svc", Password: secret("pw")}}}
		}, func(ctx context.Context) context.Context { return WithBasicUsername(ctx, "x-access-token") }, basic("svc", "pw")},
		{"a colon is refused: Bearer", func(api string) integrations.Config {
			return integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "ghe.example.com", APIBaseURL: api, Token: secret("ghp_pat")}}}
		}, func(ctx context.Context) context.Context { return WithBasicUsername(ctx, "a:b") }, "Bearer ghp_pat"},
		{"a control character is refused: Bearer", func(api string) integrations.Config {
			return integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "ghe.example.com", APIBaseURL: api, Token: secret("ghp_pat")}}}
		}, func(ctx context.Context) context.Context { return WithBasicUsername(ctx, "a\r\nX-Evil: 1") }, "Bearer ghp_pat"},
		{"anonymous stays anonymous", func(api string) integrations.Config {
			return integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "ghe.example.com", APIBaseURL: api}}}
		}, func(ctx context.Context) context.Context { return WithBasicUsername(ctx, "x-access-token") }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newRecorder(t, nil)
			r, err := newResolver(testIntegrations(tc.config(api.URL)), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Transport: &Transport{Resolver: r, Request: Request{Owner: "acme"}}}
			req, err := http.NewRequestWithContext(tc.ctx(t.Context()), http.MethodGet, api.URL+"/acme/widgets.git/info/refs?service=git-receive-pack", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := api.Auths(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("Authorization = %q; want %q", got, tc.want)
			}
		})
	}
}

// TestWithBasicUsernameStaysHome: asking for Basic changes how the
// credential is written, never where it goes: a foreign host, and a host
// reached by a redirect from the integration's own, get no Authorization,
// in both of Transport's modes; and no error shows the token in any form.
func TestWithBasicUsernameStaysHome(t *testing.T) {
	foreign := newRecorder(t, nil)
	home := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, foreign.URL+"/stolen", http.StatusFound)
	})
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{Host: "ghe.example.com", APIBaseURL: home.URL, Token: secret("ghp_secret_pat")}}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := integrations.NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(home.URL)
	ctx := WithBasicUsername(t.Context(), "x-access-token")
	for _, tc := range []struct {
		name string
		tr   *Transport
	}{
		{"resolver", &Transport{Resolver: r, Request: Request{Owner: "acme"}}},
		{"fixed credential", &Transport{Credential: &Credential{Kind: KindToken, Token: "ghp_secret_pat"}, Registry: reg,
			Request: Request{Host: r.state(u.Host).in.Host}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := &http.Client{Transport: tc.tr}
			before := len(foreign.Auths())
			for _, target := range []string{foreign.URL + "/acme/widgets.git/info/refs", home.URL + "/acme/widgets.git/info/refs"} {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			got := foreign.Auths()[before:]
			if len(got) != 2 || got[0] != "" || got[1] != "" {
				t.Errorf("the foreign host got Authorization %q; want none, directly and after a redirect", got)
			}
			if auths := home.Auths(); auths[len(auths)-1] != basic("x-access-token", "ghp_secret_pat") {
				t.Errorf("the integration's host got %q; want Basic x-access-token", auths[len(auths)-1])
			}

			// A transport failure: the error shows no form of the token.
			failing := *tc.tr
			failing.Base = roundTripFunc(func(req *http.Request) (*http.Response, error) {
				return nil, errors.New("connection reset by peer")
			})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, home.URL+"/acme/widgets.git/git-receive-pack", strings.NewReader("0000"))
			_, err := (&http.Client{Transport: &failing}).Do(req)
			if err == nil {
				t.Fatal("the failing transport succeeded")
			}
			for _, form := range []string{"ghp_secret_pat", base64.StdEncoding.EncodeToString([]byte("x-access-token:ghp_secret_pat"))} {
				if strings.Contains(err.Error(), form) {
					t.Errorf("error %q shows the credential", err)
				}
			}
		})
	}
}
