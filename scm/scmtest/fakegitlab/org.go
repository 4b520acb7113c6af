package fakegitlab

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// Organisation data: users and group memberships, served by GraphQL
// queries whose top-level fields are group (and currentUser), parsed and
// validated with github.com/vektah/gqlparser/v2 against the part of GitLab's
// schema in testdata/org-schema.graphql and executed over the groups of the
// fake ([Server.AddGroup]) and the members added with
// [Server.AddGroupMember]; and by GET /api/v4/users (active users, offset
// pagination). Other GraphQL queries go to the fake's project executor.
// Options.MaxComplexity applies to organisation queries too, and
// [Server.SetTokenScopes] makes a token without read_api (or api) get
// GitLab's 403 insufficient_scope.

//go:embed testdata/org-schema.graphql
var orgSchemaText string

// Member is a user and its membership of a group, for
// [Server.AddGroupMember].
type Member struct {
	Username    string
	Name        string // default Username
	PublicEmail string
	AvatarURL   string
	// State is "active" (default), "blocked", "deactivated", ...
	State string
	// Bot marks project and group access token users.
	Bot bool
	// AccessLevel is GitLab's number: 10 guest, 20 reporter, 30 developer
	// (default), 40 maintainer, 50 owner.
	AccessLevel int
	// NoSeat marks a membership that uses no licensed seat on gitlab.com:
	// GET /groups/:id/members/all?show_seat_info=true answers
	// is_using_seat false for it (true otherwise).
	NoSeat bool
}

type orgWorld struct {
	mu      sync.Mutex
	users   []*orgUser
	byName  map[string]*orgUser         // lower-case username
	members map[string][]*orgMembership // lower-case group path
	descr   map[string]string           // lower-case group path -> description
	scopes  map[string][]string         // token -> scopes
	nextID  int64
	once    sync.Once
	schema  *ast.Schema
}

type orgUser struct {
	id                                   int64
	username, name, email, avatar, state string
	bot                                  bool
}

type orgMembership struct {
	user   *orgUser
	level  int
	noSeat bool
}

// AddGroupMember makes m a direct member of the group at groupPath (created
// with its parents if missing). The user is created on first use and
// updated by later calls.
func (s *Server) AddGroupMember(groupPath string, m Member) error {
	if m.Username == "" {
		return fmt.Errorf("fakegitlab: AddGroupMember: username is required")
	}
	if err := s.AddGroup(groupPath); err != nil {
		return err
	}
	w := &s.org
	w.mu.Lock()
	defer w.mu.Unlock()
	u := w.userLocked(m)
	key := strings.ToLower(strings.Trim(groupPath, "/"))
	if w.members == nil {
		w.members = map[string][]*orgMembership{}
	}
	for _, x := range w.members[key] {
		if x.user == u {
			x.level, x.noSeat = cmpOr(m.AccessLevel, 30), m.NoSeat
			return nil
		}
	}
	w.members[key] = append(w.members[key], &orgMembership{user: u, level: cmpOr(m.AccessLevel, 30), noSeat: m.NoSeat})
	return nil
}

// AddOrgUser creates (or updates) a user that need not belong to a group.
func (s *Server) AddOrgUser(m Member) {
	s.org.mu.Lock()
	defer s.org.mu.Unlock()
	s.org.userLocked(m)
}

// RemoveGroupMember removes username from the group's direct members.
func (s *Server) RemoveGroupMember(groupPath, username string) {
	w := &s.org
	w.mu.Lock()
	defer w.mu.Unlock()
	key := strings.ToLower(strings.Trim(groupPath, "/"))
	w.members[key] = slices.DeleteFunc(w.members[key], func(x *orgMembership) bool { return strings.EqualFold(x.user.username, username) })
}

// SetGroupDescription sets a group's description.
func (s *Server) SetGroupDescription(groupPath, description string) {
	w := &s.org
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.descr == nil {
		w.descr = map[string]string{}
	}
	w.descr[strings.ToLower(strings.Trim(groupPath, "/"))] = description
}

// SetTokenScopes records a personal access token's scopes: organisation
// requests from a token with recorded scopes but neither read_api nor api
// get 403 insufficient_scope.
func (s *Server) SetTokenScopes(token string, scopes ...string) {
	s.org.mu.Lock()
	defer s.org.mu.Unlock()
	if s.org.scopes == nil {
		s.org.scopes = map[string][]string{}
	}
	s.org.scopes[token] = slices.Clone(scopes)
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func (w *orgWorld) userLocked(m Member) *orgUser {
	if w.byName == nil {
		w.byName = map[string]*orgUser{}
	}
	u := w.byName[strings.ToLower(m.Username)]
	if u == nil {
		w.nextID++
		u = &orgUser{id: 5000 + w.nextID}
		w.byName[strings.ToLower(m.Username)] = u
		w.users = append(w.users, u)
	}
	u.username, u.name, u.email, u.avatar, u.state, u.bot = m.Username, m.Name, m.PublicEmail, m.AvatarURL, m.State, m.Bot
	if u.name == "" {
		u.name = m.Username
	}
	if u.state == "" {
		u.state = "active"
	}
	if u.avatar == "" {
		u.avatar = fmt.Sprintf("https://secure.gravatar.com/avatar/%d?s=80&d=identicon", u.id)
	}
	return u
}

// scopeDenied writes GitLab's 403 for a token lacking read_api, and
// reports whether it did.
func (s *Server) scopeDenied(w http.ResponseWriter, r *http.Request, accepted ...string) bool {
	tok := r.Header.Get("PRIVATE-TOKEN")
	if h := r.Header.Get("Authorization"); h != "" {
		_, tok, _ = strings.Cut(h, " ")
	}
	s.org.mu.Lock()
	scopes, ok := s.org.scopes[tok]
	s.org.mu.Unlock()
	if !ok {
		return false
	}
	for _, sc := range scopes {
		if slices.Contains(accepted, sc) {
			return false
		}
	}
	s.writeJSON(w, r, http.StatusForbidden, map[string]any{"error": "insufficient_scope",
		"error_description": "The request requires higher privileges than provided by the access token.", "scope": strings.Join(accepted, " ")})
	return true
}

// orgRoutes registers the organisation REST routes.
func (s *Server) orgRoutes() {
	s.handle("GET /api/v4/users", s.listOrgUsers)
	s.handle("GET /api/v4/groups/{id}/members/all", s.listAllGroupMembers)
}

// listAllGroupMembers answers GET /api/v4/groups/:id/members/all: the
// group's direct and inherited (ancestors') members, each user once with
// the highest access level, offset pages; with show_seat_info=true each
// member carries is_using_seat, as on gitlab.com.
func (s *Server) listAllGroupMembers(w http.ResponseWriter, r *http.Request) {
	if !authenticated(r) {
		s.writeJSON(w, r, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return
	}
	if s.scopeDenied(w, r, "read_api", "api") {
		return
	}
	s.mu.Lock()
	ns := s.lookupNamespace(w, r, "group", "Group")
	var paths []string
	for g := ns; g != nil; g = g.parent {
		paths = append(paths, strings.ToLower(g.fullPath))
	}
	s.mu.Unlock()
	if ns == nil {
		return
	}
	seats := r.URL.Query().Get("show_seat_info") == "true"
	s.org.mu.Lock()
	best := map[*orgUser]*orgMembership{}
	var order []*orgUser
	for _, p := range paths {
		for _, m := range s.org.members[p] {
			cur, ok := best[m.user]
			if !ok {
				order = append(order, m.user)
			}
			if !ok || m.level > cur.level {
				best[m.user] = m
			}
		}
	}
	list := []map[string]any{}
	for _, u := range order {
		m := best[u]
		e := map[string]any{"id": u.id, "username": u.username, "name": u.name, "state": u.state,
			"locked": false, "avatar_url": u.avatar, "web_url": s.URL() + "/" + u.username, "bot": u.bot,
			"access_level": m.level, "membership_state": "active"}
		if u.email != "" {
			e["email"] = u.email
		}
		if seats {
			e["is_using_seat"] = !m.noSeat
		}
		list = append(list, e)
	}
	s.org.mu.Unlock()
	start, end := s.offsetPage(w, r, len(list))
	s.writeJSON(w, r, http.StatusOK, list[start:end])
}

// listOrgUsers answers GET /api/v4/users (active=true, offset pages).
func (s *Server) listOrgUsers(w http.ResponseWriter, r *http.Request) {
	if !authenticated(r) {
		s.writeJSON(w, r, http.StatusUnauthorized, map[string]any{"message": "401 Unauthorized"})
		return
	}
	if s.scopeDenied(w, r, "read_user", "read_api", "api") {
		return
	}
	active := r.URL.Query().Get("active") == "true"
	withoutBots := r.URL.Query().Get("exclude_internal") == "true" || r.URL.Query().Get("without_project_bots") == "true"
	s.org.mu.Lock()
	var list []map[string]any
	for _, u := range s.org.users {
		if (active && u.state != "active") || (withoutBots && u.bot) {
			continue
		}
		list = append(list, map[string]any{"id": u.id, "username": u.username, "name": u.name, "state": u.state,
			"locked": false, "avatar_url": u.avatar, "web_url": s.URL() + "/" + u.username, "bot": u.bot,
			"public_email": u.email})
	}
	s.org.mu.Unlock()
	start, end := s.offsetPage(w, r, len(list))
	page := list[start:end]
	if page == nil {
		page = []map[string]any{}
	}
	s.writeJSON(w, r, http.StatusOK, page)
}

func (w *orgWorld) loadSchema() *ast.Schema {
	w.once.Do(func() {
		w.schema = gqlparser.MustLoadSchema(&ast.Source{Name: "org-schema.graphql", Input: orgSchemaText})
	})
	return w.schema
}

// orgGraphQL answers GraphQL queries about groups and members and hands
// every other query to next.
func (s *Server) orgGraphQL(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
		r.Body.Close()
		if err != nil {
			s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"errors": []any{map[string]any{"message": "Unexpected end of document"}}})
			return
		}
		var body struct {
			Query         string         `json:"query"`
			Variables     map[string]any `json:"variables"`
			OperationName string         `json:"operationName"`
		}
		var doc *ast.QueryDocument
		if json.Unmarshal(raw, &body) == nil {
			doc, _ = parser.ParseQuery(&ast.Source{Input: body.Query})
		}
		if doc == nil || !isOrgQuery(doc, body.OperationName) {
			r.Body = io.NopCloser(bytes.NewReader(raw))
			next(w, r)
			return
		}
		if s.scopeDenied(w, r, "read_api", "api") {
			return
		}
		s.serveOrg(w, r, body.Query, body.Variables, body.OperationName)
	}
}

func isOrgQuery(doc *ast.QueryDocument, opName string) bool {
	op := doc.Operations.ForName(opName)
	if op == nil && opName == "" && len(doc.Operations) > 0 {
		op = doc.Operations[0]
	}
	if op == nil || op.Operation != ast.Query {
		return false
	}
	grp := false
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			return false
		}
		// Only queries that ask a group for its members or descendants
		// are organisation queries; the project executor answers the rest.
		switch f.Name {
		case "group":
			for _, sub := range f.SelectionSet {
				if sf, ok := sub.(*ast.Field); ok && (sf.Name == "groupMembers" || sf.Name == "descendantGroups") {
					grp = true
				}
			}
		case "currentUser", "__typename":
		default:
			return false
		}
	}
	return grp
}

type gErr = map[string]any

func (s *Server) serveOrg(w http.ResponseWriter, r *http.Request, query string, vars map[string]any, opName string) {
	schema := s.org.loadSchema()
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil)
	fail := func(list ...any) { s.writeJSON(w, r, http.StatusOK, map[string]any{"errors": list}) }
	if len(errs) > 0 {
		var list []any
		for _, e := range errs {
			list = append(list, gErr{"message": e.Message, "locations": e.Locations})
		}
		fail(list...)
		return
	}
	op := doc.Operations.ForName(opName)
	if op == nil {
		fail(gErr{"message": "An operation name is required"})
		return
	}
	cv, err := validator.VariableValues(schema, op, vars)
	if err != nil {
		fail(gErr{"message": err.Error()})
		return
	}
	ex := &glExec{s: s, vars: cv}
	if c := ex.complexity(op.SelectionSet); s.opts.MaxComplexity > 0 && c > s.opts.MaxComplexity {
		fail(gErr{"message": fmt.Sprintf("Query has complexity of %d, which exceeds max complexity of %d", c, s.opts.MaxComplexity)})
		return
	}
	if e := ex.checkPages(op.SelectionSet); e != nil {
		fail(e)
		return
	}
	s.mu.Lock()
	s.org.mu.Lock()
	data := ex.object(glQuery{}, op.SelectionSet, r)
	s.org.mu.Unlock()
	s.mu.Unlock()
	s.writeJSON(w, r, http.StatusOK, map[string]any{"data": data})
}

type glExec struct {
	s    *Server
	vars map[string]any
}

type (
	glQuery  struct{}
	glGroup  struct{ ns *namespace }
	glMember struct {
		m  *orgMembership
		ns *namespace
	}
	glUser  struct{ u *orgUser }
	glLevel struct{ level int }
	glConn  struct {
		nodes        []any
		start, total int
		hasNext      bool
	}
	glPageInfo struct{ c glConn }
)

func fields(set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			out = append(out, x)
		case *ast.InlineFragment:
			out = append(out, fields(x.SelectionSet)...)
		case *ast.FragmentSpread:
			if x.Definition != nil {
				out = append(out, fields(x.Definition.SelectionSet)...)
			}
		}
	}
	return out
}

func isConn(f *ast.Field) bool {
	return f.Definition != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection")
}

func intArg(args map[string]any, name string) (int, bool) {
	switch v := args[name].(type) {
	case int64:
		return int(v), true
	case int:
		return v, true
	case float64:
		return int(v), true
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	}
	return 0, false
}

// complexity follows the rule documented on Options.MaxComplexity: 1 per
// field plus its selection, a connection's cost growing by 1% per item of
// its page (first, default 100).
func (ex *glExec) complexity(set ast.SelectionSet) int {
	total := 0
	for _, f := range fields(set) {
		c := 1 + ex.complexity(f.SelectionSet)
		if isConn(f) {
			page := 100
			if n, ok := intArg(f.ArgumentMap(ex.vars), "first"); ok {
				page = n
			}
			c = c * (100 + page) / 100
		}
		total += c
	}
	return total
}

// checkPages enforces GitLab's limit of 100 nodes per page.
func (ex *glExec) checkPages(set ast.SelectionSet) gErr {
	for _, f := range fields(set) {
		if isConn(f) {
			args := f.ArgumentMap(ex.vars)
			for _, k := range []string{"first", "last"} {
				if n, ok := intArg(args, k); ok && (n > 100 || n < 0) {
					return gErr{"message": fmt.Sprintf("Requested page size of %d exceeds the maximum of 100", n)}
				}
			}
		}
		if e := ex.checkPages(f.SelectionSet); e != nil {
			return e
		}
	}
	return nil
}

func (ex *glExec) object(node any, set ast.SelectionSet, r *http.Request) map[string]any {
	out := map[string]any{}
	for _, f := range fields(set) {
		key := f.Alias
		if key == "" {
			key = f.Name
		}
		out[key] = ex.value(ex.field(node, f, r), f, r)
	}
	return out
}

func (ex *glExec) value(v any, f *ast.Field, r *http.Request) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		list := make([]any, len(x))
		for i, e := range x {
			list[i] = ex.value(e, f, r)
		}
		return list
	case glQuery, glGroup, glMember, glUser, glLevel, glConn, glPageInfo:
		return ex.object(x, f.SelectionSet, r)
	}
	return v
}

var levelNames = map[int]string{0: "NO_ACCESS", 5: "MINIMAL_ACCESS", 10: "GUEST", 15: "PLANNER", 20: "REPORTER", 30: "DEVELOPER", 40: "MAINTAINER", 50: "OWNER"}

// field resolves one field; the caller holds s.mu and s.org.mu.
func (ex *glExec) field(node any, f *ast.Field, r *http.Request) any {
	s := ex.s
	args := f.ArgumentMap(ex.vars)
	if f.Name == "__typename" {
		return f.ObjectDefinition.Name
	}
	switch n := node.(type) {
	case glQuery:
		switch f.Name {
		case "group":
			p, _ := args["fullPath"].(string)
			ns := s.namespaces[strings.ToLower(strings.Trim(p, "/"))]
			if ns == nil || ns.kind != "group" {
				return nil // GitLab answers null for a missing or invisible group
			}
			return glGroup{ns}
		case "currentUser":
			return nil
		}
	case glGroup:
		switch f.Name {
		case "id":
			return fmt.Sprintf("gid://gitlab/Group/%d", n.ns.id)
		case "fullPath":
			return n.ns.fullPath
		case "fullName":
			return strings.ReplaceAll(n.ns.fullPath, "/", " / ")
		case "name", "path":
			return n.ns.name
		case "description":
			return s.org.descr[strings.ToLower(n.ns.fullPath)]
		case "webUrl":
			return s.URL() + "/groups/" + n.ns.fullPath
		case "avatarUrl":
			return nil
		case "visibility":
			return "private"
		case "parent":
			if n.ns.parent != nil {
				return glGroup{n.ns.parent}
			}
			return nil
		case "descendantGroups":
			var nodes []any
			prefix := strings.ToLower(n.ns.fullPath) + "/"
			for _, ns := range s.sortedGroupsLocked() {
				if strings.HasPrefix(strings.ToLower(ns.fullPath), prefix) {
					nodes = append(nodes, glGroup{ns})
				}
			}
			return glPage(nodes, args)
		case "groupMembers":
			rels := []string{"DIRECT", "INHERITED"}
			if v, ok := args["relations"].([]any); ok {
				rels = rels[:0]
				for _, x := range v {
					if s, ok := x.(string); ok {
						rels = append(rels, s)
					}
				}
			}
			return glPage(ex.members(n.ns, rels), args)
		}
	case glMember:
		switch f.Name {
		case "id":
			return fmt.Sprintf("gid://gitlab/GroupMember/%d%d", n.ns.id, n.m.user.id)
		case "user":
			return glUser{n.m.user}
		case "group":
			return glGroup{n.ns}
		case "accessLevel":
			return glLevel{n.m.level}
		}
	case glLevel:
		switch f.Name {
		case "integerValue":
			return n.level
		case "stringValue":
			return levelNames[n.level]
		}
	case glUser:
		switch f.Name {
		case "id":
			return fmt.Sprintf("gid://gitlab/User/%d", n.u.id)
		case "username":
			return n.u.username
		case "name":
			return n.u.name
		case "publicEmail":
			if n.u.email == "" {
				return nil
			}
			return n.u.email
		case "avatarUrl":
			return n.u.avatar
		case "webUrl":
			return s.URL() + "/" + n.u.username
		case "state":
			return n.u.state
		case "bot":
			return n.u.bot
		}
	case glConn:
		switch f.Name {
		case "nodes":
			return n.nodes
		case "count":
			return n.total
		case "pageInfo":
			return glPageInfo{n}
		}
	case glPageInfo:
		switch f.Name {
		case "hasNextPage":
			return n.c.hasNext
		case "hasPreviousPage":
			return n.c.start > 0
		case "startCursor":
			if len(n.c.nodes) == 0 {
				return nil
			}
			return glCursor(n.c.start)
		case "endCursor":
			if len(n.c.nodes) == 0 {
				return nil
			}
			return glCursor(n.c.start + len(n.c.nodes) - 1)
		}
	}
	return nil
}

func (s *Server) sortedGroupsLocked() []*namespace {
	var out []*namespace
	for _, ns := range s.namespaces {
		if ns.kind == "group" {
			out = append(out, ns)
		}
	}
	slices.SortFunc(out, func(a, b *namespace) int { return int(a.id - b.id) })
	return out
}

// members lists a group's members for the relations asked: DIRECT (its
// own), INHERITED (its ancestors'), DESCENDANTS (its descendants').
// GitLab lists each user once, with the highest access level; so does the
// fake.
func (ex *glExec) members(ns *namespace, rels []string) []any {
	s := ex.s
	var groups []*namespace
	if slices.Contains(rels, "DIRECT") {
		groups = append(groups, ns)
	}
	if slices.Contains(rels, "INHERITED") {
		for p := ns.parent; p != nil; p = p.parent {
			groups = append(groups, p)
		}
	}
	if slices.Contains(rels, "DESCENDANTS") {
		prefix := strings.ToLower(ns.fullPath) + "/"
		for _, g := range s.sortedGroupsLocked() {
			if strings.HasPrefix(strings.ToLower(g.fullPath), prefix) {
				groups = append(groups, g)
			}
		}
	}
	best := map[*orgUser]glMember{}
	var order []*orgUser
	for _, g := range groups {
		for _, m := range s.org.members[strings.ToLower(g.fullPath)] {
			cur, ok := best[m.user]
			if !ok {
				order = append(order, m.user)
			}
			if !ok || m.level > cur.m.level {
				best[m.user] = glMember{m, g}
			}
		}
	}
	out := make([]any, len(order))
	for i, u := range order {
		out[i] = best[u]
	}
	return out
}

func glCursor(i int) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"id":"` + strconv.Itoa(i) + `"}`))
}

func parseGLCursor(c string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &v) != nil {
		return 0, false
	}
	n, err := strconv.Atoi(v.ID)
	return n, err == nil
}

func glPage(nodes []any, args map[string]any) glConn {
	lo, hi := 0, len(nodes)
	if a, ok := args["after"].(string); ok {
		if i, ok := parseGLCursor(a); ok {
			lo = min(i+1, len(nodes))
		}
	}
	first := 100
	if n, ok := intArg(args, "first"); ok {
		first = n
	}
	if hi-lo > first {
		hi = lo + first
	}
	return glConn{nodes: nodes[lo:hi], start: lo, total: len(nodes), hasNext: hi < len(nodes)}
}
