package fakegithub

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

// Organisation data: members and teams of organisations, served by GraphQL
// queries whose top-level fields are organization (and rateLimit), as
// GitHub answers them. Those queries are parsed and validated with
// github.com/vektah/gqlparser/v2 against a subset of GitHub's schema
// (testdata/org-schema.graphql) and executed over the organisations seeded
// with [Server.AddOrgMember] and [Server.AddTeam]. Other GraphQL queries go
// to the fake's repository executor.
//
// The org executor enforces GitHub's rules that readers trip over: first or
// last on every connection, at most 100 per page, a node limit
// ([OrgLimits.MaxNodes], answered RESOURCE_LIMITS_EXCEEDED), the read:org
// scope of classic tokens ([Server.SetTokenScopes]: INSUFFICIENT_SCOPES)
// and the Members permission of GitHub App installations (FORBIDDEN).

//go:embed testdata/org-schema.graphql
var orgSchemaText string

// OrgMember is a member of an organisation, for [Server.AddOrgMember].
type OrgMember struct {
	Login     string
	Name      string // display name, may be empty
	Email     string // public e-mail, may be empty
	AvatarURL string // default https://avatars.githubusercontent.com/u/<n>
}

// Team is a team of an organisation, for [Server.AddTeam].
type Team struct {
	Slug        string
	Name        string // default Slug
	Description string
	// Parent is the parent team's slug, or "".
	Parent string
	// Members are the logins of the team's immediate members; each must
	// be a member of the organisation.
	Members []string
}

// OrgLimits tunes the org executor's limits.
type OrgLimits struct {
	// MaxNodes, when > 0, is the number of nodes a query may ask for (the
	// product of nested connections' page sizes, summed as GitHub counts
	// them); a larger query is answered with a RESOURCE_LIMITS_EXCEEDED
	// error and no data, as GitHub answers queries it cannot finish.
	MaxNodes int
}

// orgWorld is the organisation state of a Server; its zero value is empty.
type orgWorld struct {
	mu     sync.Mutex
	orgs   map[string]*fakeOrg // by lower-case login
	limits OrgLimits
	scopes map[string][]string // token -> classic scopes
	nextID int
	used   int // GraphQL rate-limit points used
	// userIDs are the users' node ids by lower-case login: one per user,
	// whichever organisation lists her and whatever /user answers.
	userIDs map[string]string

	once   sync.Once
	schema *ast.Schema
}

type fakeOrg struct {
	login, id string
	members   []*orgUser
	byLogin   map[string]*orgUser
	teams     []*fakeTeam
	bySlug    map[string]*fakeTeam
}

type orgUser struct {
	login, name, email, avatar, id string
}

type fakeTeam struct {
	slug, name, description, parent, id string
	members                             []string
}

func (w *orgWorld) orgLocked(login string) *fakeOrg {
	if w.orgs == nil {
		w.orgs = map[string]*fakeOrg{}
	}
	o := w.orgs[strings.ToLower(login)]
	if o == nil {
		w.nextID++
		o = &fakeOrg{login: login, id: orgNodeID("O_kgDO", w.nextID), byLogin: map[string]*orgUser{}, bySlug: map[string]*fakeTeam{}}
		w.orgs[strings.ToLower(login)] = o
	}
	return o
}

// userIDLocked returns the node id of the user login, made on first use.
func (w *orgWorld) userIDLocked(login string) string {
	key := strings.ToLower(login)
	if id, ok := w.userIDs[key]; ok {
		return id
	}
	if w.userIDs == nil {
		w.userIDs = map[string]string{}
	}
	w.nextID++
	w.userIDs[key] = orgNodeID("U_kgDO", w.nextID)
	return w.userIDs[key]
}

// userNodeID is the node id of the user login, the same in /user's
// node_id and in the GraphQL organisation answers.
func (w *orgWorld) userNodeID(login string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.userIDLocked(login)
}

// nodeID returns a GitHub-shaped global node id.
func orgNodeID(prefix string, n int) string {
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%08d", n)))
}

// AddOrgMember makes m a member of the organisation org (created, as an
// Organization owner, if needed). Adding a login again updates it.
func (s *Server) AddOrgMember(org string, m OrgMember) error {
	if org == "" || m.Login == "" {
		return fmt.Errorf("fakegithub: AddOrgMember: org and login are required")
	}
	s.AddOwner(org, Organization)
	w := &s.org
	w.mu.Lock()
	defer w.mu.Unlock()
	o := w.orgLocked(org)
	u := o.byLogin[strings.ToLower(m.Login)]
	if u == nil {
		u = &orgUser{id: w.userIDLocked(m.Login)}
		o.byLogin[strings.ToLower(m.Login)] = u
		o.members = append(o.members, u)
	}
	u.login, u.name, u.email, u.avatar = m.Login, m.Name, m.Email, m.AvatarURL
	if u.avatar == "" {
		u.avatar = fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", w.nextID)
	}
	return nil
}

// RemoveOrgMember removes login from the organisation and its teams.
func (s *Server) RemoveOrgMember(org, login string) {
	w := &s.org
	w.mu.Lock()
	defer w.mu.Unlock()
	o := w.orgLocked(org)
	u := o.byLogin[strings.ToLower(login)]
	if u == nil {
		return
	}
	delete(o.byLogin, strings.ToLower(login))
	o.members = slices.DeleteFunc(o.members, func(x *orgUser) bool { return x == u })
	for _, t := range o.teams {
		t.members = slices.DeleteFunc(t.members, func(l string) bool { return strings.EqualFold(l, login) })
	}
}

// AddTeam adds (or replaces) a team of org. Its parent must exist and its
// members must be members of org.
func (s *Server) AddTeam(org string, t Team) error {
	if org == "" || t.Slug == "" {
		return fmt.Errorf("fakegithub: AddTeam: org and slug are required")
	}
	s.AddOwner(org, Organization)
	w := &s.org
	w.mu.Lock()
	defer w.mu.Unlock()
	o := w.orgLocked(org)
	if t.Parent != "" && o.bySlug[strings.ToLower(t.Parent)] == nil {
		return fmt.Errorf("fakegithub: AddTeam %s: no parent team %q in %s", t.Slug, t.Parent, org)
	}
	for _, m := range t.Members {
		if o.byLogin[strings.ToLower(m)] == nil {
			return fmt.Errorf("fakegithub: AddTeam %s: %q is not a member of %s", t.Slug, m, org)
		}
	}
	ft := o.bySlug[strings.ToLower(t.Slug)]
	if ft == nil {
		w.nextID++
		ft = &fakeTeam{id: orgNodeID("T_kwDO", w.nextID)}
		o.bySlug[strings.ToLower(t.Slug)] = ft
		o.teams = append(o.teams, ft)
	}
	ft.slug, ft.name, ft.description, ft.parent = t.Slug, t.Name, t.Description, t.Parent
	if ft.name == "" {
		ft.name = t.Slug
	}
	ft.members = slices.Clone(t.Members)
	return nil
}

// SetOrgLimits sets the org executor's limits.
func (s *Server) SetOrgLimits(l OrgLimits) {
	s.org.mu.Lock()
	defer s.org.mu.Unlock()
	s.org.limits = l
}

// SetTokenScopes records the OAuth scopes of a classic token (one of
// Options.Tokens). Org queries from a token with recorded scopes but none of
// read:org, write:org or admin:org get GitHub's INSUFFICIENT_SCOPES error.
// Tokens without recorded scopes may read every organisation.
func (s *Server) SetTokenScopes(token string, scopes ...string) {
	s.org.mu.Lock()
	defer s.org.mu.Unlock()
	if s.org.scopes == nil {
		s.org.scopes = map[string][]string{}
	}
	s.org.scopes[token] = slices.Clone(scopes)
}

func (w *orgWorld) loadSchema() *ast.Schema {
	w.once.Do(func() {
		w.schema = gqlparser.MustLoadSchema(&ast.Source{Name: "org-schema.graphql", Input: orgSchemaText})
	})
	return w.schema
}

// orgGraphQL answers GraphQL queries about organisations and hands every
// other query to next.
func (s *Server) orgGraphQL(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 10<<20))
		r.Body.Close()
		if err != nil {
			s.writeError(w, r, http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/graphql")
			return
		}
		var body struct {
			Query         string         `json:"query"`
			Variables     map[string]any `json:"variables"`
			OperationName string         `json:"operationName"`
		}
		doc, perr := (*ast.QueryDocument)(nil), error(nil)
		if json.Unmarshal(raw, &body) == nil {
			doc, perr = parser.ParseQuery(&ast.Source{Input: body.Query})
		}
		if doc == nil || perr != nil || !isOrgQuery(doc, body.OperationName) {
			r.Body = io.NopCloser(bytes.NewReader(raw))
			next(w, r)
			return
		}
		s.org.serve(s, w, r, body.Query, body.Variables, body.OperationName)
	}
}

// isOrgQuery reports whether the operation's top-level fields are
// organization (at least once), rateLimit and __typename only.
func isOrgQuery(doc *ast.QueryDocument, opName string) bool {
	op := doc.Operations.ForName(opName)
	if op == nil && opName == "" && len(doc.Operations) > 0 {
		op = doc.Operations[0]
	}
	if op == nil || op.Operation != ast.Query {
		return false
	}
	org := false
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			return false
		}
		switch f.Name {
		case "organization":
			org = true
		case "rateLimit", "__typename":
		default:
			return false
		}
	}
	return org
}

type gqlErr = map[string]any

func (w *orgWorld) serve(s *Server, rw http.ResponseWriter, r *http.Request, query string, vars map[string]any, opName string) {
	if !authenticated(r) {
		s.writeJSON(rw, r, http.StatusUnauthorized, map[string]any{
			"message": "This endpoint requires you to be authenticated.", "documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql", "status": "401"})
		return
	}
	schema := w.loadSchema()
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil)
	if len(errs) > 0 {
		list := make([]any, 0, len(errs))
		for _, e := range errs {
			list = append(list, gqlErr{"message": e.Message, "locations": e.Locations, "extensions": gqlErr{"code": "undefinedField"}})
		}
		s.writeJSON(rw, r, http.StatusOK, map[string]any{"errors": list})
		return
	}
	op := doc.Operations.ForName(opName)
	if op == nil {
		s.writeJSON(rw, r, http.StatusOK, map[string]any{"errors": []any{gqlErr{"message": "An operation name is required"}}})
		return
	}
	cv, err := validator.VariableValues(schema, op, vars)
	if err != nil {
		s.writeJSON(rw, r, http.StatusOK, map[string]any{"errors": []any{gqlErr{"message": err.Error()}}})
		return
	}
	ex := &orgExec{w: w, vars: cv}
	// Static checks, as GitHub makes them before executing anything.
	nodes, perr := ex.countNodes(op.SelectionSet, 1)
	if perr != nil {
		s.writeJSON(rw, r, http.StatusOK, map[string]any{"errors": []any{perr}})
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if max := w.limits.MaxNodes; max > 0 && nodes > max {
		s.writeJSON(rw, r, http.StatusOK, map[string]any{"data": nil, "errors": []any{gqlErr{
			"type": "RESOURCE_LIMITS_EXCEEDED", "path": []any{}, "locations": []any{gqlErr{"line": 1, "column": 1}},
			"message": "Resource limits for this query exceeded."}}})
		return
	}
	if e := w.checkAccess(r, op, cv); e != nil {
		if scopes, ok := w.scopes[bearer(r)]; ok {
			rw.Header().Set("X-OAuth-Scopes", strings.Join(scopes, ", "))
			rw.Header().Set("X-Accepted-OAuth-Scopes", "read:org")
		}
		s.writeJSON(rw, r, http.StatusOK, map[string]any{"data": nil, "errors": []any{e}})
		return
	}
	cost := max(1, nodes/100)
	w.used += cost
	ex.cost = cost
	data := ex.object(orgQueryNode{}, op.SelectionSet)
	resp := map[string]any{"data": data}
	if len(ex.errs) > 0 {
		resp["errors"] = ex.errs
	}
	s.writeJSON(rw, r, http.StatusOK, resp)
}

func bearer(r *http.Request) string {
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return tok
}

// checkAccess returns GitHub's error for a caller that may not read
// organisation members: a classic token without read:org, or an
// installation token without the Members permission or of another account.
func (w *orgWorld) checkAccess(r *http.Request, op *ast.OperationDefinition, vars map[string]any) gqlErr {
	loc := gqlErr{"line": 1, "column": 1}
	if len(op.SelectionSet) > 0 {
		if f, ok := op.SelectionSet[0].(*ast.Field); ok && f.Position != nil {
			loc = gqlErr{"line": f.Position.Line, "column": f.Position.Column}
		}
	}
	if it, _ := r.Context().Value(tokenKey).(*installToken); it != nil {
		if it.permissions["members"] == "" {
			return gqlErr{"type": "FORBIDDEN", "path": []any{"organization"}, "locations": []any{loc},
				"message": "Resource not accessible by integration"}
		}
		// An installation token reads its own account's organisation only.
		for _, f := range collectFields(op.SelectionSet) {
			if f.Name != "organization" {
				continue
			}
			login, _ := strArg(f.ArgumentMap(vars), "login")
			if !strings.EqualFold(login, it.inst.account.login) {
				return gqlErr{"type": "FORBIDDEN", "path": []any{aliasOr(f)}, "locations": []any{loc},
					"message": "Resource not accessible by integration"}
			}
		}
		return nil
	}
	scopes, ok := w.scopes[bearer(r)]
	if !ok {
		return nil
	}
	for _, sc := range scopes {
		if sc == "read:org" || sc == "write:org" || sc == "admin:org" {
			return nil
		}
	}
	quoted := make([]string, len(scopes))
	for i, sc := range scopes {
		quoted[i] = "'" + sc + "'"
	}
	return gqlErr{"type": "INSUFFICIENT_SCOPES", "locations": []any{loc},
		"message": "Your token has not been granted the required scopes to execute this query. The 'membersWithRole' field requires one of the following scopes: ['read:org'], but your token has only been granted the: [" +
			strings.Join(quoted, ", ") + "] scopes. Please modify your token's scopes at: https://github.com/settings/tokens."}
}

// orgExec executes one validated org query; the caller holds w.mu.
type orgExec struct {
	w    *orgWorld
	vars map[string]any
	errs []any
	cost int
}

type (
	orgQueryNode struct{}
	orgNode      struct{ o *fakeOrg }
	orgUserNode  struct {
		o *fakeOrg
		u *orgUser
	}
	orgTeamNode struct {
		o *fakeOrg
		t *fakeTeam
	}
	orgConn struct {
		nodes            []any
		start, total     int
		hasNext, hasPrev bool
	}
	orgPageInfo  struct{ c orgConn }
	orgRateLimit struct{ cost int }
)

// countNodes estimates the nodes a selection asks for, as GitHub does: each
// connection's first (or last) times the connections above it. It also
// enforces GitHub's pagination rules.
func (ex *orgExec) countNodes(set ast.SelectionSet, mult int) (int, gqlErr) {
	total := 0
	for _, f := range collectFields(set) {
		n := mult
		if f.Definition != nil && strings.HasSuffix(strings.TrimSuffix(f.Definition.Type.Name(), "!"), "Connection") {
			args := f.ArgumentMap(ex.vars)
			first, hasFirst := intArg(args, "first")
			last, hasLast := intArg(args, "last")
			if !hasFirst && !hasLast {
				return 0, gqlErr{"type": "MISSING_PAGINATION_BOUNDARIES", "path": []any{f.Alias},
					"message": fmt.Sprintf("You must provide a `first` or `last` value to properly paginate the `%s` connection.", f.Name)}
			}
			page := max(first, last)
			if page > 100 || page < 0 {
				return 0, gqlErr{"type": "EXCESSIVE_PAGINATION", "path": []any{f.Alias},
					"message": fmt.Sprintf("Requesting %d records on the `%s` connection exceeds the `first` limit of 100 records.", page, f.Name)}
			}
			n = mult * max(page, 1)
			total += n
		}
		sub, err := ex.countNodes(f.SelectionSet, n)
		if err != nil {
			return 0, err
		}
		total += sub
	}
	return total, nil
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

func strArg(args map[string]any, name string) (string, bool) {
	v, ok := args[name].(string)
	return v, ok
}

// collectFields flattens fragments (the org schema has no abstract types,
// so every fragment applies).
func collectFields(set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			out = append(out, x)
		case *ast.InlineFragment:
			out = append(out, collectFields(x.SelectionSet)...)
		case *ast.FragmentSpread:
			if x.Definition != nil {
				out = append(out, collectFields(x.Definition.SelectionSet)...)
			}
		}
	}
	return out
}

func (ex *orgExec) object(node any, set ast.SelectionSet) map[string]any {
	out := map[string]any{}
	for _, f := range collectFields(set) {
		key := f.Alias
		if key == "" {
			key = f.Name
		}
		out[key] = ex.value(ex.field(node, f), f)
	}
	return out
}

func (ex *orgExec) value(v any, f *ast.Field) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		list := make([]any, len(x))
		for i, e := range x {
			list[i] = ex.value(e, f)
		}
		return list
	case orgQueryNode, orgNode, orgUserNode, orgTeamNode, orgConn, orgPageInfo, orgRateLimit:
		return ex.object(x, f.SelectionSet)
	}
	return v
}

func (ex *orgExec) field(node any, f *ast.Field) any {
	args := f.ArgumentMap(ex.vars)
	if f.Name == "__typename" {
		return f.ObjectDefinition.Name
	}
	switch n := node.(type) {
	case orgQueryNode:
		switch f.Name {
		case "organization":
			login, _ := strArg(args, "login")
			o := ex.w.orgs[strings.ToLower(login)]
			if o == nil {
				ex.errs = append(ex.errs, gqlErr{"type": "NOT_FOUND", "path": []any{aliasOr(f)},
					"locations": []any{gqlErr{"line": f.Position.Line, "column": f.Position.Column}},
					"message":   fmt.Sprintf("Could not resolve to an Organization with the login of '%s'.", login)})
				return nil
			}
			return orgNode{o}
		case "rateLimit":
			return orgRateLimit{ex.cost}
		}
	case orgRateLimit:
		switch f.Name {
		case "cost":
			return n.cost
		case "limit":
			return 5000
		case "nodeCount":
			return n.cost * 100
		case "remaining":
			return max(0, 5000-ex.w.used)
		case "used":
			return ex.w.used
		case "resetAt":
			return "2030-01-01T00:00:00Z"
		}
	case orgNode:
		switch f.Name {
		case "id":
			return n.o.id
		case "login":
			return n.o.login
		case "name":
			return n.o.login
		case "membersWithRole":
			nodes := make([]any, len(n.o.members))
			for i, u := range n.o.members {
				nodes[i] = orgUserNode{n.o, u}
			}
			return page(nodes, args)
		case "teams":
			var nodes []any
			root, _ := args["rootTeamsOnly"].(bool)
			logins, _ := args["userLogins"].([]any)
			for _, t := range n.o.teams {
				if root && t.parent != "" {
					continue
				}
				if len(logins) > 0 && !teamHasAny(t, logins) {
					continue
				}
				nodes = append(nodes, orgTeamNode{n.o, t})
			}
			return page(nodes, args)
		case "team":
			slug, _ := strArg(args, "slug")
			if t := n.o.bySlug[strings.ToLower(slug)]; t != nil {
				return orgTeamNode{n.o, t}
			}
			return nil
		}
	case orgUserNode:
		switch f.Name {
		case "id":
			return n.u.id
		case "login":
			return n.u.login
		case "name":
			if n.u.name == "" {
				return nil
			}
			return n.u.name
		case "email":
			return n.u.email
		case "avatarUrl":
			return n.u.avatar
		case "organizationVerifiedDomainEmails":
			return []any{}
		}
	case orgTeamNode:
		switch f.Name {
		case "id":
			return n.t.id
		case "slug":
			return n.t.slug
		case "name":
			return n.t.name
		case "description":
			if n.t.description == "" {
				return nil
			}
			return n.t.description
		case "combinedSlug":
			return n.o.login + "/" + n.t.slug
		case "avatarUrl":
			return nil
		case "parentTeam":
			if p := n.o.bySlug[strings.ToLower(n.t.parent)]; p != nil {
				return orgTeamNode{n.o, p}
			}
			return nil
		case "childTeams":
			var nodes []any
			for _, c := range n.o.teams {
				if strings.EqualFold(c.parent, n.t.slug) {
					nodes = append(nodes, orgTeamNode{n.o, c})
				}
			}
			return page(nodes, args)
		case "members":
			membership, _ := args["membership"].(string)
			var nodes []any
			for _, l := range ex.teamMembers(n.o, n.t, membership) {
				if u := n.o.byLogin[strings.ToLower(l)]; u != nil {
					nodes = append(nodes, orgUserNode{n.o, u})
				}
			}
			return page(nodes, args)
		}
	case orgConn:
		switch f.Name {
		case "nodes":
			return n.nodes
		case "totalCount":
			return n.total
		case "pageInfo":
			return orgPageInfo{n}
		}
	case orgPageInfo:
		switch f.Name {
		case "hasNextPage":
			return n.c.hasNext
		case "hasPreviousPage":
			return n.c.hasPrev
		case "startCursor":
			if len(n.c.nodes) == 0 {
				return nil
			}
			return cursor(n.c.start)
		case "endCursor":
			if len(n.c.nodes) == 0 {
				return nil
			}
			return cursor(n.c.start + len(n.c.nodes) - 1)
		}
	}
	return nil
}

func aliasOr(f *ast.Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}

func teamHasAny(t *fakeTeam, logins []any) bool {
	for _, l := range logins {
		s, _ := l.(string)
		if slices.ContainsFunc(t.members, func(m string) bool { return strings.EqualFold(m, s) }) {
			return true
		}
	}
	return false
}

// teamMembers lists a team's members: IMMEDIATE, CHILD_TEAM (members of
// the teams below only) or ALL (both, de-duplicated), in a stable order.
func (ex *orgExec) teamMembers(o *fakeOrg, t *fakeTeam, membership string) []string {
	if membership == "IMMEDIATE" {
		return t.members
	}
	seen := map[string]bool{}
	var out []string
	var walk func(t *fakeTeam, depth int)
	walk = func(t *fakeTeam, depth int) {
		if depth > 64 {
			return
		}
		if depth > 0 || membership != "CHILD_TEAM" {
			for _, m := range t.members {
				if !seen[strings.ToLower(m)] {
					seen[strings.ToLower(m)] = true
					out = append(out, m)
				}
			}
		}
		for _, c := range o.teams {
			if strings.EqualFold(c.parent, t.slug) {
				walk(c, depth+1)
			}
		}
	}
	walk(t, 0)
	return out
}

func cursor(i int) string {
	return base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(i)))
}

func parseCursor(c string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "cursor:v2:"))
	return n, err == nil && strings.HasPrefix(string(b), "cursor:v2:")
}

// page cuts a connection's page out of nodes by first/after (or
// last/before), as GitHub's cursor pagination does.
func page(nodes []any, args map[string]any) orgConn {
	lo, hi := 0, len(nodes)
	if a, ok := strArg(args, "after"); ok {
		if i, ok := parseCursor(a); ok {
			lo = min(i+1, len(nodes))
		}
	}
	if b, ok := strArg(args, "before"); ok {
		if i, ok := parseCursor(b); ok {
			hi = max(lo, min(i, len(nodes)))
		}
	}
	if first, ok := intArg(args, "first"); ok && hi-lo > first {
		hi = lo + first
	} else if last, ok := intArg(args, "last"); ok && hi-lo > last {
		lo = hi - last
	}
	return orgConn{nodes: nodes[lo:hi], start: lo, total: len(nodes), hasNext: hi < len(nodes), hasPrev: lo > 0}
}
