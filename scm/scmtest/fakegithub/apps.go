package fakegithub

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The routes of the GitHub App endpoints, the keys of Stats.Routes. All but
// RouteInstallationRepos require the app's JWT.
const (
	RouteApp                = "GET /app"                                                // the app itself
	RouteAppInstallations   = "GET /app/installations"                                  // the app's installations
	RouteAppInstallation    = "GET /app/installations/{installation_id}"                // one installation
	RouteOrgInstallation    = "GET /orgs/{org}/installation"                            // an organization's installation
	RouteUserInstallation   = "GET /users/{username}/installation"                      // a user's (or organization's) installation
	RouteRepoInstallation   = "GET /repos/{owner}/{repo}/installation"                  // the installation covering a repository
	RouteCreateInstallToken = "POST /app/installations/{installation_id}/access_tokens" // mint an installation token
	RouteInstallationRepos  = "GET /installation/repositories"                          // an installation token's repositories
)

const (
	installationTokenPrefix = "ghs_"
	installationTokenLife   = time.Hour
	maxJWTLifetime          = 10 * time.Minute
	jwtIssuedAtSkew         = time.Minute
	docApps                 = "https://docs.github.com/rest/apps/apps"
	docCreateInstallToken   = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
	docInstallationRepos    = "https://docs.github.com/rest/apps/installations#list-repositories-accessible-to-the-app-installation"
	msgJWTUndecodable       = "A JSON web token could not be decoded"
	msgJWTExpired           = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	msgJWTTooLong           = "'Expiration time' claim ('exp') is too far in the future"
	msgJWTIssuedAt          = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	msgNotAccessible        = "Resource not accessible by integration"
)

// App describes a GitHub App to register with [Server.AddApp].
type App struct {
	// ID is the app's id, the "iss" claim of its JWTs. Required.
	ID int64
	// PublicKey verifies the app's JWTs (RS256). Either it or
	// PublicKeyPEM is required.
	PublicKey *rsa.PublicKey
	// PublicKeyPEM is the app's key in PEM: a public key ("PUBLIC KEY" or
	// "RSA PUBLIC KEY"), or the private key itself ("RSA PRIVATE KEY" or
	// "PRIVATE KEY"), of which only the public half is kept.
	PublicKeyPEM string
	// ClientID is the app's client id, also accepted as the "iss" claim;
	// default "Iv1.fake<ID>".
	ClientID string
	// Slug is the app's URL name; default "app-<ID>". Name defaults to
	// the slug.
	Slug, Name string
	// Owner is the login of the account that owns the app; default
	// Options.User.
	Owner string
	// Permissions are the app's permissions, the default of its
	// installations; default contents: write, metadata: read,
	// pull_requests: write.
	Permissions map[string]string
}

// Installation describes an installation of an app to add with
// [Server.AddInstallation].
type Installation struct {
	// ID is the installation's id; 0 means one chosen by the fake.
	ID int64
	// AppID is the installed app, registered with AddApp. Required.
	AppID int64
	// Account is the login of the organization or user the app is
	// installed on. An owner that does not exist yet is created as an
	// organization (call AddOwner first for a user). Required.
	Account string
	// Suspended makes token creation fail with GitHub's 403.
	Suspended bool
	// RepositorySelection is "all" (every repository of Account) or
	// "selected" (only Repositories); default "selected" when
	// Repositories is not empty, else "all".
	RepositorySelection string
	// Repositories are the names of the selected repositories.
	Repositories []string
	// Permissions granted; default the app's.
	Permissions map[string]string
}

type app struct {
	id          int64
	key         *rsa.PublicKey
	clientID    string
	slug, name  string
	owner       string
	permissions map[string]string
	created     time.Time
}

type installation struct {
	id          int64
	app         *app
	account     *owner
	suspended   bool
	selection   string
	repos       []string
	permissions map[string]string
	created     time.Time
}

// installToken is an installation access token minted by the fake. It is
// never modified after it is stored.
type installToken struct {
	inst        *installation
	expires     time.Time
	permissions map[string]string
	repos       []string // nil: every repository the installation covers
}

// covers reports whether the token reaches rp: a repository of the
// installation's account, selected by the installation (and, for a token
// narrowed to repositories, by the token).
func (it *installToken) covers(rp *repo) bool {
	in := it.inst
	if rp.owner != in.account {
		return false
	}
	if in.selection == "selected" && !containsFold(in.repos, rp.name) {
		return false
	}
	return it.repos == nil || containsFold(it.repos, rp.name)
}

func tokenOf(r *http.Request) *installToken {
	it, _ := r.Context().Value(tokenKey).(*installToken)
	return it
}

// AddApp registers a GitHub App: its JWTs are then accepted by the app
// endpoints.
func (s *Server) AddApp(a App) error {
	if a.ID <= 0 {
		return errors.New("fakegithub: AddApp: ID is required")
	}
	key := a.PublicKey
	if key == nil {
		k, err := parsePublicKey(a.PublicKeyPEM)
		if err != nil {
			return fmt.Errorf("fakegithub: AddApp %d: %w", a.ID, err)
		}
		key = k
	}
	id := strconv.FormatInt(a.ID, 10)
	slug := cmp.Or(a.Slug, "app-"+id)
	perms := maps.Clone(a.Permissions)
	if perms == nil {
		perms = map[string]string{"contents": "write", "metadata": "read", "pull_requests": "write"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apps[a.ID] != nil {
		return fmt.Errorf("fakegithub: AddApp: app %d exists", a.ID)
	}
	s.apps[a.ID] = &app{id: a.ID, key: key, clientID: cmp.Or(a.ClientID, "Iv1.fake"+id), slug: slug,
		name: cmp.Or(a.Name, slug), owner: cmp.Or(a.Owner, s.opts.User), permissions: perms, created: s.now()}
	return nil
}

// parsePublicKey reads an RSA public key, or the public half of an RSA
// private key, from PEM.
func parsePublicKey(p string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, errors.New("no PEM key (set PublicKey or PublicKeyPEM)")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "RSA PRIVATE KEY":
		var k *rsa.PrivateKey
		if k, err = x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
			key = &k.PublicKey
		}
	case "PRIVATE KEY":
		var k any
		if k, err = x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
			if rk, ok := k.(*rsa.PrivateKey); ok {
				key = &rk.PublicKey
			}
		}
	default:
		return nil, fmt.Errorf("PEM block %q is not an RSA key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("the PEM key is not an RSA key")
	}
	return pub, nil
}

// AddInstallation installs an app on an account and returns the
// installation's id.
func (s *Server) AddInstallation(in Installation) (int64, error) {
	if in.Account == "" {
		return 0, errors.New("fakegithub: AddInstallation: Account is required")
	}
	sel := in.RepositorySelection
	switch {
	case sel == "" && len(in.Repositories) > 0:
		sel = "selected"
	case sel == "":
		sel = "all"
	case sel != "all" && sel != "selected":
		return 0, fmt.Errorf("fakegithub: AddInstallation: RepositorySelection %q is not \"all\" or \"selected\"", sel)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[in.AppID]
	if a == nil {
		return 0, fmt.Errorf("fakegithub: AddInstallation: no app %d (call AddApp first)", in.AppID)
	}
	if in.ID == 0 {
		in.ID = s.newID()
	}
	if s.installs[in.ID] != nil {
		return 0, fmt.Errorf("fakegithub: AddInstallation: installation %d exists", in.ID)
	}
	for _, x := range s.installs {
		if x.app == a && strings.EqualFold(x.account.login, in.Account) {
			return 0, fmt.Errorf("fakegithub: AddInstallation: app %d is already installed on %s (installation %d)", a.id, in.Account, x.id)
		}
	}
	perms := maps.Clone(in.Permissions)
	if perms == nil {
		perms = maps.Clone(a.permissions)
	}
	s.installs[in.ID] = &installation{id: in.ID, app: a, account: s.ownerLocked(in.Account, Organization),
		suspended: in.Suspended, selection: sel, repos: slices.Clone(in.Repositories), permissions: perms, created: s.now()}
	return in.ID, nil
}

// InstallationTokenExpiry returns when an installation token minted by the
// fake expires, and whether the fake minted it.
func (s *Server) InstallationTokenExpiry(token string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.instTokens[token]
	if it == nil {
		return time.Time{}, false
	}
	return it.expires, true
}

func (s *Server) appRoutes(mux *http.ServeMux) {
	s.handleApp(mux, RouteApp, s.getApp)
	s.handleApp(mux, RouteAppInstallations, s.listAppInstallations)
	s.handleApp(mux, RouteAppInstallation, s.getAppInstallation)
	s.handleApp(mux, RouteOrgInstallation, s.getOwnerInstallation(Organization))
	s.handleApp(mux, RouteUserInstallation, s.getOwnerInstallation(User))
	s.handleApp(mux, RouteRepoInstallation, s.getRepoInstallation)
	s.handleApp(mux, RouteCreateInstallToken, s.createInstallationToken)
	s.handle(mux, RouteInstallationRepos, s.listInstallationRepos)
}

// handleApp registers an endpoint that requires an app's JWT.
func (s *Server) handleApp(mux *http.ServeMux, pattern string, fn func(http.ResponseWriter, *http.Request, *app)) {
	s.route(mux, pattern, func(w http.ResponseWriter, r *http.Request) {
		a, msg := s.verifyJWT(r)
		if a == nil {
			s.writeError(w, r, http.StatusUnauthorized, msg, "https://docs.github.com/rest")
			return
		}
		fn(w, r.WithContext(context.WithValue(r.Context(), authKey, true)), a)
	})
}

var errUnknownApp = errors.New("no such app")

// verifyJWT checks the request's app JWT as GitHub does: RS256, signed
// with the key of the app its "iss" claim names (the app id, as a number
// or a string, or the client id), "exp" in the future but no more than 10
// minutes ahead, "iat" not in the future (a minute of skew allowed). It
// returns the app, or nil and GitHub's message.
func (s *Server) verifyJWT(r *http.Request) (*app, string) {
	scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || raw == "" {
		return nil, msgJWTUndecodable
	}
	var a *app
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		s.mu.Lock()
		a = s.appByIssuer(claims["iss"])
		s.mu.Unlock()
		if a == nil {
			return nil, errUnknownApp
		}
		return a.key, nil
	}, jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}), jwt.WithoutClaimsValidation())
	if err != nil {
		return nil, msgJWTUndecodable
	}
	now := s.opts.Now()
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil || iat.After(now.Add(jwtIssuedAtSkew)) {
		return nil, msgJWTIssuedAt
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil || !exp.After(now) {
		return nil, msgJWTExpired
	}
	if exp.After(now.Add(maxJWTLifetime)) {
		return nil, msgJWTTooLong
	}
	return a, ""
}

// appByIssuer finds the app an "iss" claim names. The caller holds s.mu.
func (s *Server) appByIssuer(iss any) *app {
	switch v := iss.(type) {
	case float64:
		return s.apps[int64(v)]
	case string:
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			return s.apps[id]
		}
		for _, a := range s.apps {
			if a.clientID == v {
				return a
			}
		}
	}
	return nil
}

// ---- JSON shapes (fields from GitHub's examples) ----

func (s *Server) appJSON(r *http.Request, a *app) map[string]any {
	o := s.owners[strings.ToLower(a.owner)]
	if o == nil {
		o = &owner{login: a.owner, typ: User, id: 1}
	}
	return map[string]any{
		"id": a.id, "slug": a.slug, "client_id": a.clientID, "node_id": nodeID("A", a.id),
		"owner": s.ownerJSON(r, o), "name": a.name, "description": "", "external_url": "https://example.com",
		"html_url": "http://" + r.Host + "/apps/" + a.slug, "created_at": ts(a.created), "updated_at": ts(a.created),
		"permissions": a.permissions, "events": []string{},
	}
}

func (s *Server) installationJSON(r *http.Request, in *installation) map[string]any {
	api := apiURL(r)
	id := strconv.FormatInt(in.id, 10)
	html := "http://" + r.Host + "/settings/installations/" + id
	if in.account.typ == Organization {
		html = "http://" + r.Host + "/organizations/" + in.account.login + "/settings/installations/" + id
	}
	var suspendedAt, suspendedBy any
	if in.suspended {
		suspendedAt = ts(in.created)
		suspendedBy = s.ownerJSON(r, &owner{login: s.opts.User, typ: User, id: 1})
	}
	return map[string]any{
		"id": in.id, "account": s.ownerJSON(r, in.account), "repository_selection": in.selection,
		"access_tokens_url": api + "/app/installations/" + id + "/access_tokens",
		"repositories_url":  api + "/installation/repositories", "html_url": html,
		"app_id": in.app.id, "client_id": in.app.clientID, "target_id": in.account.id, "target_type": string(in.account.typ),
		"permissions": in.permissions, "events": []string{}, "created_at": ts(in.created), "updated_at": ts(in.created),
		"single_file_name": nil, "has_multiple_single_files": false, "single_file_paths": []string{},
		"app_slug": in.app.slug, "suspended_at": suspendedAt, "suspended_by": suspendedBy,
	}
}

// installationRepos returns the repositories an installation (narrowed by
// names, when not nil) gives access to, in creation order. The caller
// holds s.mu.
func installationRepos(in *installation, names []string) []*repo {
	it := &installToken{inst: in, repos: names}
	var out []*repo
	for _, rp := range in.account.repos {
		if it.covers(rp) {
			out = append(out, rp)
		}
	}
	return out
}

// ---- app endpoints ----

func (s *Server) getApp(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeJSON(w, r, http.StatusOK, s.appJSON(r, a))
}

func (s *Server) listAppInstallations(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*installation
	for _, id := range slices.Sorted(maps.Keys(s.installs)) {
		if in := s.installs[id]; in.app == a {
			list = append(list, in)
		}
	}
	start, end := paginate(w, r, len(list))
	out := make([]any, 0, end-start)
	for _, in := range list[start:end] {
		out = append(out, s.installationJSON(r, in))
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// appInstallation returns the app's installation with the id of the
// request's path, or nil. The caller holds s.mu.
func (s *Server) appInstallation(r *http.Request, a *app) *installation {
	id, err := strconv.ParseInt(r.PathValue("installation_id"), 10, 64)
	if err != nil {
		return nil
	}
	if in := s.installs[id]; in != nil && in.app == a {
		return in
	}
	return nil
}

func (s *Server) getAppInstallation(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.appInstallation(r, a)
	if in == nil {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docApps+"#get-an-installation-for-the-authenticated-app")
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.installationJSON(r, in))
}

// getOwnerInstallation answers GET /orgs/{org}/installation (for
// organizations only) and GET /users/{username}/installation (for any
// account, as GET /users/{username} does).
func (s *Server) getOwnerInstallation(typ OwnerType) func(http.ResponseWriter, *http.Request, *app) {
	doc := docApps + "#get-an-organization-installation-for-the-authenticated-app"
	if typ == User {
		doc = docApps + "#get-a-user-installation-for-the-authenticated-app"
	}
	return func(w http.ResponseWriter, r *http.Request, a *app) {
		s.mu.Lock()
		defer s.mu.Unlock()
		login := r.PathValue("org") + r.PathValue("username")
		for _, in := range s.installs {
			if in.app == a && strings.EqualFold(in.account.login, login) && (typ == User || in.account.typ == Organization) {
				s.writeJSON(w, r, http.StatusOK, s.installationJSON(r, in))
				return
			}
		}
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
	}
}

func (s *Server) getRepoInstallation(w http.ResponseWriter, r *http.Request, a *app) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rp := s.repos[key(r.PathValue("owner"), r.PathValue("repo"))]; rp != nil {
		for _, in := range s.installs {
			if in.app == a && (&installToken{inst: in}).covers(rp) {
				s.writeJSON(w, r, http.StatusOK, s.installationJSON(r, in))
				return
			}
		}
	}
	s.writeError(w, r, http.StatusNotFound, "Not Found", docApps+"#get-a-repository-installation-for-the-authenticated-app")
}

func (s *Server) createInstallationToken(w http.ResponseWriter, r *http.Request, a *app) {
	var body struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if err := decodeBody(r, &body); err != nil && !errors.Is(err, io.EOF) {
		s.writeError(w, r, http.StatusBadRequest, "Problems parsing JSON", docCreateInstallToken)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.appInstallation(r, a)
	if in == nil {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docCreateInstallToken)
		return
	}
	if in.suspended {
		s.writeError(w, r, http.StatusForbidden, "This installation has been suspended", docCreateInstallToken)
		return
	}
	perms := maps.Clone(in.permissions)
	if body.Permissions != nil {
		for p, level := range body.Permissions {
			granted := in.permissions[p]
			if (level != "read" && level != "write") || granted == "" || (level == "write" && granted != "write") {
				s.unprocessable(w, r, "The permissions requested are not granted to this installation.", docCreateInstallToken)
				return
			}
		}
		perms = maps.Clone(body.Permissions)
	}
	it := &installToken{inst: in, expires: s.now().Add(installationTokenLife), permissions: perms}
	selection := in.selection
	var narrowed []*repo
	if len(body.Repositories) > 0 || len(body.RepositoryIDs) > 0 {
		all := installationRepos(in, nil)
		names := slices.Clone(body.Repositories)
		for _, id := range body.RepositoryIDs {
			i := slices.IndexFunc(all, func(rp *repo) bool { return rp.id == id })
			if i < 0 {
				names = nil
				break
			}
			names = append(names, all[i].name)
		}
		for _, n := range names {
			if !slices.ContainsFunc(all, func(rp *repo) bool { return strings.EqualFold(rp.name, n) }) {
				names = nil
				break
			}
		}
		if names == nil {
			s.unprocessable(w, r, "There is at least one repository that does not exist or is not accessible to the parent installation.", docCreateInstallToken)
			return
		}
		it.repos, selection = names, "selected"
		narrowed = installationRepos(in, names)
	}
	tok := installationTokenPrefix + randomAlnum(36)
	s.instTokens[tok] = it
	out := map[string]any{"token": tok, "expires_at": ts(it.expires), "permissions": perms, "repository_selection": selection}
	if narrowed != nil {
		list := make([]any, 0, len(narrowed))
		for _, rp := range narrowed {
			list = append(list, s.repoJSON(r, rp))
		}
		out["repositories"] = list
	}
	s.writeJSON(w, r, http.StatusCreated, out)
}

// listInstallationRepos answers GET /installation/repositories, which
// only an installation token may call.
func (s *Server) listInstallationRepos(w http.ResponseWriter, r *http.Request) {
	it := tokenOf(r)
	switch {
	case !authenticated(r):
		s.writeError(w, r, http.StatusUnauthorized, "Requires authentication", docInstallationRepos)
		return
	case it == nil:
		s.writeError(w, r, http.StatusForbidden, "You must authenticate with an installation access token in order to list repositories for an installation.", docInstallationRepos)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := installationRepos(it.inst, it.repos)
	start, end := paginate(w, r, len(list))
	out := make([]any, 0, end-start)
	for _, rp := range list[start:end] {
		out = append(out, s.repoJSON(r, rp))
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"total_count": len(list), "repositories": out})
}

// integrationAllowed applies an installation token's limits to a request
// for a repository (private repositories it does not cover are already
// invisible, answered 404 by the handler): a public repository outside
// the installation can be read but not written; inside it, the token's
// permissions apply (pull requests need pull_requests, everything else
// but the repository itself needs contents; a write needs "write").
func (s *Server) integrationAllowed(r *http.Request, pattern string, it *installToken) bool {
	owner, name := r.PathValue("owner"), r.PathValue("repo")
	if owner == "" || name == "" {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[key(owner, name)]
	if rp == nil || (rp.private && !it.covers(rp)) {
		return true // the handler answers 404
	}
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	if !it.covers(rp) {
		return read
	}
	_, p, _ := strings.Cut(pattern, " ")
	if p == "/repos/{owner}/{repo}" {
		return true // metadata, granted to every installation
	}
	perm := "contents"
	if strings.HasPrefix(p, "/repos/{owner}/{repo}/pulls") {
		perm = "pull_requests"
	}
	level := it.permissions[perm]
	return level == "write" || (read && level == "read")
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomAlnum returns n random letters and digits, as in GitHub's tokens.
func randomAlnum(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
