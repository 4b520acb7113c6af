package fakegitlab

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
)

// gqlFieldDef is a field of the fake's GraphQL schema: its type as GitLab
// writes it ("Project", "[String!]", "Boolean!") and its arguments' types.
type gqlFieldDef struct {
	typ  string
	args map[string]string
}

var connArgs = map[string]string{"first": "Int", "after": "String", "last": "Int", "before": "String"}

func withArgs(a map[string]string) map[string]string {
	m := maps.Clone(connArgs)
	maps.Copy(m, a)
	return m
}

// gqlTypes is the subset of GitLab's GraphQL schema the fake serves.
var gqlTypes = map[string]map[string]gqlFieldDef{
	"Query": {
		"namespace":   {typ: "Namespace", args: map[string]string{"fullPath": "ID!"}},
		"group":       {typ: "Group", args: map[string]string{"fullPath": "ID!"}},
		"project":     {typ: "Project", args: map[string]string{"fullPath": "ID!"}},
		"currentUser": {typ: "CurrentUser"},
	},
	"Namespace": namespaceFields,
	"Group":     namespaceFields,
	"ProjectConnection": {
		"nodes": {typ: "[Project]"}, "edges": {typ: "[ProjectEdge]"}, "pageInfo": {typ: "PageInfo!"}, "count": {typ: "Int!"},
	},
	"ProjectEdge": {"node": {typ: "Project"}, "cursor": {typ: "String!"}},
	"PageInfo": {
		"hasNextPage": {typ: "Boolean!"}, "hasPreviousPage": {typ: "Boolean!"},
		"startCursor": {typ: "String"}, "endCursor": {typ: "String"},
	},
	"Project": {
		"id": {typ: "ID!"}, "fullPath": {typ: "ID!"}, "path": {typ: "String!"}, "name": {typ: "String!"},
		"nameWithNamespace": {typ: "String!"}, "description": {typ: "String"}, "webUrl": {typ: "String"},
		"httpUrlToRepo": {typ: "String"}, "sshUrlToRepo": {typ: "String"}, "visibility": {typ: "String"},
		"archived": {typ: "Boolean"}, "createdAt": {typ: "Time"}, "lastActivityAt": {typ: "Time"},
		"namespace": {typ: "Namespace"}, "repository": {typ: "Repository"},
		"mergeRequests": {typ: "MergeRequestConnection", args: withArgs(map[string]string{
			"sourceBranches": "[String!]", "targetBranches": "[String!]", "state": "MergeRequestState", "iids": "[String!]"})},
	},
	"Repository": {
		"rootRef": {typ: "String"}, "empty": {typ: "Boolean!"}, "exists": {typ: "Boolean!"},
		"blobs": {typ: "RepositoryBlobConnection", args: withArgs(map[string]string{
			"paths": "[String!]!", "ref": "String", "refType": "RefType"})},
		"branchNames": {typ: "[String!]", args: map[string]string{"searchPattern": "String!", "offset": "Int!", "limit": "Int!"}},
	},
	"RepositoryBlobConnection": {"nodes": {typ: "[RepositoryBlob]"}, "pageInfo": {typ: "PageInfo!"}},
	"RepositoryBlob": {
		"id": {typ: "ID!"}, "oid": {typ: "String!"}, "path": {typ: "String!"}, "name": {typ: "String"},
		"size": {typ: "BigInt"}, "rawSize": {typ: "BigInt"}, "mode": {typ: "String"}, "webUrl": {typ: "String"},
		"rawBlob": {typ: "String"}, "rawTextBlob": {typ: "String"},
	},
	"MergeRequestConnection": {
		"nodes": {typ: "[MergeRequest]"}, "edges": {typ: "[MergeRequestEdge]"}, "pageInfo": {typ: "PageInfo!"}, "count": {typ: "Int!"},
	},
	"MergeRequestEdge": {"node": {typ: "MergeRequest"}, "cursor": {typ: "String!"}},
	"MergeRequest": {
		"id": {typ: "ID!"}, "iid": {typ: "String!"}, "title": {typ: "String!"}, "description": {typ: "String"},
		"state": {typ: "MergeRequestState!"}, "sourceBranch": {typ: "String!"}, "targetBranch": {typ: "String!"},
		"webUrl": {typ: "String"}, "diffHeadSha": {typ: "String"}, "draft": {typ: "Boolean!"},
		"sourceBranchExists": {typ: "Boolean!"}, "createdAt": {typ: "Time!"}, "updatedAt": {typ: "Time!"},
	},
	"CurrentUser": {"id": {typ: "ID!"}, "username": {typ: "String!"}, "name": {typ: "String!"}, "webUrl": {typ: "String!"}},
}

var namespaceFields = map[string]gqlFieldDef{
	"id": {typ: "ID!"}, "fullPath": {typ: "ID!"}, "path": {typ: "String!"}, "name": {typ: "String!"},
	"fullName": {typ: "String!"}, "webUrl": {typ: "String"}, "visibility": {typ: "String"}, "description": {typ: "String"},
	"projects": {typ: "ProjectConnection!", args: withArgs(map[string]string{
		"includeSubgroups": "Boolean", "search": "String", "sort": "NamespaceProjectSort", "ids": "[ID!]"})},
}

// baseType strips list and non-null markers: "[Project!]!" → "Project".
func baseType(t string) string { return strings.Trim(t, "[]!") }

// gqlError is one entry of a GraphQL errors array.
type gqlError struct {
	Message    string         `json:"message"`
	Locations  []gqlLoc       `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type gqlLoc struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func locs(p gqlPos) []gqlLoc { return []gqlLoc{{Line: p.line, Column: p.col}} }

// validate checks a selection set against the schema statically, as
// graphql-ruby does before executing anything.
func validate(sel []*gqlField, typ string, vars map[string]gqlVarDef, path []any) []gqlError {
	var errs []gqlError
	fields := gqlTypes[typ]
	for _, f := range sel {
		p := append(slices.Clone(path), f.key())
		if f.name == "__typename" {
			continue
		}
		def, ok := fields[f.name]
		if !ok {
			errs = append(errs, gqlError{Message: fmt.Sprintf("Field '%s' doesn't exist on type '%s'", f.name, typ),
				Locations: locs(f.pos), Path: p,
				Extensions: map[string]any{"code": "undefinedField", "typeName": typ, "fieldName": f.name}})
			continue
		}
		given := map[string]bool{}
		for _, a := range f.args {
			if _, ok := def.args[a.name]; !ok {
				errs = append(errs, gqlError{Message: fmt.Sprintf("Field '%s' doesn't accept argument '%s'", f.name, a.name),
					Locations: locs(f.pos), Path: append(p, a.name),
					Extensions: map[string]any{"code": "argumentNotAccepted", "name": f.name, "typeName": "Field", "argumentName": a.name}})
				continue
			}
			if v, isVar := a.val.(gqlVar); isVar {
				if _, defined := vars[string(v)]; !defined {
					errs = append(errs, gqlError{Message: fmt.Sprintf("Variable $%s is used by anonymous query but not declared", v),
						Locations: locs(f.pos), Path: p, Extensions: map[string]any{"code": "variableNotDefined", "variableName": string(v)}})
				}
			}
			given[a.name] = a.val != nil
		}
		var missing []string
		for _, name := range slices.Sorted(maps.Keys(def.args)) {
			if strings.HasSuffix(def.args[name], "!") && !given[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, gqlError{Message: fmt.Sprintf("Field '%s' is missing required arguments: %s", f.name, strings.Join(missing, ", ")),
				Locations: locs(f.pos), Path: p,
				Extensions: map[string]any{"code": "missingRequiredArguments", "className": "Field", "name": f.name, "arguments": strings.Join(missing, ", ")}})
		}
		_, isObject := gqlTypes[baseType(def.typ)]
		switch {
		case isObject && len(f.sel) == 0:
			errs = append(errs, gqlError{Message: fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections. Did you mean '%s { ... }'?)", f.name, baseType(def.typ), f.name),
				Locations: locs(f.pos), Path: p, Extensions: map[string]any{"code": "selectionMismatch", "nodeName": "field '" + f.name + "'", "typeName": baseType(def.typ)}})
		case !isObject && len(f.sel) > 0:
			errs = append(errs, gqlError{Message: fmt.Sprintf("Selections can't be made on scalars (field '%s' returns %s but has selections [%s])", f.name, baseType(def.typ), selNames(f.sel)),
				Locations: locs(f.pos), Path: p, Extensions: map[string]any{"code": "selectionMismatch", "nodeName": "field '" + f.name + "'", "typeName": baseType(def.typ)}})
		case isObject:
			errs = append(errs, validate(f.sel, baseType(def.typ), vars, p)...)
		}
	}
	return errs
}

func selNames(sel []*gqlField) string {
	var names []string
	for _, f := range sel {
		names = append(names, f.name)
	}
	return strings.Join(names, ", ")
}

// orderedMap is a JSON object that keeps its keys in selection order.
type orderedMap struct {
	keys []string
	vals map[string]any
}

func (m *orderedMap) set(k string, v any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *orderedMap) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		vb, err := json.Marshal(m.vals[k])
		if err != nil {
			return nil, err
		}
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// gqlObject resolves the fields of one object; args hold the arguments
// with variables substituted (JSON-shaped: string, float64 or int64, bool,
// []any, map[string]any, nil).
type gqlObject interface {
	resolve(field string, args map[string]any) any
}

type gqlExec struct {
	s    *Server
	r    *http.Request
	vars map[string]any
}

func (x *gqlExec) argValue(v gqlValue) any {
	switch v := v.(type) {
	case gqlVar:
		return x.vars[string(v)]
	case gqlEnum:
		return string(v)
	case []gqlValue:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = x.argValue(e)
		}
		return out
	case []gqlObjField:
		out := map[string]any{}
		for _, f := range v {
			out[f.name] = x.argValue(f.val)
		}
		return out
	}
	return v
}

func (x *gqlExec) object(obj gqlObject, typ string, sel []*gqlField) *orderedMap {
	out := &orderedMap{}
	for _, f := range sel {
		if f.name == "__typename" {
			out.set(f.key(), typ)
			continue
		}
		def := gqlTypes[typ][f.name]
		args := map[string]any{}
		for _, a := range f.args {
			args[a.name] = x.argValue(a.val)
		}
		out.set(f.key(), x.complete(obj.resolve(f.name, args), def.typ, f.sel))
	}
	return out
}

func (x *gqlExec) complete(v any, typ string, sel []*gqlField) any {
	if v == nil {
		return nil
	}
	t := strings.TrimSuffix(typ, "!")
	if strings.HasPrefix(t, "[") {
		list, _ := v.([]any)
		out := make([]any, len(list))
		for i, e := range list {
			out[i] = x.complete(e, strings.TrimSuffix(strings.TrimPrefix(t, "["), "]"), sel)
		}
		return out
	}
	if obj, ok := v.(gqlObject); ok {
		return x.object(obj, baseType(t), sel)
	}
	return v
}

func argString(args map[string]any, name string) string {
	s, _ := args[name].(string)
	return s
}

func argInt(args map[string]any, name string, def int) int {
	switch v := args[name].(type) {
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return def
}

func argBool(args map[string]any, name string) bool {
	b, _ := args[name].(bool)
	return b
}

func argStrings(args map[string]any, name string) ([]string, bool) {
	list, ok := args[name].([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out, true
}

// cursorOf is GitLab's keyset cursor shape: base64 of {"id":"N"}.
func cursorOf(id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"id":"` + strconv.FormatInt(id, 10) + `"}`))
}

func idOfCursor(c string) int64 {
	raw, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0
	}
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	n, _ := strconv.ParseInt(v.ID, 10, 64)
	return n
}

// gqlConn is a connection: its nodes, their ids (for cursors), and
// whether more follow.
type gqlConn struct {
	nodes   []any
	ids     []int64
	hasNext bool
	hasPrev bool
	count   int
}

// paginate picks the page that first/after select from items (sorted by
// id). GitLab's maximum page size is 100.
func paginate[T any](items []T, id func(T) int64, args map[string]any) *gqlConn {
	count := len(items)
	start := 0
	if after := argString(args, "after"); after != "" {
		a := idOfCursor(after)
		start = len(items)
		for i, it := range items {
			if id(it) == a {
				start = i + 1
				break
			}
		}
	}
	first := min(argInt(args, "first", 100), 100)
	end := min(start+max(first, 0), len(items))
	c := &gqlConn{hasNext: end < len(items), hasPrev: start > 0, count: count}
	for _, it := range items[start:end] {
		c.nodes = append(c.nodes, it)
		c.ids = append(c.ids, id(it))
	}
	return c
}

func (c *gqlConn) resolve(field string, _ map[string]any) any {
	switch field {
	case "nodes":
		return c.nodes
	case "edges":
		out := make([]any, len(c.nodes))
		for i, n := range c.nodes {
			out[i] = gqlEdge{node: n, cursor: cursorOf(c.ids[i])}
		}
		return out
	case "pageInfo":
		pi := gqlPageInfo{hasNext: c.hasNext, hasPrev: c.hasPrev}
		if len(c.ids) > 0 {
			pi.start, pi.end = cursorOf(c.ids[0]), cursorOf(c.ids[len(c.ids)-1])
		}
		return pi
	case "count":
		return c.count
	}
	return nil
}

type gqlEdge struct {
	node   any
	cursor string
}

func (e gqlEdge) resolve(field string, _ map[string]any) any {
	if field == "node" {
		return e.node
	}
	return e.cursor
}

type gqlPageInfo struct {
	hasNext, hasPrev bool
	start, end       string
}

func (p gqlPageInfo) resolve(field string, _ map[string]any) any {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	switch field {
	case "hasNextPage":
		return p.hasNext
	case "hasPreviousPage":
		return p.hasPrev
	case "startCursor":
		return str(p.start)
	case "endCursor":
		return str(p.end)
	}
	return nil
}

type gqlRoot struct{ x *gqlExec }

func (q gqlRoot) resolve(field string, args map[string]any) any {
	s, r := q.x.s, q.x.r
	full := strings.ToLower(strings.Trim(argString(args, "fullPath"), "/"))
	switch field {
	case "namespace", "group":
		ns := s.namespaces[full]
		if ns == nil || (field == "group" && ns.kind != "group") {
			return nil
		}
		return gqlNS{x: q.x, ns: ns}
	case "project":
		pr := s.projects[full]
		if pr == nil || !visible(r, pr) {
			return nil
		}
		return gqlProject{x: q.x, pr: pr}
	case "currentUser":
		if !authenticated(r) {
			return nil
		}
		return gqlUser{x: q.x}
	}
	return nil
}

type gqlUser struct{ x *gqlExec }

func (u gqlUser) resolve(field string, _ map[string]any) any {
	switch field {
	case "id":
		return "gid://gitlab/User/1"
	case "webUrl":
		return u.x.s.webURL(u.x.r) + "/" + u.x.s.opts.User
	}
	return u.x.s.opts.User
}

type gqlNS struct {
	x  *gqlExec
	ns *namespace
}

func (n gqlNS) resolve(field string, args map[string]any) any {
	s, r, ns := n.x.s, n.x.r, n.ns
	switch field {
	case "id":
		if ns.kind == "user" {
			return "gid://gitlab/Namespaces::UserNamespace/" + strconv.FormatInt(ns.id, 10)
		}
		return "gid://gitlab/Group/" + strconv.FormatInt(ns.id, 10)
	case "fullPath":
		return ns.fullPath
	case "path":
		return path.Base(ns.fullPath)
	case "name":
		return ns.name
	case "fullName":
		return strings.ReplaceAll(ns.fullPath, "/", " / ")
	case "webUrl":
		if ns.kind == "group" {
			return s.webURL(r) + "/groups/" + ns.fullPath
		}
		return s.webURL(r) + "/" + ns.fullPath
	case "visibility":
		return "private"
	case "description":
		return ""
	case "projects":
		list := s.projectsUnder(r, ns, argBool(args, "includeSubgroups"))
		if search := strings.ToLower(argString(args, "search")); search != "" {
			list = slices.DeleteFunc(list, func(p *project) bool { return !strings.Contains(strings.ToLower(p.path), search) })
		}
		c := paginate(list, func(p *project) int64 { return p.id }, args)
		for i, p := range c.nodes {
			c.nodes[i] = gqlProject{x: n.x, pr: p.(*project)}
		}
		return c
	}
	return nil
}

type gqlProject struct {
	x  *gqlExec
	pr *project
}

func (p gqlProject) resolve(field string, args map[string]any) any {
	s, r, pr := p.x.s, p.x.r, p.pr
	web := s.webURL(r) + "/" + pr.fullPath()
	switch field {
	case "id":
		return "gid://gitlab/Project/" + strconv.FormatInt(pr.id, 10)
	case "fullPath":
		return pr.fullPath()
	case "path":
		return pr.path
	case "name":
		return pr.name
	case "nameWithNamespace":
		return pr.ns.name + " / " + pr.name
	case "description":
		return pr.description
	case "webUrl":
		return web
	case "httpUrlToRepo":
		return web + ".git"
	case "sshUrlToRepo":
		return "git@" + strings.Split(r.Host, ":")[0] + ":" + pr.fullPath() + ".git"
	case "visibility":
		return string(pr.visibility)
	case "archived":
		return pr.archived
	case "createdAt", "lastActivityAt":
		return ts(pr.created)
	case "namespace":
		return gqlNS{x: p.x, ns: pr.ns}
	case "repository":
		return gqlRepo{x: p.x, pr: pr}
	case "mergeRequests":
		state := cmp.Or(argString(args, "state"), "all")
		src, hasSrc := argStrings(args, "sourceBranches")
		dst, hasDst := argStrings(args, "targetBranches")
		iids, hasIIDs := argStrings(args, "iids")
		var list []*mergeRequest
		for _, m := range slices.Backward(pr.mrs) {
			if (state == "all" || m.state == state) && (!hasSrc || slices.Contains(src, m.source)) &&
				(!hasDst || slices.Contains(dst, m.target)) && (!hasIIDs || slices.Contains(iids, strconv.Itoa(m.iid))) {
				list = append(list, m)
			}
		}
		c := paginate(list, func(m *mergeRequest) int64 { return m.id }, args)
		for i, m := range c.nodes {
			c.nodes[i] = gqlMR{x: p.x, pr: pr, m: m.(*mergeRequest)}
		}
		return c
	}
	return nil
}

type gqlRepo struct {
	x  *gqlExec
	pr *project
}

func (g gqlRepo) resolve(field string, args map[string]any) any {
	pr := g.pr
	switch field {
	case "rootRef":
		if len(pr.branches) == 0 {
			return nil
		}
		return pr.defaultBranch
	case "empty":
		return len(pr.branches) == 0
	case "exists":
		return true
	case "blobs":
		// Paths that are files at ref (default: HEAD), in the order
		// asked; a ref that names nothing gives no blobs.
		paths, _ := argStrings(args, "paths")
		ref := argString(args, "ref")
		c := pr.resolve(ref)
		conn := &gqlConn{}
		if c == nil {
			return conn
		}
		for _, p := range paths {
			if e, ok := c.files[p]; ok {
				conn.nodes = append(conn.nodes, gqlBlob{x: g.x, pr: pr, ref: cmp.Or(ref, pr.defaultBranch), path: p, e: e})
				conn.ids = append(conn.ids, int64(len(conn.ids)+1))
			}
		}
		conn.count = len(conn.nodes)
		return conn
	case "branchNames":
		pat := argString(args, "searchPattern")
		var names []any
		for _, n := range slices.Sorted(maps.Keys(pr.branches)) {
			if globMatch(pat, n) {
				names = append(names, n)
			}
		}
		off, limit := argInt(args, "offset", 0), argInt(args, "limit", 0)
		off = min(max(off, 0), len(names))
		end := min(off+max(limit, 0), len(names))
		return append([]any{}, names[off:end]...)
	}
	return nil
}

// globMatch matches name against a pattern where "*" matches any run of
// characters (GitLab's branch name search pattern).
func globMatch(pat, name string) bool {
	parts := strings.Split(pat, "*")
	if len(parts) == 1 {
		return pat == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	for i, part := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(name, part)
		}
		j := strings.Index(name, part)
		if j < 0 {
			return false
		}
		name = name[j+len(part):]
	}
	return true
}

type gqlBlob struct {
	x    *gqlExec
	pr   *project
	ref  string
	path string
	e    entry
}

func (b gqlBlob) resolve(field string, _ map[string]any) any {
	content := b.pr.blobs[b.e.blob]
	switch field {
	case "id":
		return "gid://gitlab/Blob/" + b.e.blob
	case "oid":
		return b.e.blob
	case "path":
		return b.path
	case "name":
		return path.Base(b.path)
	case "size", "rawSize":
		return strconv.Itoa(len(content))
	case "mode":
		return b.e.mode()
	case "webUrl":
		return b.x.s.webURL(b.x.r) + "/" + b.pr.fullPath() + "/-/blob/" + b.ref + "/" + b.path
	case "rawBlob", "rawTextBlob":
		return string(content)
	}
	return nil
}

type gqlMR struct {
	x  *gqlExec
	pr *project
	m  *mergeRequest
}

func (g gqlMR) resolve(field string, _ map[string]any) any {
	m, pr := g.m, g.pr
	switch field {
	case "id":
		return "gid://gitlab/MergeRequest/" + strconv.FormatInt(m.id, 10)
	case "iid":
		return strconv.Itoa(m.iid)
	case "title":
		return m.title
	case "description":
		return m.description
	case "state":
		return m.state
	case "sourceBranch":
		return m.source
	case "targetBranch":
		return m.target
	case "webUrl":
		return g.x.s.webURL(g.x.r) + "/" + pr.fullPath() + "/-/merge_requests/" + strconv.Itoa(m.iid)
	case "diffHeadSha":
		if id, ok := pr.branches[m.source]; ok {
			return id
		}
		return nil
	case "draft":
		return isDraft(m.title)
	case "sourceBranchExists":
		_, ok := pr.branches[m.source]
		return ok
	case "createdAt":
		return ts(m.created)
	case "updatedAt":
		return ts(m.updated)
	}
	return nil
}

// graphql serves POST /api/graphql.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&in); err != nil {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"errors": []gqlError{{Message: "Unexpected end of document"}}})
		return
	}
	fail := func(errs ...gqlError) { s.writeJSON(w, r, http.StatusOK, map[string]any{"errors": errs}) }
	if strings.TrimSpace(in.Query) == "" {
		fail(gqlError{Message: "No query string was present"})
		return
	}
	ops, err := parseGQL(in.Query)
	if err != nil {
		e := gqlError{Message: err.Error()}
		if se, ok := err.(*gqlSyntaxError); ok {
			e.Locations = locs(se.pos)
		}
		fail(e)
		return
	}
	var op *gqlOp
	for _, o := range ops {
		if in.OperationName == "" || o.name == in.OperationName {
			if op != nil {
				fail(gqlError{Message: "An operation name is required"})
				return
			}
			op = o
		}
	}
	if op == nil {
		fail(gqlError{Message: `No operation named "` + in.OperationName + `"`})
		return
	}
	vars := map[string]gqlVarDef{}
	values := map[string]any{}
	var errs []gqlError
	for _, v := range op.vars {
		vars[v.name] = v
		val, given := in.Variables[v.name]
		switch {
		case given:
			values[v.name] = val
		case v.hasDef:
			values[v.name] = (&gqlExec{}).argValue(v.def)
		}
		if v.nonNull && values[v.name] == nil {
			errs = append(errs, gqlError{Message: fmt.Sprintf("Variable $%s of type %s was provided invalid value", v.name, v.typ),
				Extensions: map[string]any{"value": nil, "problems": []any{map[string]any{"path": []any{}, "explanation": "Expected value to not be null"}}}})
		}
	}
	errs = append(errs, validate(op.sel, "Query", vars, []any{"query"})...)
	if len(errs) > 0 {
		fail(errs...)
		return
	}
	if c := complexity(op.sel, "Query", values); s.opts.MaxComplexity > 0 && c > s.opts.MaxComplexity {
		fail(gqlError{Message: fmt.Sprintf("Query has complexity of %d, which exceeds max complexity of %d", c, s.opts.MaxComplexity)})
		return
	}
	s.mu.Lock()
	x := &gqlExec{s: s, r: r, vars: values}
	data := x.object(gqlRoot{x: x}, "Query", op.sel)
	s.mu.Unlock()
	s.writeJSON(w, r, http.StatusOK, map[string]any{"data": data})
}

// complexity computes a query's cost as GitLab does: 1 per field plus its
// selection, a connection's cost multiplied by 1 + 1% per item of its page
// (first, default 100).
func complexity(sel []*gqlField, typ string, vars map[string]any) int {
	x := &gqlExec{vars: vars}
	total := 0.0
	var walk func(sel []*gqlField, typ string) float64
	walk = func(sel []*gqlField, typ string) float64 {
		sum := 0.0
		for _, f := range sel {
			def := gqlTypes[typ][f.name]
			cost := 1.0
			if len(f.sel) > 0 {
				cost += walk(f.sel, baseType(def.typ))
			}
			if strings.HasSuffix(baseType(def.typ), "Connection") {
				first := 100
				for _, a := range f.args {
					if a.name == "first" {
						switch v := x.argValue(a.val).(type) {
						case int64:
							first = int(v)
						case float64:
							first = int(v)
						}
					}
				}
				cost *= 1 + 0.01*float64(min(max(first, 0), 100))
			}
			sum += cost
		}
		return sum
	}
	total = walk(sel, typ)
	return int(total + 0.5)
}
