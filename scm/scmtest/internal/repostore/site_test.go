package repostore

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

func TestCredentialsCheck(t *testing.T) {
	c := Credentials{Tokens: []string{"tok"}, Users: map[string]string{"alice": "pw"},
		Minted: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer minted" }}
	withPasswords := c
	withPasswords.TokenPasswords = true
	for _, tc := range []struct {
		name string
		c    Credentials
		auth string
		want AuthResult
	}{
		{"token", c, "Bearer tok", AuthOK},
		{"token, scheme in another case", c, "bearer tok", AuthOK},
		{"minted token", c, "Bearer minted", AuthOK},
		{"bad token", c, "Bearer nope", AuthBadToken},
		{"password", c, basic("alice", "pw"), AuthOK},
		{"bad password", c, basic("alice", "nope"), AuthBadPassword},
		{"token as password, not accepted", c, basic("alice", "tok"), AuthBadPassword},
		{"token as password, accepted", withPasswords, basic("bob", "tok"), AuthOK},
		{"other scheme", c, "Token tok", AuthBadPassword},
		{"none", c, "", AuthMissing},
		{"anyone", Credentials{Anyone: true}, "", AuthOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if got := tc.c.Check(r); got != tc.want {
				t.Errorf("Check(%q) = %v; want %v", tc.auth, got, tc.want)
			}
		})
	}
}

func basic(user, pass string) string {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

func TestAnswerFault(t *testing.T) {
	limit := map[string]string{"X-Limit": "1"}
	for _, tc := range []struct {
		f                       fake.Fault
		answered                bool
		status                  int
		retryAfter, limitHeader string
		written                 bool // by the fake's writer, not as a page
	}{
		{f: fake.Fault{Kind: fake.FaultUnauthorized}, answered: true, status: 401, written: true},
		{f: fake.Fault{Kind: fake.FaultNotFound}, answered: true, status: 404, written: true},
		{f: fake.Fault{Kind: fake.FaultUnprocessable}, answered: true, status: 400, written: true},
		{f: fake.Fault{Kind: fake.FaultRateLimit, RetryAfter: time.Hour}, answered: true, status: 429, retryAfter: "3600", limitHeader: "1", written: true},
		{f: fake.Fault{Kind: fake.FaultTooManyRequests}, answered: true, status: 429, retryAfter: "60", written: true},
		{f: fake.Fault{Kind: fake.FaultSecondaryRateLimit}, answered: true, status: 429, retryAfter: "60", written: true},
		{f: fake.Fault{Kind: fake.FaultRateLimitResetOnly, RetryAfter: time.Hour}, answered: true, status: 429, written: true},
		{f: fake.Fault{Kind: fake.FaultServerError}, answered: true, status: 500, written: true},
		{f: fake.Fault{Kind: fake.FaultServerError, Status: 502}, answered: true, status: 502},
		{f: fake.Fault{Kind: fake.FaultEchoCredentials}, answered: true, status: 400, written: true},
		{f: fake.Fault{Kind: fake.FaultEchoCredentials, Status: 503}, answered: true, status: 503},
		{f: fake.Fault{Kind: fake.FaultSlow}},
	} {
		t.Run(tc.f.Kind.String(), func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer secret")
			written := false
			answered := AnswerFault(w, r, tc.f, limit, func(status int, kind fake.FaultKind, echo string) {
				written = true
				if kind != tc.f.Kind || (echo != "") != (kind == fake.FaultEchoCredentials) {
					t.Errorf("write(%d, %v, %q): wrong kind or echo", status, kind, echo)
				}
				w.WriteHeader(status)
			})
			if answered != tc.answered || written != tc.written {
				t.Fatalf("answered %v, written by the fake %v; want %v, %v", answered, written, tc.answered, tc.written)
			}
			if !answered {
				return
			}
			if w.Code != tc.status || w.Header().Get("Retry-After") != tc.retryAfter || w.Header().Get("X-Limit") != tc.limitHeader {
				t.Errorf("status %d, Retry-After %q, X-Limit %q; want %d, %q, %q", w.Code,
					w.Header().Get("Retry-After"), w.Header().Get("X-Limit"), tc.status, tc.retryAfter, tc.limitHeader)
			}
		})
	}
}

func TestAccess(t *testing.T) {
	var a Access
	a.Add("group", "devs")
	if !a.Known("group", "devs") || a.Known("user", "devs") || a.Known("group", "ops") {
		t.Error("Known does not tell the kinds and names apart")
	}
	a.Set("ACME", "Svc", Grant{Group: "devs", Permission: "read"})
	a.Set("acme", "svc", Grant{User: "alice", Permission: "admin"})
	a.Set("acme", "svc", Grant{Group: "devs", Permission: "write"}) // replaces in place
	a.Set("acme", "other", Grant{Group: "devs", Permission: "read"})
	want := []Grant{{Group: "devs", Permission: "write"}, {User: "alice", Permission: "admin"}}
	got := a.Grants("Acme", "SVC")
	if !slices.Equal(got, want) {
		t.Errorf("Grants = %+v; want %+v", got, want)
	}
	got[0].Permission = "changed"
	if a.Grants("acme", "svc")[0].Permission != "write" {
		t.Error("Grants returned the store's own slice")
	}
}

// TestSiteRoutes: HandleRepos finds the repository (in any case), answers
// NotFound for a missing one, and refuses bad credentials before either.
func TestSiteRoutes(t *testing.T) {
	site, _ := NewSite[int]("test", time.Now, "me", nil, make(chan struct{}))
	site.Count = func(n *int, _ string) { *n++ }
	site.Auth = Credentials{Tokens: []string{"tok"}}
	site.OwnerParam = "owner"
	site.Refuse = func(w http.ResponseWriter, _ *http.Request, why AuthResult) { w.WriteHeader(401) }
	site.NotFound = func(w http.ResponseWriter, _ *http.Request, o *Owner) {
		if o == nil {
			w.WriteHeader(http.StatusGone) // no owner either
			return
		}
		w.WriteHeader(404)
	}
	if _, err := site.Add("Acme", Repo{Slug: "svc"}, nil); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	site.HandleRepos(mux, "/repos/{owner}/{slug}", map[string]func(http.ResponseWriter, *http.Request, *Repo){
		"GET ": func(w http.ResponseWriter, _ *http.Request, rp *Repo) { w.Write([]byte(rp.Slug)) },
	})
	srv := site.Start(mux)
	defer site.Close()
	for _, tc := range []struct {
		path, auth string
		want       int
	}{
		{"/repos/ACME/SVC", "Bearer tok", 200},
		{"/repos/acme/nope", "Bearer tok", 404},
		{"/repos/nobody/svc", "Bearer tok", http.StatusGone},
		{"/repos/acme/svc", "Bearer nope", 401},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		req.Header.Set("Authorization", tc.auth)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s with %q: status %d; want %d", tc.path, tc.auth, resp.StatusCode, tc.want)
		}
	}
	if n, routes, _ := site.Core.Log().Stats(); n != 4 || routes["GET /repos/{owner}/{slug}"] != 4 {
		t.Errorf("counted %d requests, routes %v; want 4 on the one route", n, routes)
	}
	site.Close() // again: a no-op
}
