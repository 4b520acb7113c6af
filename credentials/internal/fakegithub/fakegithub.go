// Package fakegithub is an httptest server that answers GitHub's App
// endpoints the way GitHub does, for the tests of credentials and
// githubapp. Its bodies are GitHub's own examples from the REST API
// description (githubapp/testdata), with ids, logins, tokens and expiry
// times filled in. It checks the app JWT on every app endpoint, counts
// requests, and lets a test inject faults.
package fakegithub

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The ids of the fake's two apps. Both sign with PrivateKeyPEM (the fake
// cannot tell them apart otherwise); every installation belongs to both.
const (
	AppID  = 4242
	AppID2 = 4343
)

// key is generated once per test binary: RSA key generation is slow.
var key = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// PrivateKeyPEM returns the app's private key, PEM-encoded (PKCS#1).
func PrivateKeyPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key())}))
}

// Installation is one installation of the fake's app.
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

// Server is the fake. Its URL is the API base URL.
type Server struct {
	*httptest.Server
	fixtures fs.FS
	now      func() time.Time

	mu       sync.Mutex
	installs []*Installation
	counts   map[string]int
	total    int
	issued   map[string]int64 // token -> installation id
	minted   int
	fault    func(w http.ResponseWriter, r *http.Request) bool
	lifetime time.Duration
}

// New starts a fake answering from the GitHub example bodies in fixtures
// (the files of githubapp/testdata). now is the clock for token expiry
// times and JWT checks (nil: time.Now). The server is closed when the
// test ends.
func New(t testing.TB, fixtures fs.FS, now func() time.Time) *Server {
	s := Start(fixtures, now)
	t.Cleanup(s.Close)
	return s
}

// Start is New for code without a testing.TB (examples); the caller must
// Close the server. It panics if a fixture is missing or malformed.
func Start(fixtures fs.FS, now func() time.Time) *Server {
	if now == nil {
		now = time.Now
	}
	s := &Server{fixtures: fixtures, now: now, counts: make(map[string]int), issued: make(map[string]int64), lifetime: time.Hour}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Add adds installations.
func (s *Server) Add(ins ...Installation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range ins {
		in := ins[i]
		if in.Type == "" {
			in.Type = "Organization"
		}
		if in.Selection == "" {
			in.Selection = "all"
		}
		if in.Permissions == nil {
			in.Permissions = map[string]string{"contents": "read", "metadata": "read"}
		}
		s.installs = append(s.installs, &in)
	}
}

// SetRepos replaces the repositories of a selected-repositories
// installation.
func (s *Server) SetRepos(id int64, repos ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.installs {
		if in.ID == id {
			in.Repos = repos
		}
	}
}

// Remove deletes an installation (GitHub then answers 404 for it).
func (s *Server) Remove(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, in := range s.installs {
		if in.ID == id {
			s.installs = append(s.installs[:i], s.installs[i+1:]...)
			return
		}
	}
}

// SetFault installs f, called first for every request; if it returns true
// it has answered and the fake does nothing more. The request is counted
// either way.
func (s *Server) SetFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// SetTokenLifetime sets how long minted tokens live (default one hour).
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	s.lifetime = d
	s.mu.Unlock()
}

// Requests returns the number of requests served.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Count returns the number of requests for one route, e.g.
// "GET /orgs/acme/installation" or "POST /app/installations/1/access_tokens".
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// Routes returns every route requested with its count.
func (s *Server) Routes() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		m[k] = v
	}
	return m
}

// InstallationOf returns the installation a token was minted for, or 0.
func (s *Server) InstallationOf(token string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued[token]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// Read the body first: the server cancels r.Context() when the client
	// goes away only once the body has been consumed, and a fault that
	// waits for that must not hang.
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
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "orgs" && parts[2] == "installation":
		s.getInstallation(w, r, parts[1], "Organization")
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "users" && parts[2] == "installation":
		s.getInstallation(w, r, parts[1], "User")
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "repos" && parts[3] == "installation":
		s.getRepoInstallation(w, r, parts[1], parts[2])
	case r.Method == http.MethodPost && len(parts) == 4 && parts[0] == "app" && parts[1] == "installations" && parts[3] == "access_tokens":
		s.createToken(w, r, parts[2])
	case r.Method == http.MethodGet && r.URL.Path == "/installation/repositories":
		s.listRepos(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/app/installations":
		s.listInstallations(w, r)
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{ //nolint:errcheck // test server
		"message":           msg,
		"documentation_url": "https://docs.github.com/rest",
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // test server
}

// checkJWT verifies the app JWT as GitHub does: RS256 with the app's key,
// iss the app id, issued in the past, expiring within 10 minutes.
func (s *Server) checkJWT(w http.ResponseWriter, r *http.Request) bool {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeError(w, http.StatusUnauthorized, "A JSON web token could not be decoded")
		return false
	}
	now := s.now()
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &key().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil || (claims.Issuer != strconv.Itoa(AppID) && claims.Issuer != strconv.Itoa(AppID2)) {
		writeError(w, http.StatusUnauthorized, "A JSON web token could not be decoded")
		return false
	}
	if claims.ExpiresAt.Time.After(now.Add(10 * time.Minute)) {
		writeError(w, http.StatusUnauthorized, "'Expiration time' claim ('exp') is too far in the future")
		return false
	}
	return true
}

func (s *Server) fixture(name string) map[string]any {
	data, err := fs.ReadFile(s.fixtures, name)
	if err != nil {
		panic("fakegithub: " + err.Error())
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		panic("fakegithub: " + name + ": " + err.Error())
	}
	return m
}

func (s *Server) find(match func(*Installation) bool) *Installation {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.installs {
		if match(in) {
			cp := *in
			return &cp
		}
	}
	return nil
}

func (s *Server) installationBody(file string, in *Installation) map[string]any {
	body := s.fixture(file)
	body["id"] = in.ID
	body["app_id"] = AppID
	if acct, ok := body["account"].(map[string]any); ok {
		acct["login"] = in.Login
		acct["type"] = in.Type
	}
	body["target_type"] = in.Type
	body["repository_selection"] = in.Selection
	body["permissions"] = in.Permissions
	body["access_tokens_url"] = fmt.Sprintf("%s/app/installations/%d/access_tokens", s.URL, in.ID)
	if in.Suspended {
		body["suspended_at"] = s.now().Add(-time.Hour).UTC().Format(time.RFC3339)
		body["suspended_by"] = map[string]any{"login": "octocat", "id": 1, "type": "User"}
	}
	return body
}

func (s *Server) getInstallation(w http.ResponseWriter, r *http.Request, login, typ string) {
	if !s.checkJWT(w, r) {
		return
	}
	in := s.find(func(in *Installation) bool { return strings.EqualFold(in.Login, login) && in.Type == typ })
	if in == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	file := "get-org-installation.json"
	if typ == "User" {
		file = "get-user-installation.json"
	}
	writeJSON(w, http.StatusOK, s.installationBody(file, in))
}

// getRepoInstallation answers GET /repos/{owner}/{repo}/installation: the
// owner's installation (organisation or user) if it covers the repository,
// 404 otherwise. The fake has no repositories of its own: every repository
// name exists, and an installation on all repositories covers it.
func (s *Server) getRepoInstallation(w http.ResponseWriter, r *http.Request, owner, repo string) {
	if !s.checkJWT(w, r) {
		return
	}
	in := s.find(func(in *Installation) bool {
		if !strings.EqualFold(in.Login, owner) {
			return false
		}
		if in.Selection != "selected" {
			return true
		}
		for _, name := range in.Repos {
			if strings.EqualFold(name, repo) {
				return true
			}
		}
		return false
	})
	if in == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, http.StatusOK, s.installationBody("get-repo-installation.json", in))
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, idStr string) {
	if !s.checkJWT(w, r) {
		return
	}
	id, _ := strconv.ParseInt(idStr, 10, 64)
	in := s.find(func(in *Installation) bool { return in.ID == id })
	if in == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	if in.Suspended {
		writeError(w, http.StatusForbidden, "This installation has been suspended")
		return
	}
	var req struct {
		Permissions map[string]string `json:"permissions"`
	}
	if body, _ := io.ReadAll(r.Body); len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "Problems parsing JSON")
			return
		}
	}
	perms := in.Permissions
	if req.Permissions != nil {
		for p, level := range req.Permissions {
			granted := in.Permissions[p]
			if granted == "" || (level == "write" && granted != "write") {
				writeError(w, http.StatusUnprocessableEntity, "The permissions requested are not granted to this installation.")
				return
			}
		}
		perms = req.Permissions
	}
	s.mu.Lock()
	s.minted++
	tok := fmt.Sprintf("ghs_fake%dx%04d", id, s.minted)
	s.issued[tok] = id
	lifetime := s.lifetime
	s.mu.Unlock()
	body := s.fixture("create-installation-access-token.json")
	body["token"] = tok
	body["expires_at"] = s.now().Add(lifetime).UTC().Format(time.RFC3339)
	body["permissions"] = perms
	body["repository_selection"] = in.Selection
	delete(body, "repositories")
	writeJSON(w, http.StatusCreated, body)
}

func (s *Server) listRepos(w http.ResponseWriter, r *http.Request) {
	raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	id := s.InstallationOf(raw)
	in := s.find(func(in *Installation) bool { return in.ID == id })
	if id == 0 || in == nil {
		writeError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page <= 0 {
		page = 1
	}
	body := s.fixture("list-repos-accessible-to-installation.json")
	var tmpl map[string]any
	if list, ok := body["repositories"].([]any); ok && len(list) > 0 {
		tmpl, _ = list[0].(map[string]any)
	}
	var repos []any
	lo, hi := (page-1)*perPage, page*perPage
	for i, name := range in.Repos {
		if i < lo || i >= hi {
			continue
		}
		repo := make(map[string]any, len(tmpl))
		for k, v := range tmpl {
			repo[k] = v
		}
		repo["name"] = name
		repo["full_name"] = in.Login + "/" + name
		repos = append(repos, repo)
	}
	body["total_count"] = len(in.Repos)
	body["repositories"] = repos
	if hi < len(in.Repos) {
		w.Header().Set("Link", fmt.Sprintf(`<%s/installation/repositories?per_page=%d&page=%d>; rel="next"`, s.URL, perPage, page+1))
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) listInstallations(w http.ResponseWriter, r *http.Request) {
	if !s.checkJWT(w, r) {
		return
	}
	data, err := fs.ReadFile(s.fixtures, "list-installations.json")
	if err != nil {
		panic("fakegithub: " + err.Error())
	}
	var list []map[string]any
	if err := json.Unmarshal(data, &list); err != nil {
		panic("fakegithub: list-installations.json: " + err.Error())
	}
	var tmpl map[string]any
	if len(list) > 0 {
		tmpl = list[0]
	}
	s.mu.Lock()
	installs := append([]*Installation(nil), s.installs...)
	s.mu.Unlock()
	out := make([]any, 0, len(installs))
	for _, in := range installs {
		body := make(map[string]any, len(tmpl))
		for k, v := range s.installationBody("get-org-installation.json", in) {
			body[k] = v
		}
		for k, v := range tmpl {
			if _, ok := body[k]; !ok {
				body[k] = v
			}
		}
		out = append(out, body)
	}
	writeJSON(w, http.StatusOK, out)
}
