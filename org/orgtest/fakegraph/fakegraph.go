// Package fakegraph is a stateful fake of the Microsoft identity platform's
// token endpoint and the parts of Microsoft Graph v1.0 that organisational
// data readers use, for tests: an httptest server answering with Graph's
// documented shapes (see testdata/, copied from Microsoft's documentation).
//
// Endpoints:
//
//   - POST /{tenant}/oauth2/v2.0/token: the client-credentials grant, with
//     the identity platform's error bodies (invalid_client, AADSTS codes).
//   - GET /v1.0/organization: the tenant.
//   - GET /v1.0/users and /v1.0/groups: $top (up to 999, default 100),
//     $select, $filter (eq, ne, startswith, endswith, not, and, or over
//     string and boolean properties), $search on groups ("prop:text"),
//     $count; ne, not, endswith and $search answer 400 unless the request
//     carries ConsistencyLevel: eventual, as Graph's advanced queries do.
//     Paging by @odata.nextLink with a $skiptoken.
//   - GET /v1.0/groups/{id}/members (and /members/microsoft.graph.user).
//   - GET /v1.0/users/delta and /v1.0/groups/delta: change tracking with
//     $skiptoken pages and a $deltatoken link; groups carry members@delta,
//     a big group's members spread over several pages, removals marked
//     @removed. Prefer: odata.maxpagesize sets the page size (default 100,
//     at most 999).
//   - GET /v1.0/users/{id}/photos/{size}/$value.
//
// Every request is counted and logged. The fake embeds the shared kit of
// scmkit's fake servers ([fake.Kit]: Inject, ClearFaults, Requests,
// RequestsTo, ResetStats), whose faults apply to Graph's requests (host
// "api", the default), never to the token endpoint (host "login"). A
// fault's Path is the request's path, e.g. "/v1.0/groups". It answers each
// [fake.FaultKind] as Graph does:
//
//	FaultUnauthorized                      401 InvalidAuthenticationToken
//	FaultNotFound                          404 Request_ResourceNotFound
//	FaultRateLimit, FaultSecondaryRateLimit,
//	FaultTooManyRequests,
//	FaultRateLimitResetOnly                429 TooManyRequests, Retry-After (RetryAfter, 1 s when 0)
//	FaultTooManyRequestsNoRetryAfter,
//	FaultSecondaryRateLimitNoRetryAfter    429 TooManyRequests without Retry-After
//	FaultServerError                       Status (500 generalException when 0); 503
//	                                       serviceNotAvailable with Retry-After (RetryAfter, 1 s when 0)
//	FaultEchoCredentials                   Status (400 when 0) quoting the credentials sent
//	                                       (a proxy's HTML page for 5xx)
//	FaultSlow, FaultTruncatedBody,
//	FaultLostAnswer                        carried out by fake.Kit
//
// Other kinds (FaultUnprocessable, FaultOpenPullRequest) are not Graph's
// and let the request through. Two of Graph's failures are states rather
// than faults: [Server.SetPermissions] revokes (or grants) application
// permissions, so that reads answer 403 Authorization_RequestDenied, and
// [Server.ExpireDeltaTokens] makes the delta tokens given so far answer 410
// syncStateNotFound.
package fakegraph

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

// User is a directory user.
type User struct {
	ID                string
	DisplayName       string
	Mail              string
	UserPrincipalName string
	GivenName         string
	Surname           string
	JobTitle          string
	AccountEnabled    bool
	UserType          string // "Member" (default) or "Guest"
	Photo             []byte // JPEG bytes, or nil for no photo
}

// Group is a directory group. Members holds the ids of its direct members
// (users and groups).
type Group struct {
	ID              string
	DisplayName     string
	MailNickname    string
	Mail            string
	Description     string
	SecurityEnabled bool
	MailEnabled     bool
	GroupTypes      []string
	Members         []string
}

// Options configures a Server.
type Options struct {
	TenantID     string // default "00000000-0000-0000-0000-000000000001"
	OrgName      string // default "Contoso"
	ClientID     string // default "fake-client"
	ClientSecret string // default "fake-secret"
	// Permissions are the application permissions granted to the client;
	// nil means User.Read.All and GroupMember.Read.All. Reading users
	// needs User.Read.All (or Directory.Read.All), groups and members
	// GroupMember.Read.All (or Group.Read.All, Directory.Read.All).
	Permissions []string
	// MaxMembersPerPage bounds the members@delta entries of one page of
	// groups delta; default 1,000.
	MaxMembersPerPage int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Stats counts requests.
type Stats struct {
	Graph int // requests to /v1.0
	Token int // token requests
}

// Server is a fake Microsoft identity platform and Graph. Its methods are
// safe for concurrent use.
type Server struct {
	fake.Kit[Stats] // Inject, ClearFaults, Requests, RequestsTo, ResetStats

	opts Options
	srv  *httptest.Server
	core *fake.Core[Stats]
	stop chan struct{}

	mu        sync.Mutex
	users     []*uState
	groups    []*gState
	seq       int64
	tombs     []tomb
	memberLog []memberChange
	tokens    map[string]time.Time
	deltaGen  int // delta tokens of an older generation have expired
	nextID    int
}

type uState struct {
	u       User
	changed int64
}

type gState struct {
	g       Group
	changed int64
}

type tomb struct {
	kind string // "user" or "group"
	id   string
	seq  int64
}

type memberChange struct {
	group, member string
	removed       bool
	seq           int64
}

// New starts a fake. Call Close when done.
func New(opts *Options) *Server {
	s := &Server{tokens: map[string]time.Time{}, stop: make(chan struct{})}
	s.Kit, s.core = fake.NewKit[Stats](s.answer, s.stop)
	if opts != nil {
		s.opts = *opts
	}
	o := &s.opts
	o.TenantID = cmp.Or(o.TenantID, "00000000-0000-0000-0000-000000000001")
	o.OrgName = cmp.Or(o.OrgName, "Contoso")
	o.ClientID = cmp.Or(o.ClientID, "fake-client")
	o.ClientSecret = cmp.Or(o.ClientSecret, "fake-secret")
	if o.Permissions == nil {
		o.Permissions = []string{"User.Read.All", "GroupMember.Read.All"}
	}
	o.MaxMembersPerPage = cmp.Or(o.MaxMembersPerPage, 1000)
	if o.Now == nil {
		o.Now = time.Now
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *Server) Close() {
	close(s.stop)
	s.srv.Close()
}

// URL is the server's base URL: the authority (token endpoint at
// URL()/{tenant}/oauth2/v2.0/token) and Graph's host (target URL()+"/v1.0").
func (s *Server) URL() string { return s.srv.URL }

// Target returns the Graph base URL, URL()+"/v1.0".
func (s *Server) Target() string { return s.srv.URL + "/v1.0" }

// TenantID returns the tenant id.
func (s *Server) TenantID() string { return s.opts.TenantID }

// ClientID returns the accepted client id.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the accepted client secret.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// NewID returns a fresh GUID-shaped object id.
func (s *Server) NewID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newIDLocked()
}

func (s *Server) newIDLocked() string {
	s.nextID++
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", s.nextID, s.nextID)
}

// PutUser adds or replaces a user (by ID; an empty ID gets a new one, which
// is returned).
func (s *Server) PutUser(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = s.newIDLocked()
	}
	if u.UserType == "" {
		u.UserType = "Member"
	}
	s.seq++
	for _, x := range s.users {
		if x.u.ID == u.ID {
			x.u, x.changed = u, s.seq
			return u.ID
		}
	}
	s.users = append(s.users, &uState{u, s.seq})
	return u.ID
}

// DeleteUser deletes a user and its memberships.
func (s *Server) DeleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.users = slices.DeleteFunc(s.users, func(x *uState) bool { return x.u.ID == id })
	s.tombs = append(s.tombs, tomb{"user", id, s.seq})
	for _, g := range s.groups {
		if slices.Contains(g.g.Members, id) {
			g.g.Members = slices.DeleteFunc(g.g.Members, func(m string) bool { return m == id })
			s.memberLog = append(s.memberLog, memberChange{g.g.ID, id, true, s.seq})
		}
	}
}

// PutGroup adds or replaces a group (by ID; an empty ID gets a new one,
// which is returned). Its member list is recorded as membership changes.
func (s *Server) PutGroup(g Group) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.ID == "" {
		g.ID = s.newIDLocked()
	}
	s.seq++
	var old []string
	var st *gState
	for _, x := range s.groups {
		if x.g.ID == g.ID {
			st = x
		}
	}
	if st == nil {
		st = &gState{}
		s.groups = append(s.groups, st)
	} else {
		old = st.g.Members
	}
	g.Members = slices.Clone(g.Members)
	st.g, st.changed = g, s.seq
	for _, m := range g.Members {
		if !slices.Contains(old, m) {
			s.memberLog = append(s.memberLog, memberChange{g.ID, m, false, s.seq})
		}
	}
	for _, m := range old {
		if !slices.Contains(g.Members, m) {
			s.memberLog = append(s.memberLog, memberChange{g.ID, m, true, s.seq})
		}
	}
	return g.ID
}

// AddMember adds member (a user or group id) to group.
func (s *Server) AddMember(group, member string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		if g.g.ID == group {
			if !slices.Contains(g.g.Members, member) {
				s.seq++
				g.g.Members = append(g.g.Members, member)
				s.memberLog = append(s.memberLog, memberChange{group, member, false, s.seq})
			}
			return nil
		}
	}
	return fmt.Errorf("fakegraph: no group %s", group)
}

// Stats returns the request counts.
func (s *Server) Stats() Stats {
	st, _, _ := s.core.Log().Stats()
	return st
}

// SetPermissions replaces the application permissions granted to the
// client (as an administrator revoking or granting consent does): reads
// that need a permission no longer granted answer 403
// Authorization_RequestDenied.
func (s *Server) SetPermissions(perms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Permissions = slices.Clone(perms)
}

// ExpireDeltaTokens makes every delta token given so far expire, as Graph
// lets them: a delta query with one answers 410 syncStateNotFound, and the
// client must read everything again.
func (s *Server) ExpireDeltaTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deltaGen++
}

// ---- HTTP ----

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		s.core.Record(r, "login", "POST /{tenant}/oauth2/v2.0/token", func(st *Stats) { st.Token++ })
		s.token(w, r)
		return
	}
	s.core.Record(r, "api", "", func(st *Stats) { st.Graph++ })
	if !strings.HasPrefix(r.URL.Path, "/v1.0/") {
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource not found for the segment.")
		return
	}
	if !s.authorized(r) {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty or invalid.")
		return
	}
	s.core.Serve(w, r, "api", "api", s.graph)
}

// graph answers an authorised Graph request.
func (s *Server) graph(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/v1.0")
	switch {
	case r.Method != http.MethodGet:
		graphError(w, http.StatusMethodNotAllowed, "Request_BadRequest", "Method not allowed.")
	case p == "/organization":
		s.organization(w, r)
	case p == "/users/delta":
		s.delta(w, r, "users")
	case p == "/groups/delta":
		s.delta(w, r, "groups")
	case p == "/users":
		s.list(w, r, "users", "")
	case p == "/groups":
		s.list(w, r, "groups", "")
	case strings.HasPrefix(p, "/groups/") && (strings.HasSuffix(p, "/members") || strings.HasSuffix(p, "/members/microsoft.graph.user")):
		id := strings.Split(strings.TrimPrefix(p, "/groups/"), "/")[0]
		s.list(w, r, "members", id)
	case strings.HasPrefix(p, "/users/") && strings.HasSuffix(p, "/$value"):
		s.photo(w, r, strings.Split(strings.TrimPrefix(p, "/users/"), "/")[0])
	default:
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource not found for the segment '"+strings.Trim(p, "/")+"'.")
	}
}

// graphError writes Graph's error body (see testdata/error.json).
func graphError(w http.ResponseWriter, status int, code, msg string) {
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": id, "client-request-id": id}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Header().Set("request-id", "fake")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	tenant := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.", 900144)
		return
	}
	if tenant != s.opts.TenantID {
		tokenError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", tenant), 90002)
		return
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
	}
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials":
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.", 70003)
	case id != s.opts.ClientID:
		tokenError(w, http.StatusBadRequest, "unauthorized_client", fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory.", id), 700016)
	case secret != s.opts.ClientSecret:
		tokenError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.", 7000215)
	case !strings.HasSuffix(r.PostForm.Get("scope"), "/.default"):
		tokenError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.", 1002012)
	default:
		var b [24]byte
		rand.Read(b[:])
		tok := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(b[:])
		s.mu.Lock()
		s.tokens[tok] = s.opts.Now().Add(time.Hour)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": tok})
	}
}

func tokenError(w http.ResponseWriter, status int, code, desc string, num int) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc, "error_codes": []int{num},
		"timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"), "trace_id": "fake", "correlation_id": "fake"})
}

func (s *Server) authorized(r *http.Request) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.opts.Now().Before(exp)
}

// answer writes Graph's answer for an armed fault (fake.Kit carries out
// the slow, truncated and lost answers), and reports false for a kind
// Graph does not produce.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, f fake.Fault) bool {
	retry := strconv.Itoa(max(1, int(f.RetryAfter/time.Second)))
	switch f.Kind {
	case fake.FaultUnauthorized:
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
	case fake.FaultNotFound:
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource not found for the segment.")
	case fake.FaultRateLimit, fake.FaultSecondaryRateLimit, fake.FaultTooManyRequests, fake.FaultRateLimitResetOnly:
		w.Header().Set("Retry-After", retry)
		graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
	case fake.FaultTooManyRequestsNoRetryAfter, fake.FaultSecondaryRateLimitNoRetryAfter:
		graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
	case fake.FaultServerError:
		switch st := cmp.Or(f.Status, http.StatusInternalServerError); st {
		case http.StatusServiceUnavailable:
			w.Header().Set("Retry-After", retry)
			graphError(w, st, "serviceNotAvailable", "The service is temporarily unavailable.")
		default:
			graphError(w, st, "generalException", "An unspecified error has occurred.")
		}
	case fake.FaultEchoCredentials:
		st := cmp.Or(f.Status, http.StatusBadRequest)
		if !fake.EchoPage(w, st, fake.EchoCredentials(r)) {
			graphError(w, st, "BadRequest", "Invalid request: "+fake.EchoCredentials(r))
		}
	default:
		return false
	}
	return true
}

func (s *Server) has(perms ...string) bool {
	for _, p := range perms {
		if slices.Contains(s.opts.Permissions, p) {
			return true
		}
	}
	return false
}

func (s *Server) canReadUsers() bool {
	return s.has("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All")
}

func (s *Server) canReadGroups() bool {
	return s.has("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Group.ReadWrite.All", "Directory.ReadWrite.All")
}

// canRead reports whether the application may read the collection kind:
// users need a user permission; groups, and groups' members, a group one.
func (s *Server) canRead(kind string) bool {
	if kind == "users" {
		return s.canReadUsers()
	}
	return s.canReadGroups()
}

func (s *Server) denied(w http.ResponseWriter) {
	graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

func (s *Server) organization(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": s.Target() + "/$metadata#organization",
		"value": []any{map[string]any{"id": s.opts.TenantID, "displayName": s.opts.OrgName,
			"verifiedDomains": []any{map[string]any{"name": strings.ToLower(s.opts.OrgName) + ".onmicrosoft.com", "isDefault": true, "isInitial": true, "type": "Managed"}}}},
	})
}

// ---- objects as JSON ----

var userProps = []string{"id", "displayName", "mail", "userPrincipalName", "givenName", "surname", "jobTitle", "accountEnabled", "userType"}
var groupProps = []string{"id", "displayName", "mailNickname", "mail", "description", "securityEnabled", "mailEnabled", "groupTypes"}

func userJSON(u *User, sel []string) map[string]any {
	all := map[string]any{"id": u.ID, "displayName": nullable(u.DisplayName), "mail": nullable(u.Mail),
		"userPrincipalName": u.UserPrincipalName, "givenName": nullable(u.GivenName), "surname": nullable(u.Surname),
		"jobTitle": nullable(u.JobTitle), "accountEnabled": u.AccountEnabled, "userType": u.UserType}
	return project(all, sel, []string{"id", "displayName", "mail", "userPrincipalName", "givenName", "surname", "jobTitle"})
}

func groupJSON(g *Group, sel []string) map[string]any {
	all := map[string]any{"id": g.ID, "displayName": g.DisplayName, "mailNickname": g.MailNickname, "mail": nullable(g.Mail),
		"description": nullable(g.Description), "securityEnabled": g.SecurityEnabled, "mailEnabled": g.MailEnabled,
		"groupTypes": append([]string{}, g.GroupTypes...)}
	return project(all, sel, groupProps)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// project keeps the selected properties (the defaults when sel is empty);
// id is always kept.
func project(all map[string]any, sel, def []string) map[string]any {
	if len(sel) == 0 {
		sel = def
	}
	out := map[string]any{"id": all["id"]}
	for _, k := range sel {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

func selectParam(q url.Values) []string {
	v := q.Get("$select")
	if v == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ---- list queries ----

type listToken struct {
	Kind   string `json:"k"`
	ID     string `json:"g,omitempty"`
	Offset int    `json:"o"`
	Query  string `json:"q"`
}

func encodeToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && json.Unmarshal(b, v) == nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, kind, groupID string) {
	q := r.URL.Query()
	offset := 0
	if st := q.Get("$skiptoken"); st != "" {
		var t listToken
		if !decodeToken(st, &t) || t.Kind != kind || t.ID != groupID {
			graphError(w, http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		orig, _ := url.ParseQuery(t.Query)
		q, offset = orig, t.Offset
	}
	advanced := strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual")
	top := 100
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 999 {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid page size specified: '"+t+"'. Must be between 1 and 999 inclusive.")
			return
		}
		top = n
	}
	var filter expr
	if f := q.Get("$filter"); f != "" {
		e, needsAdvanced, err := parseFilter(f)
		if err != nil {
			graphError(w, http.StatusBadRequest, "BadRequest", "Invalid filter clause: "+err.Error())
			return
		}
		if needsAdvanced && !advanced {
			graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property or its value. Advanced queries need the ConsistencyLevel header set to 'eventual' and $count=true.")
			return
		}
		filter = e
	}
	search := q.Get("$search")
	if search != "" && !advanced {
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		return
	}
	sel := selectParam(q)

	s.mu.Lock()
	if !s.canRead(kind) {
		s.mu.Unlock()
		s.denied(w)
		return
	}
	var items []map[string]any
	var full []map[string]any // unprojected, for $filter and $search
	switch kind {
	case "users":
		for _, x := range s.users {
			items = append(items, userJSON(&x.u, sel))
			full = append(full, userJSON(&x.u, userProps))
		}
	case "groups":
		for _, x := range s.groups {
			items = append(items, groupJSON(&x.g, sel))
			full = append(full, groupJSON(&x.g, groupProps))
		}
	case "members":
		var g *gState
		for _, x := range s.groups {
			if x.g.ID == groupID {
				g = x
			}
		}
		if g == nil {
			s.mu.Unlock()
			graphError(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", groupID))
			return
		}
		onlyUsers := strings.HasSuffix(r.URL.Path, "/microsoft.graph.user")
		for _, m := range g.g.Members {
			if u := s.userLocked(m); u != nil {
				j := userJSON(&u.u, sel)
				j["@odata.type"] = "#microsoft.graph.user"
				items = append(items, j)
				full = append(full, userJSON(&u.u, userProps))
			} else if sg := s.groupLocked(m); sg != nil && !onlyUsers {
				j := groupJSON(&sg.g, sel)
				j["@odata.type"] = "#microsoft.graph.group"
				items = append(items, j)
				full = append(full, groupJSON(&sg.g, groupProps))
			}
		}
	}
	s.mu.Unlock()
	var kept []map[string]any
	for i := range items {
		if filter != nil && !truthy(filter.eval(full[i])) {
			continue
		}
		if search != "" && !matchSearch(full[i], search) {
			continue
		}
		kept = append(kept, items[i])
	}
	resp := map[string]any{"@odata.context": s.Target() + "/$metadata#" + kind}
	if q.Get("$count") == "true" {
		resp["@odata.count"] = len(kept)
	}
	end := min(len(kept), offset+top)
	if offset > len(kept) {
		offset = len(kept)
	}
	if end < len(kept) {
		next := url.Values{"$skiptoken": {encodeToken(listToken{Kind: kind, ID: groupID, Offset: end, Query: q.Encode()})}}
		resp["@odata.nextLink"] = s.srv.URL + r.URL.Path + "?" + next.Encode()
	}
	page := kept[offset:end]
	if page == nil {
		page = []map[string]any{}
	}
	resp["value"] = page
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) userLocked(id string) *uState {
	for _, x := range s.users {
		if x.u.ID == id {
			return x
		}
	}
	return nil
}

func (s *Server) groupLocked(id string) *gState {
	for _, x := range s.groups {
		if x.g.ID == id {
			return x
		}
	}
	return nil
}

// matchSearch evaluates $search: one or more "prop:text" terms (quoted),
// joined by OR or AND; a term matches when the property contains the text.
func matchSearch(obj map[string]any, search string) bool {
	s := strings.TrimSpace(search)
	orParts := strings.Split(s, " OR ")
	for _, part := range orParts {
		all := true
		for _, term := range strings.Split(part, " AND ") {
			term = strings.Trim(strings.TrimSpace(term), `"`)
			prop, text, ok := strings.Cut(term, ":")
			v, _ := obj[prop].(string)
			if !ok || !strings.Contains(strings.ToLower(v), strings.ToLower(text)) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (s *Server) photo(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	u := s.userLocked(id)
	var photo []byte
	if u != nil {
		photo = u.u.Photo
	}
	s.mu.Unlock()
	if len(photo) == 0 {
		graphError(w, http.StatusNotFound, "ImageNotFound", "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.")
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write(photo)
}

// ---- delta ----

type deltaToken struct {
	Kind   string   `json:"k"`
	Since  int64    `json:"s"`
	Upto   int64    `json:"u"`
	Offset int      `json:"o"`           // item index
	Member int      `json:"m,omitempty"` // member offset within the item
	Select []string `json:"sel,omitempty"`
	Gen    int      `json:"g,omitempty"` // the generation of a delta token, see ExpireDeltaTokens
}

type deltaItem struct {
	user    *uState
	group   *gState
	tomb    *tomb
	members []map[string]any // members@delta entries, for groups
}

func (s *Server) delta(w http.ResponseWriter, r *http.Request, kind string) {
	q := r.URL.Query()
	var t deltaToken
	switch {
	case q.Get("$skiptoken") != "":
		if !decodeToken(q.Get("$skiptoken"), &t) || t.Kind != kind {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "The skip token is invalid.")
			return
		}
	case q.Get("$deltatoken") != "":
		var d deltaToken
		if !decodeToken(q.Get("$deltatoken"), &d) || d.Kind != kind {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "The delta token is invalid.")
			return
		}
		s.mu.Lock()
		expired := d.Gen != s.deltaGen
		s.mu.Unlock()
		if expired {
			graphError(w, http.StatusGone, "syncStateNotFound", "The sync state generation is not found. The delta token is expired and data must be synchronized again.")
			return
		}
		t = deltaToken{Kind: kind, Since: d.Upto, Select: d.Select}
		t.Upto = -1
	default:
		if q.Get("$top") != "" || q.Get("$filter") != "" && !strings.HasPrefix(strings.TrimSpace(q.Get("$filter")), "id eq") {
			graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported query.")
			return
		}
		t = deltaToken{Kind: kind, Upto: -1, Select: selectParam(q)}
	}
	pageSize := 100
	for _, pref := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(pref, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "odata.maxpagesize="); ok {
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					pageSize = min(n, 999)
				}
			}
		}
	}
	s.mu.Lock()
	if !s.canRead(kind) {
		s.mu.Unlock()
		s.denied(w)
		return
	}
	if t.Upto == -1 {
		t.Upto = s.seq
	}
	items := s.deltaItemsLocked(kind, t)
	defer s.mu.Unlock() // the objects are read below, as PutUser may change them

	var value []map[string]any
	i, m := t.Offset, t.Member
	budget := pageSize
	maxMembers := s.opts.MaxMembersPerPage
	for i < len(items) && budget > 0 {
		it := items[i]
		var obj map[string]any
		switch {
		case it.tomb != nil:
			obj = map[string]any{"id": it.tomb.id, "@removed": map[string]any{"reason": "deleted"}}
		case it.user != nil:
			obj = userJSON(&it.user.u, t.Select)
		default:
			obj = groupJSON(&it.group.g, t.Select)
			if len(it.members) > 0 {
				end := min(len(it.members), m+maxMembers)
				obj["members@delta"] = it.members[m:end]
				if end < len(it.members) {
					value = append(value, obj)
					m = end
					budget = 0 // this group filled the page
					continue
				}
			}
		}
		value = append(value, obj)
		i, m = i+1, 0
		budget--
	}
	resp := map[string]any{"@odata.context": s.Target() + "/$metadata#" + kind}
	if i < len(items) {
		next := t
		next.Offset, next.Member = i, m
		resp["@odata.nextLink"] = s.Target() + "/" + kind + "/delta?$skiptoken=" + encodeToken(next)
	} else {
		done := deltaToken{Kind: kind, Upto: t.Upto, Select: t.Select, Gen: s.deltaGen}
		resp["@odata.deltaLink"] = s.Target() + "/" + kind + "/delta?$deltatoken=" + encodeToken(done)
	}
	if value == nil {
		value = []map[string]any{}
	}
	resp["value"] = value
	writeJSON(w, http.StatusOK, resp)
}

// deltaItemsLocked lists the objects changed in (Since, Upto], in a stable
// order: current objects by creation, then deletions.
func (s *Server) deltaItemsLocked(kind string, t deltaToken) []deltaItem {
	var out []deltaItem
	in := func(seq int64) bool { return seq > t.Since && seq <= t.Upto }
	switch kind {
	case "users":
		for _, x := range s.users {
			if in(x.changed) {
				out = append(out, deltaItem{user: x})
			}
		}
	case "groups":
		for _, x := range s.groups {
			var members []map[string]any
			if t.Since == 0 {
				for _, id := range x.g.Members {
					members = append(members, s.memberRef(id, false))
				}
			} else {
				for _, c := range s.memberLog {
					if c.group == x.g.ID && in(c.seq) {
						members = append(members, s.memberRef(c.member, c.removed))
					}
				}
			}
			if in(x.changed) || len(members) > 0 {
				out = append(out, deltaItem{group: x, members: members})
			}
		}
	}
	if t.Since > 0 {
		for i := range s.tombs {
			tb := &s.tombs[i]
			if tb.kind+"s" == kind && in(tb.seq) {
				out = append(out, deltaItem{tomb: tb})
			}
		}
	}
	return out
}

func (s *Server) memberRef(id string, removed bool) map[string]any {
	typ := "#microsoft.graph.user"
	if s.groupLocked(id) != nil {
		typ = "#microsoft.graph.group"
	}
	m := map[string]any{"@odata.type": typ, "id": id}
	if removed {
		m["@removed"] = map[string]any{"reason": "deleted"}
	}
	return m
}
