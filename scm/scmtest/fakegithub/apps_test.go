package fakegithub_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// testKeys are two RSA keys, generated once per test binary (2048-bit
// generation is slow): the apps' keys, and a key of no app.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

func privatePEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func publicPEM(t *testing.T, k *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// The world of the app tests.
const (
	appID      = 42 // installed on acme (all), octocat (selected), suspended-org
	otherAppID = 43 // installed on globex (selected: hidden)
	instAcme   = 1
	instUser   = 2
	instSusp   = 3
	instGlobex = 4
)

// newAppServer starts a fake with the app world on top of newServer's
// acme/widgets (public) and acme/secret (private).
func newAppServer(t *testing.T, opts *fakegithub.Options) (*fakegithub.Server, *testclock.Clock) {
	t.Helper()
	clk := testclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if opts == nil {
		opts = &fakegithub.Options{Tokens: []string{token}}
	}
	opts.Now = clk.Now
	s := newServer(t, opts)
	s.AddOwner("octocat", fakegithub.User)
	for _, r := range []fakegithub.Repo{
		{Owner: "globex", Name: "hidden", Private: true},
		{Owner: "globex", Name: "open"},
		{Owner: "octocat", Name: "chosen", Private: true},
		{Owner: "octocat", Name: "unchosen", Private: true},
	} {
		r.Files = []fakegithub.File{{Path: "README.md", Content: []byte("# " + r.Name)}}
		if _, err := s.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	keys := testKeys()
	if err := s.AddApp(fakegithub.App{ID: appID, PublicKey: &keys[0].PublicKey}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddApp(fakegithub.App{ID: otherAppID, PublicKeyPEM: publicPEM(t, keys[0])}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []fakegithub.Installation{
		{ID: instAcme, AppID: appID, Account: "acme"},
		{ID: instUser, AppID: appID, Account: "octocat", Repositories: []string{"chosen"}},
		{ID: instSusp, AppID: appID, Account: "suspended-org", Suspended: true},
		{ID: instGlobex, AppID: otherAppID, Account: "globex", RepositorySelection: "selected", Repositories: []string{"hidden"}},
	} {
		if _, err := s.AddInstallation(in); err != nil {
			t.Fatal(err)
		}
	}
	return s, clk
}

// signJWT signs claims with key, RS256.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// appJWT is a valid JWT of app id at the clock's time, made as githubapp
// makes them (issued a minute ago, expiring in nine).
func appJWT(t *testing.T, clk *testclock.Clock, id int64) string {
	t.Helper()
	now := clk.Now()
	return signJWT(t, testKeys()[0], jwt.MapClaims{"iss": id, "iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix()})
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// mint creates an installation token and returns it.
func mint(t *testing.T, s *fakegithub.Server, clk *testclock.Clock, inst int64, body string) string {
	t.Helper()
	resp, b := do(t, s, call{method: "POST", url: s.APIBaseURL() + "/app/installations/" + strconv.FormatInt(inst, 10) + "/access_tokens",
		body: body, header: bearer(appJWT(t, clk, appID))})
	if resp.StatusCode != 201 {
		t.Fatalf("minting a token for installation %d: %d %s", inst, resp.StatusCode, b)
	}
	return decode[map[string]any](t, b)["token"].(string)
}

func TestAppJWT(t *testing.T) {
	s, clk := newAppServer(t, nil)
	now := clk.Now()
	keys := testKeys()
	claims := func(iss any, iat, exp time.Duration) jwt.MapClaims {
		return jwt.MapClaims{"iss": iss, "iat": now.Add(iat).Unix(), "exp": now.Add(exp).Unix()}
	}
	hs256, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(appID, -time.Minute, 5*time.Minute)).SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		undecodable = "A JSON web token could not be decoded"
		expired     = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
		tooFar      = "'Expiration time' claim ('exp') is too far in the future"
		issuedAt    = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	)
	tests := []struct {
		name    string
		base    string
		auth    string // Authorization header; "" sends none
		status  int
		message string
	}{
		{"good", s.APIBaseURL(), "Bearer " + signJWT(t, keys[0], claims(appID, -time.Minute, 9*time.Minute)), 200, ""},
		{"good under /api/v3", s.GHEAPIBaseURL(), "Bearer " + signJWT(t, keys[0], claims(appID, -time.Minute, 9*time.Minute)), 200, ""},
		{"iss as a string", s.APIBaseURL(), "Bearer " + signJWT(t, keys[0], claims("42", 0, 5*time.Minute)), 200, ""},
		{"iss the client id", s.APIBaseURL(), "Bearer " + signJWT(t, keys[0], claims("Iv1.fake42", 0, 5*time.Minute)), 200, ""},
		{"exactly 10 minutes ahead", s.APIBaseURL(), "Bearer " + signJWT(t, keys[0], claims(appID, -time.Minute, 10*time.Minute)), 200, ""},
		{"wrong key", s.APIBaseURL(), "Bearer " + signJWT(t, keys[1], claims(appID, -time.Minute, 9*time.Minute)), 401, undecodable},
		{"expired", s.APIBaseURL(), "Bearer " + signJWT(t, keys[0], claims(appID, -11*time.Minute, -time.Minute)), 401, expired},
		{"expires now", s.APIBaseURL(), "Bearer " + signJWT(t, keys[0], claims(appID, -5*time.Minute, 0)), 401, expired},
		{"too long", s.APIBaseURL(), "Bearer " + signJWT(t, keys[0], claims(appID, 0, 11*time.Minute)), 401, tooFar},
		{"no exp", s.APIBaseURL(), "Bearer " + signJWT(t, keys[0], jwt.MapClaims{"iss": appID, "iat": now.Unix()}), 401, expired},
		{"issued in the future", s.APIBaseURL(), "Bearer " + signJWT(t, keys[0], claims(appID, 5*time.Minute, 9*time.Minute)), 401, issuedAt},
		{"unknown app", s.APIBaseURL(), "Bearer " + signJWT(t, keys[0], claims(99, -time.Minute, 9*time.Minute)), 401, undecodable},
		{"HS256", s.APIBaseURL(), "Bearer " + hs256, 401, undecodable},
		{"garbage", s.APIBaseURL(), "Bearer not.a.jwt", 401, undecodable},
		{"personal access token", s.APIBaseURL(), "Bearer " + token, 401, undecodable},
		{"none", s.APIBaseURL(), "", 401, undecodable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, s, call{url: tt.base + "/app", header: map[string]string{"Authorization": tt.auth}})
			got := decode[map[string]any](t, b)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET /app: %d %s; want %d", resp.StatusCode, b, tt.status)
			}
			if tt.status != 200 {
				want := map[string]any{"message": tt.message, "documentation_url": "https://docs.github.com/rest", "status": "401"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
				return
			}
			if got["id"] != float64(appID) || got["slug"] != "app-42" || got["client_id"] != "Iv1.fake42" {
				t.Errorf("GET /app = %s; want app 42", b)
			}
		})
	}
}

func TestAddAppAndInstallationErrors(t *testing.T) {
	s, _ := newAppServer(t, nil)
	keys := testKeys()
	t.Run("apps", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			app  fakegithub.App
			ok   bool
		}{
			{"private key PEM", fakegithub.App{ID: 50, PublicKeyPEM: privatePEM(keys[1])}, true},
			{"PKCS#1 public key PEM", fakegithub.App{ID: 51, PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&keys[1].PublicKey)}))}, true},
			{"no id", fakegithub.App{PublicKey: &keys[0].PublicKey}, false},
			{"no key", fakegithub.App{ID: 52}, false},
			{"not PEM", fakegithub.App{ID: 53, PublicKeyPEM: "ghp_x"}, false},
			{"duplicate", fakegithub.App{ID: appID, PublicKey: &keys[0].PublicKey}, false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if err := s.AddApp(tt.app); (err == nil) != tt.ok {
					t.Errorf("AddApp(%d) = %v; want ok %v", tt.app.ID, err, tt.ok)
				}
			})
		}
	})
	t.Run("installations", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			in   fakegithub.Installation
			ok   bool
		}{
			{"id chosen by the fake", fakegithub.Installation{AppID: otherAppID, Account: "acme"}, true},
			{"no account", fakegithub.Installation{AppID: appID}, false},
			{"unknown app", fakegithub.Installation{AppID: 7, Account: "acme"}, false},
			{"duplicate id", fakegithub.Installation{ID: instAcme, AppID: otherAppID, Account: "initech"}, false},
			{"installed twice on an account", fakegithub.Installation{AppID: appID, Account: "ACME"}, false},
			{"bad selection", fakegithub.Installation{AppID: appID, Account: "initech", RepositorySelection: "some"}, false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				id, err := s.AddInstallation(tt.in)
				if (err == nil) != tt.ok || (tt.ok && id <= 0) {
					t.Errorf("AddInstallation = %d, %v; want ok %v", id, err, tt.ok)
				}
			})
		}
	})
}

func TestInstallationLookupAndMint(t *testing.T) {
	s, clk := newAppServer(t, nil)
	api := s.APIBaseURL()
	jwt42, jwt43 := appJWT(t, clk, appID), appJWT(t, clk, otherAppID)
	installation := func(id int64, login, typ, selection string) func(t *testing.T, b []byte) {
		return func(t *testing.T, b []byte) {
			got := decode[map[string]any](t, b)
			acct, _ := got["account"].(map[string]any)
			if got["id"] != float64(id) || acct["login"] != login || got["target_type"] != typ || got["repository_selection"] != selection ||
				got["access_tokens_url"] != api+"/app/installations/"+strconv.FormatInt(id, 10)+"/access_tokens" {
				t.Errorf("got %s; want installation %d of %s (%s, %s)", b, id, login, typ, selection)
			}
		}
	}
	tests := []struct {
		name    string
		method  string
		path    string
		jwt     string
		body    string
		status  int
		message string
		check   func(t *testing.T, b []byte)
	}{
		{"org", "GET", "/orgs/acme/installation", jwt42, "", 200, "", installation(instAcme, "acme", "Organization", "all")},
		{"org, any case", "GET", "/orgs/ACME/installation", jwt42, "", 200, "", installation(instAcme, "acme", "Organization", "all")},
		{"user", "GET", "/users/octocat/installation", jwt42, "", 200, "", installation(instUser, "octocat", "User", "selected")},
		{"org through /users", "GET", "/users/acme/installation", jwt42, "", 200, "", installation(instAcme, "acme", "Organization", "all")},
		{"user through /orgs", "GET", "/orgs/octocat/installation", jwt42, "", 404, "Not Found", nil},
		{"not installed", "GET", "/orgs/initech/installation", jwt42, "", 404, "Not Found", nil},
		{"installed for another app", "GET", "/orgs/globex/installation", jwt42, "", 404, "Not Found", nil},
		{"the other app", "GET", "/orgs/globex/installation", jwt43, "", 200, "", installation(instGlobex, "globex", "Organization", "selected")},
		{"suspended is found", "GET", "/orgs/suspended-org/installation", jwt42, "", 200, "", func(t *testing.T, b []byte) {
			if got := decode[map[string]any](t, b); got["suspended_at"] == nil || got["suspended_by"] == nil {
				t.Errorf("got %s; want suspended_at and suspended_by", b)
			}
		}},
		{"repo", "GET", "/repos/acme/secret/installation", jwt42, "", 200, "", installation(instAcme, "acme", "Organization", "all")},
		{"repo not selected", "GET", "/repos/octocat/unchosen/installation", jwt42, "", 404, "Not Found", nil},
		{"by id", "GET", "/app/installations/2", jwt42, "", 200, "", installation(instUser, "octocat", "User", "selected")},
		{"by id of another app", "GET", "/app/installations/4", jwt42, "", 404, "Not Found", nil},
		{"list", "GET", "/app/installations", jwt42, "", 200, "", func(t *testing.T, b []byte) {
			var ids []float64
			for _, in := range decode[[]map[string]any](t, b) {
				ids = append(ids, in["id"].(float64))
			}
			if diff := cmp.Diff([]float64{instAcme, instUser, instSusp}, ids); diff != "" {
				t.Errorf("installation ids (-want +got):\n%s", diff)
			}
		}},
		{"mint", "POST", "/app/installations/1/access_tokens", jwt42, "", 201, "", func(t *testing.T, b []byte) {
			got := decode[map[string]any](t, b)
			tok, _ := got["token"].(string)
			if !strings.HasPrefix(tok, "ghs_") || len(tok) != 40 {
				t.Errorf("token %q; want ghs_ and 36 letters or digits", tok)
			}
			want := clk.Now().Add(time.Hour)
			if got["expires_at"] != want.Format(time.RFC3339) {
				t.Errorf("expires_at %v; want %s", got["expires_at"], want.Format(time.RFC3339))
			}
			if exp, ok := s.InstallationTokenExpiry(tok); !ok || !exp.Equal(want) {
				t.Errorf("InstallationTokenExpiry = %v, %v; want %v, true", exp, ok, want)
			}
			wantPerms := map[string]any{"contents": "write", "metadata": "read", "pull_requests": "write"}
			if diff := cmp.Diff(wantPerms, got["permissions"]); diff != "" || got["repository_selection"] != "all" {
				t.Errorf("permissions (-want +got):\n%s; repository_selection %v", diff, got["repository_selection"])
			}
			if _, ok := got["repositories"]; ok {
				t.Errorf("repositories in %s; want none for a token not narrowed", b)
			}
		}},
		{"mint for a selected installation", "POST", "/app/installations/2/access_tokens", jwt42, "{}", 201, "", func(t *testing.T, b []byte) {
			if got := decode[map[string]any](t, b); got["repository_selection"] != "selected" {
				t.Errorf("got %s; want repository_selection selected", b)
			}
		}},
		{"mint narrowed permissions", "POST", "/app/installations/1/access_tokens", jwt42, `{"permissions":{"contents":"read"}}`, 201, "", func(t *testing.T, b []byte) {
			if diff := cmp.Diff(map[string]any{"contents": "read"}, decode[map[string]any](t, b)["permissions"]); diff != "" {
				t.Errorf("permissions (-want +got):\n%s", diff)
			}
		}},
		{"mint narrowed repositories", "POST", "/app/installations/1/access_tokens", jwt42, `{"repositories":["WIDGETS"]}`, 201, "", func(t *testing.T, b []byte) {
			got := decode[struct {
				Selection    string `json:"repository_selection"`
				Repositories []struct {
					FullName string `json:"full_name"`
				} `json:"repositories"`
			}](t, b)
			if got.Selection != "selected" || len(got.Repositories) != 1 || got.Repositories[0].FullName != "acme/widgets" {
				t.Errorf("got %s; want selected [acme/widgets]", b)
			}
		}},
		{"mint permission not granted", "POST", "/app/installations/1/access_tokens", jwt42, `{"permissions":{"administration":"write"}}`, 422, "The permissions requested are not granted to this installation.", nil},
		{"mint write where read is granted", "POST", "/app/installations/1/access_tokens", jwt42, `{"permissions":{"metadata":"write"}}`, 422, "The permissions requested are not granted to this installation.", nil},
		{"mint repository of another account", "POST", "/app/installations/1/access_tokens", jwt42, `{"repositories":["hidden"]}`, 422, "There is at least one repository that does not exist or is not accessible to the parent installation.", nil},
		{"mint repository not selected", "POST", "/app/installations/2/access_tokens", jwt42, `{"repositories":["unchosen"]}`, 422, "There is at least one repository that does not exist or is not accessible to the parent installation.", nil},
		{"mint bad JSON", "POST", "/app/installations/1/access_tokens", jwt42, `{`, 400, "Problems parsing JSON", nil},
		{"mint suspended", "POST", "/app/installations/3/access_tokens", jwt42, "", 403, "This installation has been suspended", nil},
		{"mint missing", "POST", "/app/installations/999/access_tokens", jwt42, "", 404, "Not Found", nil},
		{"mint another app's", "POST", "/app/installations/4/access_tokens", jwt42, "", 404, "Not Found", nil},
		{"mint with a personal access token", "POST", "/app/installations/1/access_tokens", token, "", 401, "A JSON web token could not be decoded", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, s, call{method: tt.method, url: api + tt.path, body: tt.body, header: bearer(tt.jwt)})
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s: %d %s; want %d", tt.method, tt.path, resp.StatusCode, b, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q; want JSON", ct)
			}
			if tt.message != "" {
				if got := decode[map[string]any](t, b)["message"]; got != tt.message {
					t.Errorf("message %q; want %q", got, tt.message)
				}
			}
			if tt.check != nil {
				tt.check(t, b)
			}
		})
	}
	// The flow githubapp follows for a cold owner: one lookup, one mint.
	s.ResetStats()
	do(t, s, call{url: api + "/orgs/acme/installation", header: bearer(jwt42)})
	mint(t, s, clk, instAcme, "")
	st := s.Stats()
	if st.API != 2 || st.Routes[fakegithub.RouteOrgInstallation] != 1 || st.Routes[fakegithub.RouteCreateInstallToken] != 1 {
		t.Errorf("stats %+v; want 2 API requests: 1 %s, 1 %s", st, fakegithub.RouteOrgInstallation, fakegithub.RouteCreateInstallToken)
	}
}

func TestInstallationTokenAccess(t *testing.T) {
	s, clk := newAppServer(t, nil)
	api := s.APIBaseURL()
	all := mint(t, s, clk, instAcme, "")
	selected := mint(t, s, clk, instUser, "")
	readOnly := mint(t, s, clk, instAcme, `{"permissions":{"contents":"read","metadata":"read"}}`)
	narrowed := mint(t, s, clk, instAcme, `{"repositories":["widgets"]}`)
	head, _ := s.Ref("acme", "widgets", "main")
	raw := func(tok string) map[string]string {
		return map[string]string{"Authorization": "token " + tok, "Accept": "application/vnd.github.raw"}
	}
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		message                  string
	}{
		{"private repo of its account", "GET", "/repos/acme/secret/contents/x.txt", "", raw(all), 200, ""},
		{"under /api/v3", "GET", "/api/v3/repos/acme/secret", "", bearer(all), 200, ""},
		{"write in its account", "POST", "/repos/acme/widgets/git/refs", `{"ref":"refs/heads/app","sha":"` + head + `"}`, bearer(all), 201, ""},
		{"pull requests of its account", "GET", "/repos/acme/widgets/pulls", "", bearer(all), 200, ""},
		{"private repo of another owner", "GET", "/repos/globex/hidden", "", bearer(all), 404, "Not Found"},
		{"private contents of another owner", "GET", "/repos/globex/hidden/contents/README.md", "", raw(all), 404, "Not Found"},
		{"public repo of another owner, read", "GET", "/repos/globex/open/contents/README.md", "", raw(all), 200, ""},
		{"public repo of another owner, write", "POST", "/repos/globex/open/git/blobs", `{"content":"x"}`, bearer(all), 403, "Resource not accessible by integration"},
		{"selected repository", "GET", "/repos/octocat/chosen/contents/README.md", "", raw(selected), 200, ""},
		{"repository not selected", "GET", "/repos/octocat/unchosen/contents/README.md", "", raw(selected), 404, "Not Found"},
		{"read-only token reads", "GET", "/repos/acme/secret/git/trees/main", "", bearer(readOnly), 200, ""},
		{"read-only token writes", "POST", "/repos/acme/widgets/git/refs", `{"ref":"refs/heads/ro","sha":"` + head + `"}`, bearer(readOnly), 403, "Resource not accessible by integration"},
		{"no pull_requests permission", "GET", "/repos/acme/widgets/pulls", "", bearer(readOnly), 403, "Resource not accessible by integration"},
		{"metadata needs no permission", "GET", "/repos/acme/secret", "", bearer(readOnly), 200, ""},
		{"narrowed token, its repository", "GET", "/repos/acme/widgets/contents/README.md", "", raw(narrowed), 200, ""},
		{"narrowed token, another repository", "GET", "/repos/acme/secret", "", bearer(narrowed), 404, "Not Found"},
		{"unknown ghs_ token", "GET", "/repos/acme/widgets", "", bearer("ghs_" + strings.Repeat("x", 36)), 401, "Bad credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := do(t, s, call{method: tt.method, url: api + tt.path, body: tt.body, header: tt.header})
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s: %d %s; want %d", tt.method, tt.path, resp.StatusCode, b, tt.status)
			}
			if tt.message != "" {
				if got := decode[map[string]any](t, b)["message"]; got != tt.message {
					t.Errorf("message %q; want %q", got, tt.message)
				}
			}
		})
	}

	names := func(t *testing.T, path, tok string) []string {
		t.Helper()
		resp, b := do(t, s, call{url: api + path, header: bearer(tok)})
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		var list []map[string]any
		if strings.HasPrefix(path, "/installation/") {
			var page struct {
				Total        int              `json:"total_count"`
				Repositories []map[string]any `json:"repositories"`
			}
			if err := json.Unmarshal(b, &page); err != nil {
				t.Fatal(err)
			}
			if page.Total != len(page.Repositories) {
				t.Errorf("total_count %d; want %d", page.Total, len(page.Repositories))
			}
			list = page.Repositories
		} else {
			list = decode[[]map[string]any](t, b)
		}
		var out []string
		for _, r := range list {
			out = append(out, r["full_name"].(string))
		}
		return out
	}
	for _, tt := range []struct {
		name, path, tok string
		want            []string
	}{
		{"installation repositories, all", "/installation/repositories", all, []string{"acme/widgets", "acme/secret"}},
		{"installation repositories, selected", "/installation/repositories", selected, []string{"octocat/chosen"}},
		{"installation repositories, narrowed", "/installation/repositories", narrowed, []string{"acme/widgets"}},
		{"org repositories of its account", "/orgs/acme/repos?sort=created&direction=asc", all, []string{"acme/widgets", "acme/secret"}},
		{"org repositories of another owner: public only", "/orgs/globex/repos", all, []string{"globex/open"}},
		{"user repositories: public only, even its installation's", "/users/octocat/repos", selected, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, names(t, tt.path, tt.tok)); diff != "" {
				t.Errorf("GET %s (-want +got):\n%s", tt.path, diff)
			}
		})
	}

	t.Run("installation repositories with a personal access token", func(t *testing.T) {
		resp, b := do(t, s, call{url: api + "/installation/repositories"})
		if resp.StatusCode != 403 {
			t.Errorf("GET /installation/repositories with a PAT: %d %s; want 403", resp.StatusCode, b)
		}
	})
	t.Run("graphql", func(t *testing.T) {
		q := `query { a: repository(owner: "acme", name: "secret") { name } b: repository(owner: "globex", name: "hidden") { name } ` +
			`c: repositoryOwner(login: "globex") { repositories(first: 10) { nodes { name } } } }`
		resp, b := do(t, s, call{method: "POST", url: api + "/graphql", body: `{"query":` + strconv.Quote(q) + `}`, header: bearer(all)})
		var got struct {
			Data struct {
				A *struct{ Name string }
				B *struct{ Name string }
				C struct {
					Repositories struct{ Nodes []struct{ Name string } }
				}
			}
			Errors []struct{ Type string }
		}
		if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("graphql: %d %s %v", resp.StatusCode, b, err)
		}
		if got.Data.A == nil || got.Data.B != nil || len(got.Errors) != 1 || got.Errors[0].Type != "NOT_FOUND" {
			t.Errorf("got %s; want acme/secret, and NOT_FOUND for globex/hidden", b)
		}
		if n := got.Data.C.Repositories.Nodes; len(n) != 1 || n[0].Name != "open" {
			t.Errorf("globex repositories %v; want [open]", n)
		}
	})
	t.Run("an installation token cannot call app endpoints", func(t *testing.T) {
		resp, b := do(t, s, call{url: api + "/orgs/acme/installation", header: bearer(all)})
		if resp.StatusCode != 401 || decode[map[string]any](t, b)["message"] != "A JSON web token could not be decoded" {
			t.Errorf("got %d %s; want 401 A JSON web token could not be decoded", resp.StatusCode, b)
		}
	})
	t.Run("expired after an hour", func(t *testing.T) {
		clk.Advance(59 * time.Minute)
		if resp, b := do(t, s, call{url: api + "/repos/acme/secret", header: bearer(all)}); resp.StatusCode != 200 {
			t.Fatalf("after 59 minutes: %d %s; want 200", resp.StatusCode, b)
		}
		clk.Advance(time.Minute)
		resp, b := do(t, s, call{url: api + "/repos/acme/widgets", header: bearer(all)})
		if resp.StatusCode != 401 || decode[map[string]any](t, b)["message"] != "Bad credentials" {
			t.Errorf("after an hour: %d %s; want 401 Bad credentials", resp.StatusCode, b)
		}
	})
}

// With no Options.Tokens every request is authenticated, but installation
// tokens keep their limits and their expiry.
func TestInstallationTokenWithoutTokens(t *testing.T) {
	s, clk := newAppServer(t, &fakegithub.Options{})
	tok := mint(t, s, clk, instAcme, "")
	for _, tt := range []struct {
		name, path string
		status     int
	}{
		{"its account", "/repos/acme/secret", 200},
		{"another owner", "/repos/globex/hidden", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if resp, b := do(t, s, call{url: s.APIBaseURL() + tt.path, header: bearer(tok)}); resp.StatusCode != tt.status {
				t.Errorf("GET %s: %d %s; want %d", tt.path, resp.StatusCode, b, tt.status)
			}
		})
	}
	clk.Advance(time.Hour)
	if resp, b := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets", header: bearer(tok)}); resp.StatusCode != 401 {
		t.Errorf("expired token: %d %s; want 401", resp.StatusCode, b)
	}
}

// TestAppShapesMatchOpenAPIExamples checks the app endpoints' bodies
// against GitHub's examples, as TestShapesMatchOpenAPIExamples does.
func TestAppShapesMatchOpenAPIExamples(t *testing.T) {
	s, clk := newAppServer(t, nil)
	b, err := os.ReadFile("testdata/github-examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex map[string]struct {
		Responses map[string]struct {
			Content map[string]map[string]any `json:"content"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	jwt42 := bearer(appJWT(t, clk, appID))
	get := func(path string, h map[string]string) []byte {
		_, b := do(t, s, call{url: s.APIBaseURL() + path, header: h})
		return b
	}
	_, minted := do(t, s, call{method: "POST", url: s.APIBaseURL() + "/app/installations/1/access_tokens", body: `{"repositories":["widgets"]}`, header: jwt42})
	tok := mint(t, s, clk, instAcme, "")
	tests := []struct {
		op   string
		got  []byte
		must []string
	}{
		{"apps/get-authenticated", get("/app", jwt42), []string{"id", "slug", "owner"}},
		{"apps/list-installations", get("/app/installations", jwt42), []string{"id", "account", "app_id"}},
		{"apps/get-installation", get("/app/installations/1", jwt42), []string{"id", "account", "app_id"}},
		{"apps/get-org-installation", get("/orgs/acme/installation", jwt42), []string{"id", "account", "app_id", "repository_selection", "suspended_at"}},
		{"apps/get-user-installation", get("/users/octocat/installation", jwt42), []string{"id", "account", "app_id", "repository_selection"}},
		{"apps/get-repo-installation", get("/repos/acme/widgets/installation", jwt42), []string{"id", "account"}},
		{"apps/create-installation-access-token", minted, []string{"token", "expires_at", "permissions", "repository_selection", "repositories"}},
		{"apps/list-repos-accessible-to-installation", get("/installation/repositories", bearer(tok)), []string{"total_count", "repositories"}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			var example any
			for status, r := range ex[tt.op].Responses {
				if strings.HasPrefix(status, "2") {
					example = r.Content["application/json"]["default"]
				}
			}
			if example == nil {
				t.Fatal("no example")
			}
			got := decode[any](t, tt.got)
			// Permissions are a map of GitHub's permission names; client_id is
			// in the installation schema (and in the org, user and repo
			// examples) but not in the examples of /app/installations.
			extra := slices.DeleteFunc(extraKeys("", got, example), func(k string) bool {
				k = strings.TrimPrefix(k, "[].")
				return strings.HasPrefix(k, "permissions.") || k == "client_id"
			})
			if len(extra) > 0 {
				t.Errorf("keys GitHub's example does not have: %v", extra)
			}
			first := got
			if l, ok := got.([]any); ok && len(l) > 0 {
				first = l[0]
			}
			m, _ := first.(map[string]any)
			for _, k := range tt.must {
				if _, ok := m[k]; !ok {
					t.Errorf("missing key %q in %.300s", k, tt.got)
				}
			}
		})
	}
}

// TestAppInstallationEndToEnd reads a file through scmkit's own stack:
// credentials.Resolver mints an installation token from the app's config
// (one lookup, one mint), the GitHub adapter reads with it, and a second
// read costs only the read.
func TestAppInstallationEndToEnd(t *testing.T) {
	key := privatePEM(testKeys()[0])
	for _, tt := range []struct {
		name string
		ghe  bool
	}{
		{"github.com shape", false},
		{"GitHub Enterprise shape", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Only installation tokens and a PAT nobody sends are accepted.
			s := fakegithub.New(&fakegithub.Options{Tokens: []string{"ghp_unused"}})
			t.Cleanup(s.Close)
			if err := s.AddApp(fakegithub.App{ID: appID, PublicKeyPEM: key}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddInstallation(fakegithub.Installation{AppID: appID, Account: "acme"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Private: true, Files: []fakegithub.File{
				{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
				t.Fatal(err)
			}
			api := s.APIBaseURL()
			if tt.ghe {
				api = s.GHEAPIBaseURL()
			}
			reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
				Host: s.Host(), APIBaseURL: api,
				Apps: []integrations.GitHubAppConfig{{AppID: appID, PrivateKey: integrations.NewSecret(key)}},
			}}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := credentials.NewResolver(reg, nil)
			if err != nil {
				t.Fatal(err)
			}
			client, err := scm.NewClient(reg, res, &scm.Options{
				Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)},
			})
			if err != nil {
				t.Fatal(err)
			}
			const contents = "GET /repos/{owner}/{repo}/contents/{path...}"
			url := "https://" + s.Host() + "/acme/svc/blob/main/catalog-info.yaml"
			f, err := client.ReadFile(t.Context(), url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(f.Content) != "kind: Component\n" {
				t.Errorf("read %q; want %q", f.Content, "kind: Component\n")
			}
			want := map[string]int{fakegithub.RouteRepoInstallation: 1, fakegithub.RouteCreateInstallToken: 1, contents: 1}
			st := s.Stats()
			if diff := cmp.Diff(want, st.Routes); diff != "" || st.API != 3 {
				t.Errorf("first read: %d requests; routes (-want +got):\n%s", st.API, diff)
			}
			reqs := s.Requests()
			last := reqs[len(reqs)-1]
			_, tok, _ := strings.Cut(last.Header.Get("Authorization"), " ")
			if _, ok := s.InstallationTokenExpiry(tok); last.Route != contents || !ok {
				t.Errorf("the read was %s with a token the fake did not mint (%q); want the installation token", last.Route, redact(tok))
			}
			if slices.ContainsFunc(reqs, func(r fake.Request) bool {
				return r.Route != contents && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ghs_")
			}) {
				t.Error("an app endpoint got the installation token; want the JWT")
			}

			s.ResetStats()
			if _, err := client.ReadFile(t.Context(), url, nil); err != nil {
				t.Fatal(err)
			}
			st = s.Stats()
			if diff := cmp.Diff(map[string]int{contents: 1}, st.Routes); diff != "" || st.API != 1 {
				t.Errorf("second read: %d requests; routes (-want +got):\n%s", st.API, diff)
			}
		})
	}
}

// redact shows a token's prefix only.
func redact(tok string) string { return tok[:min(len(tok), 4)] + "…" }
