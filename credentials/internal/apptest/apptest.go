// Package apptest runs scm/scmtest/fakegithub, scmkit's one fake GitHub,
// for the tests of credentials and githubapp, with the little those tests
// need on top of it: two registered apps that share one key, installations
// described by one struct, every repository name of an installed owner
// existing (as the tests name them freely), request counts per concrete
// path, a hook that answers in the fake's place, and which installation a
// token was minted for. The App endpoints, JWT checks, token minting and
// their bodies are the fake's.
//
// It sits in front of the fake as a reverse proxy on its own loopback
// listener, so that counts and the hook see every request, faulted ones
// included, as a server would.
package apptest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// The ids of the two apps the fake knows. Both sign with PrivateKeyPEM;
// Add installs both on each account.
const (
	AppID  = 4242
	AppID2 = 4343
)

// AppID2Offset is added to an installation's ID for its AppID2 twin: the
// fake gives each app its own installation.
const AppID2Offset = 100000

// key is generated once per test binary: RSA key generation is slow.
var key = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// PrivateKeyPEM returns the apps' private key, PEM-encoded (PKCS#1).
func PrivateKeyPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key())}))
}

// Installation is one installation of both apps on an account.
type Installation struct {
	ID        int64
	Login     string
	Type      string   // "Organization" (default) or "User"
	Selection string   // "all" (default) or "selected"
	Repos     []string // for "selected"
	Suspended bool
	// Permissions granted; default {"contents": "read", "metadata": "read"}.
	Permissions map[string]string
}

// Server is the fake GitHub API, at URL.
type Server struct {
	URL string
	gh  *fakegithub.Server
	srv *httptest.Server

	mu     sync.Mutex
	total  int
	counts map[string]int
	fault  func(w http.ResponseWriter, r *http.Request) bool
	issued map[string]int64 // token -> installation id
	all    map[string]bool  // lower-cased logins installed on all repositories
}

// New starts a fake whose clock is now (nil: time.Now), closed when the
// test ends.
func New(t testing.TB, now func() time.Time) *Server {
	s := Start(now)
	t.Cleanup(s.Close)
	return s
}

// Start is New for code without a testing.TB (examples); the caller must
// Close the server.
func Start(now func() time.Time) *Server {
	s := &Server{gh: fakegithub.New(&fakegithub.Options{Now: now}), counts: map[string]int{}, issued: map[string]int64{}, all: map[string]bool{}}
	perms := map[string]string{"contents": "read", "metadata": "read"}
	for _, id := range []int64{AppID, AppID2} {
		if err := s.gh.AddApp(fakegithub.App{ID: id, PublicKey: &key().PublicKey, Permissions: perms}); err != nil {
			panic(err)
		}
	}
	target, _ := url.Parse(s.gh.URL())
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the fake writes links with the host it was asked on
		},
		ModifyResponse: s.record,
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: the server cancels r.Context() when the
		// client goes away only once the body has been consumed, and a
		// hook that waits for that must not hang.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.total++
		s.counts[r.Method+" "+r.URL.Path]++
		fault := s.fault
		s.mu.Unlock()
		if fault != nil && fault(w, r) {
			return
		}
		s.ensureRepo(r)
		proxy.ServeHTTP(w, r)
	}))
	s.URL = s.srv.URL
	return s
}

// Close stops the fake.
func (s *Server) Close() {
	s.srv.Close()
	s.gh.Close()
}

// Add installs both apps on each account (the AppID2 installation's id
// is ID+AppID2Offset).
func (s *Server) Add(ins ...Installation) {
	for _, in := range ins {
		typ := fakegithub.Organization
		if in.Type == "User" {
			typ = fakegithub.User
		}
		s.gh.AddOwner(in.Login, typ)
		for _, name := range in.Repos {
			s.gh.AddRepo(fakegithub.Repo{Owner: in.Login, Name: name}) //nolint:errcheck // exists: fine
		}
		perms := in.Permissions
		if perms == nil {
			perms = map[string]string{"contents": "read", "metadata": "read"}
		}
		for i, app := range []int64{AppID, AppID2} {
			id := in.ID
			if i == 1 {
				id += AppID2Offset
			}
			_, err := s.gh.AddInstallation(fakegithub.Installation{ID: id, AppID: app, Account: in.Login, Suspended: in.Suspended,
				RepositorySelection: in.Selection, Repositories: in.Repos, Permissions: maps.Clone(perms)})
			if err != nil {
				panic(err)
			}
		}
		if in.Selection != "selected" {
			s.mu.Lock()
			s.all[strings.ToLower(in.Login)] = true
			s.mu.Unlock()
		}
	}
}

// ensureRepo creates the repository a GET /repos/{owner}/{repo}/... asks
// about when its owner has an installation on all repositories: in these
// tests, every repository name of such an owner exists.
func (s *Server) ensureRepo(r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "repos" {
		return
	}
	s.mu.Lock()
	all := s.all[strings.ToLower(parts[1])]
	s.mu.Unlock()
	if all {
		s.gh.AddRepo(fakegithub.Repo{Owner: parts[1], Name: parts[2]}) //nolint:errcheck // exists: fine
	}
}

// record notes which installation a minted token belongs to.
func (s *Server) record(resp *http.Response) error {
	req := resp.Request
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	if req.Method != http.MethodPost || resp.StatusCode != http.StatusCreated || len(parts) != 4 || parts[3] != "access_tokens" {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return err
	}
	var tok struct {
		Token string `json:"token"`
	}
	id, _ := strconv.ParseInt(parts[2], 10, 64)
	if json.Unmarshal(body, &tok) == nil && tok.Token != "" {
		s.mu.Lock()
		s.issued[tok.Token] = id
		s.mu.Unlock()
	}
	return nil
}

// SetFault installs f, called first for every request; if it returns true
// it has answered and the fake is not asked. The request is counted
// either way.
func (s *Server) SetFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// Requests returns the number of requests received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Count returns the number of requests for one method and path, e.g.
// "GET /orgs/acme/installation".
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// Routes returns every method and path requested with its count.
func (s *Server) Routes() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counts)
}

// InstallationOf returns the installation a token was minted for, or 0.
func (s *Server) InstallationOf(token string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued[token]
}

// NotModified returns the number of requests the fake answered 304 Not
// Modified (an If-None-Match that matched): GitHub does not count them
// against the rate limit.
func (s *Server) NotModified() int { return s.gh.Stats().NotModified }
