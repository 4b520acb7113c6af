package fakegithub

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
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
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
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

// app is a registered App, its defaults filled in and its key parsed.
type app struct {
	App
	created time.Time
}

// installation is an added Installation, its defaults filled in.
type installation struct {
	Installation
	app     *app
	account *repostore.Owner
	created time.Time
}

// installToken is an installation access token minted by the fake. It is
// never modified after it is stored.
type installToken struct {
	inst        *installation
	expires     time.Time
	permissions map[string]string
	repos       []string // nil: every repository the installation covers
}

// covers reports whether the installation reaches rp: a repository of its
// account that it selects and, when names is not nil, one of names (the
// repositories a token is narrowed to).
func (in *installation) covers(rp *repostore.Repo, names []string) bool {
	return rp.Owner == in.account && (in.RepositorySelection == "all" || containsFold(in.Repositories, rp.Slug)) &&
		(names == nil || containsFold(names, rp.Slug))
}

// covers reports whether the token reaches rp.
func (it *installToken) covers(rp *repostore.Repo) bool { return it.inst.covers(rp, it.repos) }

// AddApp registers a GitHub App: its JWTs are then accepted by the app
// endpoints.
func (s *Server) AddApp(a App) error {
	if a.ID <= 0 {
		return errors.New("fakegithub: AddApp: ID is required")
	}
	if a.PublicKey == nil {
		k, err := parsePublicKey(a.PublicKeyPEM)
		if err != nil {
			return fmt.Errorf("fakegithub: AddApp %d: %w", a.ID, err)
		}
		a.PublicKey = k
	}
	id := strconv.FormatInt(a.ID, 10)
	a.ClientID = cmp.Or(a.ClientID, "Iv1.fake"+id)
	a.Slug = cmp.Or(a.Slug, "app-"+id)
	a.Name = cmp.Or(a.Name, a.Slug)
	a.Permissions = maps.Clone(a.Permissions)
	if a.Permissions == nil {
		a.Permissions = map[string]string{"contents": "write", "metadata": "read", "pull_requests": "write"}
	}
	s.site.Lock()
	defer s.site.Unlock()
	if s.apps[a.ID] != nil {
		return fmt.Errorf("fakegithub: AddApp: app %d exists", a.ID)
	}
	a.Owner = cmp.Or(a.Owner, s.opts.User)
	s.apps[a.ID] = &app{App: a, created: s.now()}
	return nil
}

// parsePublicKey reads an RSA public key (PKIX or PKCS #1), or the public
// half of an RSA private key (PKCS #1 or PKCS #8), from PEM.
func parsePublicKey(p string) (*rsa.PublicKey, error) {
	if k, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(p)); err == nil {
		return &k.PublicKey, nil
	}
	return jwt.ParseRSAPublicKeyFromPEM([]byte(p))
}

// AddInstallation installs an app on an account and returns the
// installation's id.
func (s *Server) AddInstallation(in Installation) (int64, error) {
	if in.Account == "" {
		return 0, errors.New("fakegithub: AddInstallation: Account is required")
	}
	switch sel := in.RepositorySelection; {
	case sel == "" && len(in.Repositories) > 0:
		in.RepositorySelection = "selected"
	case sel == "":
		in.RepositorySelection = "all"
	case sel != "all" && sel != "selected":
		return 0, fmt.Errorf("fakegithub: AddInstallation: RepositorySelection %q is not \"all\" or \"selected\"", sel)
	}
	s.site.Lock()
	defer s.site.Unlock()
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
		if x.app == a && strings.EqualFold(x.account.Key, in.Account) {
			return 0, fmt.Errorf("fakegithub: AddInstallation: app %d is already installed on %s (installation %d)", a.ID, in.Account, x.ID)
		}
	}
	in.Repositories = slices.Clone(in.Repositories)
	if in.Permissions == nil {
		in.Permissions = a.Permissions
	}
	in.Permissions = maps.Clone(in.Permissions)
	s.installs[in.ID] = &installation{Installation: in, app: a, account: s.ownerLocked(in.Account, Organization), created: s.now()}
	return in.ID, nil
}

// InstallationTokenExpiry returns when an installation token minted by the
// fake expires, and whether the fake minted it.
func (s *Server) InstallationTokenExpiry(token string) (time.Time, bool) {
	s.site.Lock()
	defer s.site.Unlock()
	if it := s.instTokens[token]; it != nil {
		return it.expires, true
	}
	return time.Time{}, false
}

func (s *Server) appRoutes(mux *http.ServeMux) {
	s.handleApp(mux, RouteApp, func(w http.ResponseWriter, r *http.Request, a *app) {
		s.site.Lock()
		defer s.site.Unlock()
		s.writeJSON(w, r, http.StatusOK, s.appJSON(r, a))
	})
	s.handleApp(mux, RouteAppInstallations, s.listAppInstallations)
	s.handleApp(mux, RouteAppInstallation, s.getInstallation("#get-an-installation-for-the-authenticated-app",
		func(r *http.Request, in *installation) bool {
			return strconv.FormatInt(in.ID, 10) == r.PathValue("installation_id")
		}))
	s.handleApp(mux, RouteOrgInstallation, s.getInstallation("#get-an-organization-installation-for-the-authenticated-app",
		func(r *http.Request, in *installation) bool {
			return in.account.Type == string(Organization) && strings.EqualFold(in.account.Key, r.PathValue("org"))
		}))
	// As GET /users/{username}, this one answers for organizations too.
	s.handleApp(mux, RouteUserInstallation, s.getInstallation("#get-a-user-installation-for-the-authenticated-app",
		func(r *http.Request, in *installation) bool {
			return strings.EqualFold(in.account.Key, r.PathValue("username"))
		}))
	s.handleApp(mux, RouteRepoInstallation, s.getInstallation("#get-a-repository-installation-for-the-authenticated-app",
		func(r *http.Request, in *installation) bool {
			rp := s.repoLocked(r.PathValue("owner"), r.PathValue("repo"))
			return rp != nil && in.covers(rp, nil)
		}))
	s.handleApp(mux, RouteCreateInstallToken, s.createInstallationToken)
	s.handle(mux, RouteInstallationRepos, s.listInstallationRepos)
}

// handleApp registers an endpoint that requires an app's JWT.
func (s *Server) handleApp(mux *http.ServeMux, pattern string, fn func(http.ResponseWriter, *http.Request, *app)) {
	s.site.Route(mux, pattern, func(w http.ResponseWriter, r *http.Request) {
		a, msg := s.verifyJWT(r)
		if a == nil {
			s.writeError(w, r, http.StatusUnauthorized, msg, docREST)
			return
		}
		c := callerOf(r)
		c.authed = true
		fn(w, withCaller(r, c), a)
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
		s.site.Lock()
		a = s.appByIssuer(claims["iss"])
		s.site.Unlock()
		if a == nil {
			return nil, errUnknownApp
		}
		return a.PublicKey, nil
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

// appByIssuer finds the app an "iss" claim names. The caller holds s.site.
func (s *Server) appByIssuer(iss any) *app {
	switch v := iss.(type) {
	case float64:
		return s.apps[int64(v)]
	case string:
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			return s.apps[id]
		}
		for _, a := range s.apps {
			if a.ClientID == v {
				return a
			}
		}
	}
	return nil
}

// ---- JSON shapes (fields from GitHub's examples) ----

func (s *Server) appJSON(r *http.Request, a *app) map[string]any {
	o := s.site.FindOwner(a.Owner)
	if o == nil {
		o = &repostore.Owner{Key: a.Owner, Type: string(User), ID: 1}
	}
	return map[string]any{
		"id": a.ID, "slug": a.Slug, "client_id": a.ClientID, "node_id": nodeID("A", a.ID),
		"owner": s.ownerJSON(r, o), "name": a.Name, "description": "", "external_url": "https://example.com",
		"html_url": "http://" + r.Host + "/apps/" + a.Slug, "created_at": ts(a.created), "updated_at": ts(a.created),
		"permissions": a.Permissions, "events": []string{},
	}
}

func (s *Server) installationJSON(r *http.Request, in *installation) map[string]any {
	id := strconv.FormatInt(in.ID, 10)
	html := "http://" + r.Host + "/settings/installations/" + id
	if in.account.Type == string(Organization) {
		html = "http://" + r.Host + "/organizations/" + in.account.Key + "/settings/installations/" + id
	}
	var suspendedAt, suspendedBy any
	if in.Suspended {
		suspendedAt = ts(in.created)
		suspendedBy = s.ownerJSON(r, &repostore.Owner{Key: s.opts.User, Type: string(User), ID: 1})
	}
	return map[string]any{
		"id": in.ID, "account": s.ownerJSON(r, in.account), "repository_selection": in.RepositorySelection,
		"access_tokens_url": apiURL(r) + "/app/installations/" + id + "/access_tokens",
		"repositories_url":  apiURL(r) + "/installation/repositories", "html_url": html,
		"app_id": in.app.ID, "client_id": in.app.ClientID, "target_id": in.account.ID, "target_type": in.account.Type,
		"permissions": in.Permissions, "events": []string{}, "created_at": ts(in.created), "updated_at": ts(in.created),
		"single_file_name": nil, "has_multiple_single_files": false, "single_file_paths": []string{},
		"app_slug": in.app.Slug, "suspended_at": suspendedAt, "suspended_by": suspendedBy,
	}
}

// installationRepos returns the repositories an installation (narrowed by
// names, when not nil) gives access to, in creation order. The caller
// holds s.site.
func installationRepos(in *installation, names []string) []*repostore.Repo {
	return slices.DeleteFunc(slices.Clone(reposOf(in.account)), func(rp *repostore.Repo) bool { return !in.covers(rp, names) })
}

// ---- app endpoints ----

func (s *Server) listAppInstallations(w http.ResponseWriter, r *http.Request, a *app) {
	s.site.Lock()
	defer s.site.Unlock()
	var list []*installation
	for _, id := range slices.Sorted(maps.Keys(s.installs)) {
		if in := s.installs[id]; in.app == a {
			list = append(list, in)
		}
	}
	s.writeJSON(w, r, http.StatusOK, pageJSON(w, r, list, func(in *installation) any { return s.installationJSON(r, in) }))
}

// getInstallation answers a lookup of one of the app's installations: the
// one for which match (called with s.mu held) is true, or 404 with the
// anchor doc of GitHub's documentation.
func (s *Server) getInstallation(doc string, match func(*http.Request, *installation) bool) func(http.ResponseWriter, *http.Request, *app) {
	return func(w http.ResponseWriter, r *http.Request, a *app) {
		s.site.Lock()
		defer s.site.Unlock()
		if in := s.appInstallation(r, a, match); in != nil {
			s.writeJSON(w, r, http.StatusOK, s.installationJSON(r, in))
			return
		}
		s.writeError(w, r, http.StatusNotFound, "Not Found", docApps+doc)
	}
}

// appInstallation returns the app's installation for which match is true
// (there is at most one per account), or nil. The caller holds s.site.
func (s *Server) appInstallation(r *http.Request, a *app, match func(*http.Request, *installation) bool) *installation {
	for _, in := range s.installs {
		if in.app == a && match(r, in) {
			return in
		}
	}
	return nil
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
	s.site.Lock()
	defer s.site.Unlock()
	in := s.appInstallation(r, a, func(r *http.Request, in *installation) bool {
		return strconv.FormatInt(in.ID, 10) == r.PathValue("installation_id")
	})
	switch {
	case in == nil:
		s.writeError(w, r, http.StatusNotFound, "Not Found", docCreateInstallToken)
		return
	case in.Suspended:
		s.writeError(w, r, http.StatusForbidden, "This installation has been suspended", docCreateInstallToken)
		return
	}
	for p, level := range body.Permissions {
		granted := in.Permissions[p]
		if (level != "read" && level != "write") || granted == "" || (level == "write" && granted != "write") {
			s.unprocessable(w, r, "The permissions requested are not granted to this installation.", docCreateInstallToken)
			return
		}
	}
	it := &installToken{inst: in, expires: s.now().Add(installationTokenLife), permissions: maps.Clone(in.Permissions)}
	if body.Permissions != nil {
		it.permissions = body.Permissions
	}
	out := map[string]any{"expires_at": ts(it.expires), "permissions": it.permissions, "repository_selection": in.RepositorySelection}
	if len(body.Repositories) > 0 || len(body.RepositoryIDs) > 0 {
		all := installationRepos(in, nil)
		pick := func(match func(*repostore.Repo) bool) bool {
			i := slices.IndexFunc(all, match)
			if i >= 0 {
				it.repos = append(it.repos, all[i].Slug)
			}
			return i >= 0
		}
		ok := true
		for _, n := range body.Repositories {
			ok = pick(func(rp *repostore.Repo) bool { return strings.EqualFold(rp.Slug, n) }) && ok
		}
		for _, id := range body.RepositoryIDs {
			ok = pick(func(rp *repostore.Repo) bool { return int64(rp.ID) == id }) && ok
		}
		if !ok {
			s.unprocessable(w, r, "There is at least one repository that does not exist or is not accessible to the parent installation.", docCreateInstallToken)
			return
		}
		out["repository_selection"] = "selected"
		out["repositories"] = listJSON(installationRepos(in, it.repos), func(rp *repostore.Repo) any { return s.repoJSON(r, rp) })
	}
	tok := installationTokenPrefix + randomAlnum(36)
	s.instTokens[tok] = it
	out["token"] = tok
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
	s.site.Lock()
	defer s.site.Unlock()
	list := installationRepos(it.inst, it.repos)
	s.writeJSON(w, r, http.StatusOK, map[string]any{"total_count": len(list),
		"repositories": pageJSON(w, r, list, func(rp *repostore.Repo) any { return s.repoJSON(r, rp) })})
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
	s.site.Lock()
	defer s.site.Unlock()
	rp := s.repoLocked(owner, name)
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	if rp == nil || !it.covers(rp) {
		return rp == nil || !rp.Public || read // the handler answers 404 for what the token cannot see
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
