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
// resolvers (visibility, URLs). Its methods build GitLab's objects as maps
// for the executor, the fields that cost something or recurse resolved
// only when selected; the caller holds s.mu.
type gqlReq struct {
	s *Server
	r *http.Request
}

// executor is the GraphQL executor, built once for every Server (it holds
// no state of its own).
var executor = sync.OnceValue(func() *gql.Executor {
	schema, err := gql.LoadSchema("schema.graphql", schemaText)
	if err != nil {
		panic("fakegitlab: testdata/schema.graphql: " + err.Error())
	}
	return &gql.Executor{Schema: schema}
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
	s.mu.Lock()
	defer s.mu.Unlock()
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
	data, errs := op.Execute(r.Context(), (&gqlReq{s: s, r: r}).root())
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

// lazy is a field resolved only when it is selected, from its arguments.
func lazy(fn func(args map[string]any) any) gql.Resolver {
	return func(f *gql.Field) (any, error) { return fn(f.Args), nil }
}

// root is the Query object.
func (x *gqlReq) root() map[string]any {
	s := x.s
	find := func(args map[string]any) string {
		full, _ := gql.String(args, "fullPath")
		return strings.ToLower(strings.Trim(full, "/"))
	}
	var user any
	if authenticated(x.r) {
		user = map[string]any{"id": "gid://gitlab/User/1", "username": s.opts.User, "name": s.opts.User,
			"publicEmail": nil, "avatarUrl": nil, "webUrl": s.webURL(x.r) + "/" + s.opts.User, "state": "active", "bot": false}
	}
	return map[string]any{
		"namespace": lazy(func(a map[string]any) any { return x.namespace(s.namespaces[find(a)], "") }),
		"group":     lazy(func(a map[string]any) any { return x.namespace(s.namespaces[find(a)], "group") }),
		"project": lazy(func(a map[string]any) any {
			if pr := s.projects[find(a)]; pr != nil && visible(x.r, pr) {
				return x.project(pr)
			}
			return nil
		}),
		"currentUser": user,
		"groups":      lazy(func(a map[string]any) any { return page(s.visibleGroups(x.r, a), a, x.group) }),
	}
}

// namespace is a Namespace or a Group; null, as GitLab answers for a
// missing or invisible one, when ns is nil or not of kind ("" for any).
func (x *gqlReq) namespace(ns *namespace, kind string) any {
	if ns == nil || kind != "" && ns.kind != kind {
		return nil
	}
	s, gid := x.s, "gid://gitlab/Group/"+strconv.FormatInt(ns.id, 10)
	if ns.kind == "user" {
		gid = "gid://gitlab/Namespaces::UserNamespace/" + strconv.FormatInt(ns.id, 10)
	}
	return map[string]any{"id": gid, "fullPath": ns.fullPath, "path": ns.name, "name": ns.name,
		"fullName": strings.ReplaceAll(ns.fullPath, "/", " / "), "webUrl": ns.webURL(s.webURL(x.r)), "visibility": "private",
		"description": s.org.descr[strings.ToLower(ns.fullPath)], "avatarUrl": nil,
		"parent": lazy(func(map[string]any) any { return x.namespace(ns.parent, "") }),
		"projects": lazy(func(a map[string]any) any {
			include, _ := a["includeSubgroups"].(bool)
			search, _ := gql.String(a, "search")
			list := slices.DeleteFunc(s.projectsUnder(x.r, ns, include), func(p *project) bool {
				return !strings.Contains(strings.ToLower(p.Path), strings.ToLower(search))
			})
			return page(list, a, x.project)
		}),
		"descendantGroups": lazy(func(a map[string]any) any { return page(s.descendants(ns), a, x.group) }),
		"groupMembers":     lazy(func(a map[string]any) any { return page(x.members(ns, a["relations"].([]any)), a, x.member) }),
	}
}

// group is a Group (or a Namespace) that exists.
func (x *gqlReq) group(ns *namespace) any { return x.namespace(ns, "") }

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
func (x *gqlReq) members(ns *namespace, rels []any) []*orgMembership {
	var groups []*namespace
	if slices.Contains(rels, any("DIRECT")) {
		groups = append(groups, ns)
	}
	if slices.Contains(rels, any("INHERITED")) {
		for p := ns.parent; p != nil; p = p.parent {
			groups = append(groups, p)
		}
	}
	if slices.Contains(rels, any("DESCENDANTS")) {
		groups = append(groups, x.s.descendants(ns)...)
	}
	return x.s.org.bestMemberships(groups)
}

// member is a GroupMember.
func (x *gqlReq) member(m *orgMembership) any {
	return map[string]any{"id": fmt.Sprintf("gid://gitlab/GroupMember/%d%d", m.group.id, m.user.id),
		"user": x.user(m.user), "group": x.group(m.group),
		"accessLevel": map[string]any{"integerValue": m.level, "stringValue": levelNames[m.level]}}
}

// user is a UserCore of the fake's organisation.
func (x *gqlReq) user(u *orgUser) map[string]any {
	var email any
	if u.email != "" {
		email = u.email
	}
	return map[string]any{"id": fmt.Sprintf("gid://gitlab/User/%d", u.id), "username": u.username, "name": u.name,
		"publicEmail": email, "avatarUrl": u.avatar, "webUrl": x.s.URL() + "/" + u.username, "state": u.state, "bot": u.bot}
}

func (x *gqlReq) project(pr *project) any {
	web := x.s.webURL(x.r) + "/" + pr.fullPath()
	return map[string]any{"id": "gid://gitlab/Project/" + strconv.FormatInt(pr.id, 10), "fullPath": pr.fullPath(),
		"path": pr.Path, "name": pr.Name, "nameWithNamespace": pr.ns.name + " / " + pr.Name, "description": pr.Description,
		"webUrl": web, "httpUrlToRepo": web + ".git", "sshUrlToRepo": pr.sshURL(x.r), "visibility": string(pr.Visibility),
		"archived": pr.Archived, "createdAt": ts(pr.created), "lastActivityAt": ts(pr.created),
		"namespace":  lazy(func(map[string]any) any { return x.namespace(pr.ns, "") }),
		"repository": x.repository(pr),
		"mergeRequests": lazy(func(a map[string]any) any {
			state, _ := gql.String(a, "state")
			var list []*mergeRequest
			for _, m := range slices.Backward(pr.mrs) {
				if (state == "" || state == "all" || m.State == state) && listHas(a, "sourceBranches", m.SourceBranch) &&
					listHas(a, "targetBranches", m.TargetBranch) && listHas(a, "iids", strconv.Itoa(m.IID)) {
					list = append(list, m)
				}
			}
			return page(list, a, func(m *mergeRequest) any { return x.mergeRequest(pr, m) })
		}),
	}
}

// listHas reports whether the list argument name is absent or holds v.
func listHas(args map[string]any, name, v string) bool {
	list, ok := args[name].([]any)
	return !ok || slices.Contains(list, any(v))
}

func (x *gqlReq) repository(pr *project) map[string]any {
	return map[string]any{"rootRef": pr.rootRef(), "empty": len(pr.repo.Branches) == 0, "exists": true,
		// The paths that are files at ref (default: HEAD), in the order
		// asked; a ref that names nothing gives no blobs.
		"blobs": lazy(func(a map[string]any) any {
			ref, _ := gql.String(a, "ref")
			c := pr.repo.Resolve(ref)
			var paths []string
			for _, p := range a["paths"].([]any) {
				if c != nil && c.Files[p.(string)].Blob != "" {
					paths = append(paths, p.(string))
				}
			}
			return page(paths, a, func(p string) any { return x.blob(pr, cmp.Or(ref, pr.DefaultBranch), p, c.Files[p]) })
		}),
		// GitLab's pattern knows only "*": any run of characters.
		"branchNames": lazy(func(a map[string]any) any {
			pat, _ := gql.String(a, "searchPattern")
			re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(pat), `\*`, ".*") + "$")
			names := slices.DeleteFunc(slices.Sorted(maps.Keys(pr.repo.Branches)), func(n string) bool { return !re.MatchString(n) })
			off, _ := gql.Int(a, "offset")
			limit, _ := gql.Int(a, "limit")
			off = min(max(off, 0), len(names))
			return names[off:min(off+max(limit, 0), len(names))]
		}),
	}
}

func (x *gqlReq) blob(pr *project, ref, p string, e entry) map[string]any {
	content := e.Content
	raw := lazy(func(map[string]any) any { return string(content) })
	return map[string]any{"id": "gid://gitlab/Blob/" + e.Blob, "oid": e.Blob, "path": p, "name": path.Base(p),
		"size": strconv.Itoa(len(content)), "rawSize": strconv.Itoa(len(content)), "mode": e.Mode(),
		"webUrl": x.s.webURL(x.r) + "/" + pr.fullPath() + "/-/blob/" + ref + "/" + p, "rawBlob": raw, "rawTextBlob": raw}
}

func (x *gqlReq) mergeRequest(pr *project, m *mergeRequest) map[string]any {
	head, exists := pr.repo.Branches[m.SourceBranch]
	var sha any
	if exists {
		sha = head
	}
	return map[string]any{"id": "gid://gitlab/MergeRequest/" + strconv.FormatInt(m.id, 10), "iid": strconv.Itoa(m.IID),
		"title": m.Title, "description": m.Description, "state": m.State, "sourceBranch": m.SourceBranch, "targetBranch": m.TargetBranch,
		"webUrl":      x.s.webURL(x.r) + "/" + pr.fullPath() + "/-/merge_requests/" + strconv.Itoa(m.IID),
		"diffHeadSha": sha, "draft": isDraft(m.Title), "sourceBranchExists": exists,
		"createdAt": ts(m.created), "updatedAt": ts(m.updated)}
}

var levelNames = map[int]string{0: "NO_ACCESS", 5: "MINIMAL_ACCESS", 10: "GUEST", 15: "PLANNER", 20: "REPORTER", 30: "DEVELOPER", 40: "MAINTAINER", 50: "OWNER"}

// page is the connection of the page that first/after select from
// items, node making the nodes of the page. The cursor is GitLab's shape,
// base64 of {"id":"N"}, N the index in the full list.
func page[T any](items []T, args map[string]any, node func(T) any) map[string]any {
	lo, hi := 0, len(items)
	if a, ok := gql.String(args, "after"); ok {
		if i, ok := parseCursor(a); ok {
			lo = min(i+1, len(items))
		}
	}
	if first, ok := gql.Int(args, "first"); ok && hi-lo > first {
		hi = lo + first
	} else if !ok && hi-lo > 100 {
		hi = lo + 100 // GitLab's default and maximum page size
	}
	nodes := make([]any, hi-lo)
	for i := range nodes {
		nodes[i] = node(items[lo+i])
	}
	var start, end any
	if hi > lo {
		start, end = cursorOf(lo), cursorOf(hi-1)
	}
	return map[string]any{"nodes": nodes, "count": len(items), "pageInfo": map[string]any{
		"hasNextPage": hi < len(items), "hasPreviousPage": lo > 0, "startCursor": start, "endCursor": end},
		"edges": lazy(func(map[string]any) any {
			edges := make([]any, len(nodes))
			for i, n := range nodes {
				edges[i] = map[string]any{"node": n, "cursor": cursorOf(lo + i)}
			}
			return edges
		})}
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
