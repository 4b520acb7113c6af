package githubscm_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// An installation token listing a user's repositories: GitHub's
// /users/{u}/repos is public only whoever asks, so the token of an
// installation on that user lists /installation/repositories (her private
// ones included, 3 requests for the first page, as with her own token);
// the token of an installation on another account (a public-access app)
// falls back to her public repositories (one request more).
func TestListRepositoriesInstallationToken(t *testing.T) {
	const appID = 77
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, false, &fakegithub.Options{Tokens: []string{goodToken}}, nil)
	e.s.AddOwner("octocat", fakegithub.User)
	for _, r := range []fakegithub.Repo{
		{Owner: "octocat", Name: "pub"}, {Owner: "octocat", Name: "priv", Private: true},
		{Owner: "octocat", Name: "priv2", Private: true}, {Owner: "globex", Name: "g", Private: true},
	} {
		e.addRepo(t, r)
	}
	if err := e.s.AddApp(fakegithub.App{ID: appID, PublicKey: &key.PublicKey}); err != nil {
		t.Fatal(err)
	}
	mint := func(account string) string {
		t.Helper()
		id, err := e.s.AddInstallation(fakegithub.Installation{AppID: appID, Account: account, RepositorySelection: "all"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": strconv.Itoa(appID),
			"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix()}).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", e.s.APIBaseURL()+"/app/installations/"+strconv.FormatInt(id, 10)+"/access_tokens", nil)
		req.Header.Set("Authorization", "Bearer "+signed)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out struct{ Token string }
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &out) != nil || out.Token == "" {
			t.Fatalf("minting a token for %s's installation: %d %s", account, resp.StatusCode, b)
		}
		return out.Token
	}
	for _, tc := range []struct {
		name, account, kind string
		want                []string
		reqs                int
	}{
		{"installation on the user", "octocat", "app:", []string{"octocat/priv", "octocat/priv2", "octocat/pub"}, 3},
		{"installation on another account", "globex", "user:", []string{"octocat/pub"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc := &http.Client{Transport: tokenTransport{host: e.s.Host(), token: mint(tc.account), base: http.DefaultTransport}}
			var names []string
			var page *driver.RepositoryPage
			n := e.count(func() {
				page, err = e.d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: "octocat", PageSize: 2})
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.reqs {
				t.Errorf("first page: %d requests, want %d", n, tc.reqs)
			}
			for {
				for _, r := range page.Repositories {
					names = append(names, r.Owner+"/"+r.Name)
				}
				if page.Next == "" {
					break
				}
				if !strings.HasPrefix(page.Next, tc.kind) {
					t.Errorf("cursor %q, want a %s page", page.Next, tc.kind)
				}
				if page, err = e.d.ListRepositories(t.Context(), hc, &driver.ListRepositoriesRequest{Owner: "octocat", PageSize: 2, Cursor: page.Next}); err != nil {
					t.Fatal(err)
				}
			}
			slices.Sort(names)
			if diff := cmp.Diff(tc.want, names); diff != "" {
				t.Errorf("repositories (-want +got):\n%s", diff)
			}
		})
	}
}
