package fakegitlab

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gql"
)

// GraphQL (POST /api/graphql): queries are parsed and validated against
// testdata/schema.graphql (the part of GitLab's schema scmkit uses) by the
// fakes' shared executor, refused with graphql-ruby's messages as GitLab
// words them, priced as Options.MaxComplexity says, and resolved over the
// fake's groups, projects, merge requests and members.

//go:embed testdata/schema.graphql
var schemaText string

// gqlReq is one GraphQL request: the server and the HTTP request, for the
// resolvers (visibility, URLs).
type gqlReq struct {
	s *Server
	r *http.Request
}

// The values the resolvers return for GitLab's object types.
type (
	gqlRoot struct{ x *gqlReq }
	gqlNS   struct {
		x  *gqlReq
		ns *namespace
	}
	gqlProject struct {
		x  *gqlReq
		pr *project
	}
	gqlRepo gqlProject
	gqlBlob struct {
		gqlProject
		ref, path string
		e         entry
	}
	gqlMR struct {
		gqlProject
		m *mergeRequest
	}
	gqlMember struct {
		x  *gqlReq
		m  *orgMembership
		ns *namespace
	}
	gqlUser struct {
		x *gqlReq
		u *orgUser // nil: the authenticated user of the fake
	}
	gqlLevel int
	// gqlConn is a page of a connection: its nodes (from index start of
	// the full list) and whether more follow.
	gqlConn struct {
		nodes        []any
		start, total int
		hasNext      bool
	}
	gqlEdge struct {
		node any
		i    int
	}
	gqlPageInfo gqlConn
)

// executor is the GraphQL executor, built once for every Server (it holds
// no state of its own).
var executor = sync.OnceValue(func() *gql.Executor {
	schema, err := gql.LoadSchema("schema.graphql", schemaText)
	if err != nil {
		panic("fakegitlab: testdata/schema.graphql: " + err.Error())
	}
	x := &gql.Executor{Schema: schema, Resolvers: map[string]gql.Resolver{}}
	for name, def := range schema.Types {
		if def.Kind == ast.Object {
			x.Resolvers[name] = resolve
		}
	}
	return x
})

// graphql serves POST /api/graphql.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	fail := func(errs ...*gql.Error) { s.writeJSON(w, r, http.StatusOK, map[string]any{"errors": errs}) }
	var req gql.Request
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&req); err != nil {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"errors": []*gql.Error{{Message: "Unexpected end of document"}}})
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		fail(&gql.Error{Message: "No query string was present"})
		return
	}
	if s.scopeDenied(w, r, "read_api", "api") {
		return
	}
	op, errs := executor().Prepare(req)
	if errs != nil {
		for _, e := range errs {
			rubyError(e, req)
		}
		fail(errs...)
		return
	}
	if c := complexity(op.Doc.SelectionSet, op.Vars); s.opts.MaxComplexity > 0 && c > s.opts.MaxComplexity {
		fail(&gql.Error{Message: fmt.Sprintf("Query has complexity of %d, which exceeds max complexity of %d", c, s.opts.MaxComplexity)})
		return
	}
	if err := op.Walk(nil, func(f *ast.Field, args map[string]any, _ any) (any, error) {
		for _, k := range []string{"first", "last"} {
			if n, ok := gql.Int(args, k); ok && (n > 100 || n < 0) && strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
				return nil, &gql.Error{Message: fmt.Sprintf("Requested page size of %d exceeds the maximum of 100", n)}
			}
		}
		return nil, nil
	}); err != nil {
		fail(err.(*gql.Error))
		return
	}
	s.mu.Lock()
	s.org.mu.Lock()
	data, errs := op.Execute(r.Context(), gqlRoot{&gqlReq{s: s, r: r}})
	s.org.mu.Unlock()
	s.mu.Unlock()
	out := &orderedMap{}
	out.set("data", ordered(data, op.Doc.SelectionSet))
	if len(errs) > 0 {
		out.set("errors", errs)
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// rubyErrors rewrite gqlparser's validation messages in graphql-ruby's
// words, GitLab's GraphQL server's: rule, gqlparser's message, GitLab's.
var rubyErrors = []struct {
	rule string
	re   *regexp.Regexp
	to   string
}{
	{"FieldsOnCorrectType", regexp.MustCompile(`^Cannot query field "(\w+)" on type "(\w+)".*`), "Field '$1' doesn't exist on type '$2'"},
	{"KnownArgumentNames", regexp.MustCompile(`^Unknown argument "(\w+)" on field "\w+\.(\w+)".*`), "Field '$2' doesn't accept argument '$1'"},
	{"ProvidedRequiredArguments", regexp.MustCompile(`^Field "(\w+)" argument "(\w+)" of type .* is required.*`), "Field '$1' is missing required arguments: $2"},
	{"ScalarLeafs", regexp.MustCompile(`^Field "(\w+)" of type "\[*(\w+)[!\]]*" must have a selection of subfields.*`),
		"Field must have selections (field '$1' returns $2 but has no selections. Did you mean '$1 { ... }'?)"},
	{"ScalarLeafs", regexp.MustCompile(`^Field "(\w+)" must not have a selection since type "\[*(\w+)[!\]]*" has no subfields.*`),
		"Selections can't be made on scalars (field '$1' returns $2 but has selections)"},
	{"NoUndefinedVariables", regexp.MustCompile(`^Variable "\$(\w+)" is not defined.*`), "Variable $$$1 is used by anonymous query but not declared"},
	{"VariablesInAllowedPosition", regexp.MustCompile(`^Variable "\$(\w+)" of type "([^"]+)" used in position expecting type "([^"]+)".*`),
		"Type mismatch on variable $$$1 ($2 / $3)"},
	{"KnownFragmentNames", regexp.MustCompile(`^Unknown fragment "(\w+)".*`), "Fragment $1 was used, but not defined"},
	{"KnownRootType", regexp.MustCompile(`^Schema does not support operation type "(\w+)".*`), "$1 operations are not supported"},
	{"", regexp.MustCompile(`^(?:Expected [^,]+, found|Unexpected) <EOF>$`), "Unexpected end of document"},
	{"", regexp.MustCompile(`^(?:Expected [^,]+, found|Unexpected) <Invalid>$`), "Parse error on bad input"},
	{"", regexp.MustCompile(`^(?:Expected [^,]+, found|Unexpected) (\S+)$`), "Parse error on \"$1\""},
}

// rubyCodes are graphql-ruby's extensions.code of the validation errors.
var rubyCodes = map[string]string{"FieldsOnCorrectType": "undefinedField", "KnownArgumentNames": "argumentNotAccepted",
	"ProvidedRequiredArguments": "missingRequiredArguments", "ScalarLeafs": "selectionMismatch",
	"NoUndefinedVariables": "variableNotDefined", "VariablesInAllowedPosition": "variableMismatch",
	"KnownFragmentNames": "useAndDefineFragment"}

// punctuators names the tokens of graphql-ruby's parse errors.
var punctuators = map[string]string{"(": "LPAREN", ")": "RPAREN", "{": "LCURLY", "}": "RCURLY", "[": "LBRACKET",
	"]": "RBRACKET", ":": "COLON", "=": "EQUALS", "!": "BANG", "$": "VAR_SIGN", "...": "ELLIPSIS"}

// rubyError rewrites e, an error of req's syntax, validation or
// variables, as graphql-ruby words it.
func rubyError(e *gql.Error, req gql.Request) {
	for _, t := range rubyErrors {
		if m := t.re.FindStringSubmatch(e.Message); m != nil && t.rule == e.Rule {
			e.Message = t.re.ReplaceAllString(e.Message, t.to)
			if code := rubyCodes[t.rule]; code != "" {
				e.Extra = map[string]any{"extensions": map[string]any{"code": code}}
			}
			switch {
			case strings.HasSuffix(e.Message, "bad input") && strings.Count(req.Query, `"`)%2 == 1:
				e.Message = "Unterminated string"
			case len(m) > 1 && t.rule == "" && len(e.Locations) > 0:
				e.Message += fmt.Sprintf(" (%s) at [%d, %d]", cmp.Or(punctuators[m[1]], "IDENTIFIER"), e.Locations[0].Line, e.Locations[0].Column)
			}
			return
		}
	}
	// Variables: gqlparser says "must be defined" and the like, without
	// the variable's name; name the first one missing or null.
	doc, err := parser.ParseQuery(&ast.Source{Input: req.Query})
	if err != nil || e.Rule != "" {
		return
	}
	for _, op := range doc.Operations {
		for _, v := range op.VariableDefinitions {
			if v.Type.NonNull && v.DefaultValue == nil && req.Variables[v.Variable] == nil {
				e.Message = fmt.Sprintf("Variable $%s of type %s was provided invalid value", v.Variable, v.Type)
				return
			}
		}
	}
}

// complexity prices a query as Options.MaxComplexity says: 1 per field
// plus its selection, a connection's cost growing by 1% per item of its
// page (first, default 100).
func complexity(set ast.SelectionSet, vars map[string]any) int {
	total := 0
	for _, sel := range set {
		var c int
		switch f := sel.(type) {
		case *ast.Field:
			c = 1 + complexity(f.SelectionSet, vars)
			if f.Definition != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
				page, ok := gql.Int(f.ArgumentMap(vars), "first")
				if !ok {
					page = 100
				}
				c = c * (100 + page) / 100
			}
		case *ast.InlineFragment:
			c = complexity(f.SelectionSet, vars)
		case *ast.FragmentSpread:
			c = complexity(f.Definition.SelectionSet, vars)
		}
		total += c
	}
	return total
}

// resolve resolves every field of GitLab's object types; the caller holds
// s.mu and s.org.mu.
func resolve(f *gql.Field) (any, error) {
	a := f.Args
	switch p := f.Parent.(type) {
	case gqlRoot:
		return p.resolve(f.Name, a), nil
	case gqlNS:
		return p.resolve(f.Name, a), nil
	case gqlProject:
		return p.resolve(f.Name, a), nil
	case gqlRepo:
		return p.resolve(f.Name, a), nil
	case gqlBlob:
		return p.resolve(f.Name), nil
	case gqlMR:
		return p.resolve(f.Name), nil
	case gqlMember:
		return map[string]any{"id": fmt.Sprintf("gid://gitlab/GroupMember/%d%d", p.ns.id, p.m.user.id),
			"user": gqlUser{p.x, p.m.user}, "group": gqlNS{p.x, p.ns}, "accessLevel": gqlLevel(p.m.level)}[f.Name], nil
	case gqlLevel:
		return map[string]any{"integerValue": int(p), "stringValue": levelNames[int(p)]}[f.Name], nil
	case gqlUser:
		return p.resolve(f.Name), nil
	case *gqlConn:
		return p.resolve(f.Name), nil
	case gqlEdge:
		return map[string]any{"node": p.node, "cursor": cursorOf(p.i)}[f.Name], nil
	case gqlPageInfo:
		return p.resolve(f.Name), nil
	}
	return nil, fmt.Errorf("fakegitlab: no resolver for %s.%s", f.Type, f.Name)
}

func (q gqlRoot) resolve(field string, args map[string]any) any {
	s, r := q.x.s, q.x.r
	full, _ := gql.String(args, "fullPath")
	full = strings.ToLower(strings.Trim(full, "/"))
	switch field {
	case "namespace", "group":
		ns := s.namespaces[full]
		if ns == nil || (field == "group" && ns.kind != "group") {
			return nil // GitLab answers null for a missing or invisible namespace
		}
		return gqlNS{q.x, ns}
	case "project":
		if pr := s.projects[full]; pr != nil && visible(r, pr) {
			return gqlProject{q.x, pr}
		}
	case "currentUser":
		if authenticated(r) {
			return gqlUser{x: q.x}
		}
	case "groups":
		return page(s.visibleGroups(q.x, args), args)
	}
	return nil
}

func (n gqlNS) resolve(field string, args map[string]any) any {
	s, ns := n.x.s, n.ns
	switch field {
	case "parent":
		if ns.parent != nil {
			return gqlNS{n.x, ns.parent}
		}
		return nil
	case "projects":
		include, _ := args["includeSubgroups"].(bool)
		search, _ := gql.String(args, "search")
		var nodes []any
		for _, p := range s.projectsUnder(n.x.r, ns, include) {
			if strings.Contains(strings.ToLower(p.path), strings.ToLower(search)) {
				nodes = append(nodes, gqlProject{n.x, p})
			}
		}
		return page(nodes, args)
	case "descendantGroups":
		var nodes []any
		for _, g := range s.descendants(ns) {
			nodes = append(nodes, gqlNS{n.x, g})
		}
		return page(nodes, args)
	case "groupMembers":
		var rels []string
		for _, r := range args["relations"].([]any) {
			rels = append(rels, r.(string))
		}
		return page(n.members(rels), args)
	}
	id, web := "gid://gitlab/Group/"+strconv.FormatInt(ns.id, 10), s.webURL(n.x.r)+"/groups/"+ns.fullPath
	if ns.kind == "user" {
		id, web = "gid://gitlab/Namespaces::UserNamespace/"+strconv.FormatInt(ns.id, 10), s.webURL(n.x.r)+"/"+ns.fullPath
	}
	return map[string]any{"id": id, "fullPath": ns.fullPath, "path": ns.name, "name": ns.name,
		"fullName": strings.ReplaceAll(ns.fullPath, "/", " / "), "webUrl": web, "visibility": "private",
		"description": s.org.descr[strings.ToLower(ns.fullPath)], "avatarUrl": nil}[field]
}

// descendants returns the groups below ns, by id.
func (s *Server) descendants(ns *namespace) []*namespace {
	var out []*namespace
	prefix := strings.ToLower(ns.fullPath) + "/"
	for _, g := range s.namespaces {
		if g.kind == "group" && strings.HasPrefix(strings.ToLower(g.fullPath), prefix) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b *namespace) int { return cmp.Compare(a.id, b.id) })
	return out
}

// members lists a group's members for the relations asked: DIRECT (its
// own), INHERITED (its ancestors'), DESCENDANTS (its descendants'). GitLab
// lists each user once, with the highest access level; so does the fake.
func (n gqlNS) members(rels []string) []any {
	var groups []*namespace
	if slices.Contains(rels, "DIRECT") {
		groups = append(groups, n.ns)
	}
	if slices.Contains(rels, "INHERITED") {
		for p := n.ns.parent; p != nil; p = p.parent {
			groups = append(groups, p)
		}
	}
	if slices.Contains(rels, "DESCENDANTS") {
		groups = append(groups, n.x.s.descendants(n.ns)...)
	}
	best, order := n.x.s.org.bestMemberships(groups)
	out := make([]any, len(order))
	for i, u := range order {
		out[i] = gqlMember{n.x, best[u].m, best[u].ns}
	}
	return out
}

func (p gqlProject) resolve(field string, args map[string]any) any {
	s, r, pr := p.x.s, p.x.r, p.pr
	switch field {
	case "namespace":
		return gqlNS{p.x, pr.ns}
	case "repository":
		return gqlRepo(p)
	case "mergeRequests":
		state, _ := gql.String(args, "state")
		var nodes []any
		for _, m := range slices.Backward(pr.mrs) {
			if (state == "" || state == "all" || m.state == state) && listHas(args, "sourceBranches", m.source) &&
				listHas(args, "targetBranches", m.target) && listHas(args, "iids", strconv.Itoa(m.iid)) {
				nodes = append(nodes, gqlMR{p, m})
			}
		}
		return page(nodes, args)
	}
	if f := projectFields[field]; f != nil {
		return f(p.pr, s.webURL(r)+"/"+p.pr.fullPath(), r)
	}
	return nil
}

// projectFields are Project's scalar fields, given the project, its web
// URL and the request.
var projectFields = map[string]func(pr *project, web string, r *http.Request) any{
	"id": func(pr *project, _ string, _ *http.Request) any {
		return "gid://gitlab/Project/" + strconv.FormatInt(pr.id, 10)
	},
	"fullPath":          func(pr *project, _ string, _ *http.Request) any { return pr.fullPath() },
	"path":              func(pr *project, _ string, _ *http.Request) any { return pr.path },
	"name":              func(pr *project, _ string, _ *http.Request) any { return pr.name },
	"nameWithNamespace": func(pr *project, _ string, _ *http.Request) any { return pr.ns.name + " / " + pr.name },
	"description":       func(pr *project, _ string, _ *http.Request) any { return pr.description },
	"webUrl":            func(_ *project, web string, _ *http.Request) any { return web },
	"httpUrlToRepo":     func(_ *project, web string, _ *http.Request) any { return web + ".git" },
	"sshUrlToRepo": func(pr *project, _ string, r *http.Request) any {
		return "git@" + strings.Split(r.Host, ":")[0] + ":" + pr.fullPath() + ".git"
	},
	"visibility":     func(pr *project, _ string, _ *http.Request) any { return string(pr.visibility) },
	"archived":       func(pr *project, _ string, _ *http.Request) any { return pr.archived },
	"createdAt":      func(pr *project, _ string, _ *http.Request) any { return ts(pr.created) },
	"lastActivityAt": func(pr *project, _ string, _ *http.Request) any { return ts(pr.created) },
}

// listHas reports whether the list argument name is absent or holds v.
func listHas(args map[string]any, name, v string) bool {
	list, ok := args[name].([]any)
	return !ok || slices.Contains(list, any(v))
}

func (g gqlRepo) resolve(field string, args map[string]any) any {
	pr := g.pr
	switch field {
	case "rootRef":
		if len(pr.branches) > 0 {
			return pr.defaultBranch
		}
	case "empty":
		return len(pr.branches) == 0
	case "exists":
		return true
	case "blobs":
		// The paths that are files at ref (default: HEAD), in the order
		// asked; a ref that names nothing gives no blobs.
		ref, _ := gql.String(args, "ref")
		var nodes []any
		if c := pr.resolve(ref); c != nil {
			for _, p := range args["paths"].([]any) {
				if e, ok := c.files[p.(string)]; ok {
					nodes = append(nodes, gqlBlob{gqlProject(g), cmp.Or(ref, pr.defaultBranch), p.(string), e})
				}
			}
		}
		return page(nodes, args)
	case "branchNames":
		// GitLab's pattern knows only "*": any run of characters.
		pat, _ := gql.String(args, "searchPattern")
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(pat), `\*`, ".*") + "$")
		names := slices.DeleteFunc(slices.Sorted(maps.Keys(pr.branches)), func(n string) bool { return !re.MatchString(n) })
		off, _ := gql.Int(args, "offset")
		limit, _ := gql.Int(args, "limit")
		off = min(max(off, 0), len(names))
		return names[off:min(off+max(limit, 0), len(names))]
	}
	return nil
}

func (b gqlBlob) resolve(field string) any {
	content := b.pr.blobs[b.e.blob]
	switch field {
	case "oid":
		return b.e.blob
	case "path":
		return b.path
	case "mode":
		return b.e.mode()
	case "webUrl":
		return b.x.s.webURL(b.x.r) + "/" + b.pr.fullPath() + "/-/blob/" + b.ref + "/" + b.path
	case "rawBlob", "rawTextBlob":
		return string(content)
	}
	return map[string]any{"id": "gid://gitlab/Blob/" + b.e.blob, "name": path.Base(b.path),
		"size": strconv.Itoa(len(content)), "rawSize": strconv.Itoa(len(content))}[field]
}

func (g gqlMR) resolve(field string) any {
	m, pr := g.m, g.pr
	head, exists := pr.branches[m.source]
	var sha any
	if exists {
		sha = head
	}
	return map[string]any{"id": "gid://gitlab/MergeRequest/" + strconv.FormatInt(m.id, 10), "iid": strconv.Itoa(m.iid),
		"title": m.title, "description": m.description, "state": m.state, "sourceBranch": m.source, "targetBranch": m.target,
		"webUrl":      g.x.s.webURL(g.x.r) + "/" + pr.fullPath() + "/-/merge_requests/" + strconv.Itoa(m.iid),
		"diffHeadSha": sha, "draft": isDraft(m.title), "sourceBranchExists": exists,
		"createdAt": ts(m.created), "updatedAt": ts(m.updated)}[field]
}

func (u gqlUser) resolve(field string) any {
	s := u.x.s
	if u.u == nil { // the authenticated user
		return map[string]any{"id": "gid://gitlab/User/1", "username": s.opts.User, "name": s.opts.User,
			"webUrl": s.webURL(u.x.r) + "/" + s.opts.User, "state": "active", "bot": false}[field]
	}
	var email any
	if u.u.email != "" {
		email = u.u.email
	}
	return map[string]any{"id": fmt.Sprintf("gid://gitlab/User/%d", u.u.id), "username": u.u.username, "name": u.u.name,
		"publicEmail": email, "avatarUrl": u.u.avatar, "webUrl": s.URL() + "/" + u.u.username,
		"state": u.u.state, "bot": u.u.bot}[field]
}

var levelNames = map[int]string{0: "NO_ACCESS", 5: "MINIMAL_ACCESS", 10: "GUEST", 15: "PLANNER", 20: "REPORTER", 30: "DEVELOPER", 40: "MAINTAINER", 50: "OWNER"}

// page picks the page that first/after select from nodes. The cursor is
// GitLab's shape, base64 of {"id":"N"}, N the index in the full list.
func page(nodes []any, args map[string]any) *gqlConn {
	lo, hi := 0, len(nodes)
	if a, ok := gql.String(args, "after"); ok {
		if i, ok := parseCursor(a); ok {
			lo = min(i+1, len(nodes))
		}
	}
	if first, ok := gql.Int(args, "first"); ok && hi-lo > first {
		hi = lo + first
	} else if !ok && hi-lo > 100 {
		hi = lo + 100 // GitLab's default and maximum page size
	}
	return &gqlConn{nodes: nodes[lo:hi], start: lo, total: len(nodes), hasNext: hi < len(nodes)}
}

func (c *gqlConn) resolve(field string) any {
	switch field {
	case "nodes":
		return c.nodes
	case "edges":
		out := make([]any, len(c.nodes))
		for i, n := range c.nodes {
			out[i] = gqlEdge{n, c.start + i}
		}
		return out
	case "count":
		return c.total
	case "pageInfo":
		return gqlPageInfo(*c)
	}
	return nil
}

func (p gqlPageInfo) resolve(field string) any {
	var start, end any
	if len(p.nodes) > 0 {
		start, end = cursorOf(p.start), cursorOf(p.start+len(p.nodes)-1)
	}
	return map[string]any{"hasNextPage": p.hasNext, "hasPreviousPage": p.start > 0, "startCursor": start, "endCursor": end}[field]
}

func cursorOf(i int) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"id":"` + strconv.Itoa(i) + `"}`))
}

func parseCursor(c string) (int, bool) {
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

// ordered orders the keys of v, the executor's data, as set selects them:
// GitLab answers in selection order.
func ordered(v any, set ast.SelectionSet) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ordered(e, set)
		}
		return out
	case map[string]any:
		m := &orderedMap{}
		var visit func(set ast.SelectionSet)
		visit = func(set ast.SelectionSet) {
			for _, sel := range set {
				switch f := sel.(type) {
				case *ast.Field:
					k := cmp.Or(f.Alias, f.Name)
					if val, ok := x[k]; ok && !slices.Contains(m.keys, k) {
						m.set(k, ordered(val, f.SelectionSet))
					}
				case *ast.InlineFragment:
					visit(f.SelectionSet)
				case *ast.FragmentSpread:
					visit(f.Definition.SelectionSet)
				}
			}
		}
		visit(set)
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if !slices.Contains(m.keys, k) {
				m.set(k, x[k])
			}
		}
		return m
	}
	return v
}

// orderedMap is a JSON object that keeps its keys in insertion order.
type orderedMap struct {
	keys []string
	vals []any
}

func (m *orderedMap) set(k string, v any) { m.keys, m.vals = append(m.keys, k), append(m.vals, v) }

func (m *orderedMap) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(fake.Marshal(k))
		buf.WriteByte(':')
		buf.Write(fake.Marshal(m.vals[i]))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
