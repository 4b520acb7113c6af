package githubscm_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
)

// authLog records the Authorization header of every request a server
// receives.
type authLog struct {
	mu    sync.Mutex
	auths []string
}

func (l *authLog) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.auths = append(l.auths, r.Header.Get("Authorization"))
		l.mu.Unlock()
		h(w, r)
	}
}

func (l *authLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.auths...)
}

func hostOfURL(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// TestReadTreeRedirectScheme: the tarball redirect of an https API is
// followed over https (another host, or a path on the API host as GitHub
// Enterprise Server's /_codeload), and refused when it downgrades to plain
// http, before anything is sent there.
func TestReadTreeRedirectScheme(t *testing.T) {
	const secret = "ARCHIVE_TOKEN_SHOULD_NOT_SHOW"
	var plainLog, codeloadLog authLog
	plain := httptest.NewServer(plainLog.wrap(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain archive") }))
	t.Cleanup(plain.Close)
	codeload := httptest.NewTLSServer(codeloadLog.wrap(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "codeload archive") }))
	t.Cleanup(codeload.Close)
	var api *httptest.Server
	api = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v3/repos/acme/svc/tarball/downgrade":
			http.Redirect(w, r, plain.URL+"/acme/svc/legacy.tar.gz/refs/heads/main?token="+secret, http.StatusFound)
		case "/api/v3/repos/acme/svc/tarball/codeload":
			http.Redirect(w, r, codeload.URL+"/acme/svc/legacy.tar.gz/refs/heads/main?token="+secret, http.StatusFound)
		case "/api/v3/repos/acme/svc/tarball/same-host":
			http.Redirect(w, r, api.URL+"/_codeload/acme/svc/legacy.tar.gz/refs/heads/main?token="+secret, http.StatusFound)
		case "/_codeload/acme/svc/legacy.tar.gz/refs/heads/main":
			io.WriteString(w, "same-host archive")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(api.Close)
	d, err := githubscm.New(&integrations.Integration{Kind: integrations.GitHub, Host: hostOfURL(t, api.URL), APIBaseURL: api.URL + "/api/v3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := api.Client() // trusts every httptest TLS server
	for _, tc := range []struct {
		name, ref string
		want      string // archive body; "" means refused
	}{
		{"https to another host", "codeload", "codeload archive"},
		{"https on the API host", "same-host", "same-host archive"},
		{"downgrade to http", "downgrade", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := d.ReadTree(t.Context(), hc, &driver.TreeRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: tc.ref})
			if tc.want == "" {
				if errcode.CodeOf(err) != errcode.Unknown || !strings.Contains(err.Error(), "plain http") {
					t.Fatalf("ReadTree: %v, %v; want Unknown naming the plain-http redirect", tree, err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows the archive token", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tree.Archive.Body.Close()
			b, err := io.ReadAll(tree.Archive.Body)
			if err != nil || string(b) != tc.want {
				t.Errorf("archive = %q, %v; want %q", b, err, tc.want)
			}
		})
	}
	if n := len(plainLog.get()); n != 0 {
		t.Errorf("the plain-http host received %d requests; want 0", n)
	}
}

// TestReadTreeDownloadIsARedirectHop: a tarball redirect to the host of
// another configured integration is sent as a redirect hop from the API,
// so credentials.Transport does not attach that integration's credential.
func TestReadTreeDownloadIsARedirectHop(t *testing.T) {
	var otherLog, apiLog authLog
	other := httptest.NewServer(otherLog.wrap(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "archive") }))
	t.Cleanup(other.Close)
	api := httptest.NewServer(apiLog.wrap(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/repos/acme/svc/tarball/main" {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, other.URL+"/acme/svc/legacy.tar.gz/refs/heads/main", http.StatusFound)
	}))
	t.Cleanup(api.Close)
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{
		{Host: hostOfURL(t, api.URL), APIBaseURL: api.URL + "/api/v3", Token: integrations.NewSecret("this-token")},
		{Host: hostOfURL(t, other.URL), APIBaseURL: other.URL + "/api/v3", Token: integrations.NewSecret("other-token")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	in, ok := reg.ByHost(hostOfURL(t, api.URL))
	if !ok {
		t.Fatal("no integration for the API host")
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := githubscm.New(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &credentials.Transport{Resolver: res, Request: credentials.Request{Owner: "acme", Repo: "svc"}}}
	tree, err := d.ReadTree(t.Context(), hc, &driver.TreeRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	tree.Archive.Body.Close()
	if got := apiLog.get(); len(got) != 1 || got[0] != "Bearer this-token" {
		t.Errorf("API Authorization headers = %q; want one with this integration's token", got)
	}
	if got := otherLog.get(); len(got) != 1 || got[0] != "" {
		t.Errorf("other integration's host: Authorization headers = %q; want one request without", got)
	}
}
