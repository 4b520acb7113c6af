package fakegitlab

import (
	"cmp"
	_ "embed"
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
	resp := map[string]any{"data": data}
	if len(errs) > 0 {
		resp["errors"] = errs
	}
	s.writeJSON(w, r, http.StatusOK, resp)
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
		"groups":      lazy(func(a map[string]any) any { return gql.Page(paging, s.visibleGroups(x.r, a), a, x.group) }),
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
			return gql.Page(paging, list, a, x.project)
		}),
		"descendantGroups": lazy(func(a map[string]any) any { return gql.Page(paging, s.descendants(ns), a, x.group) }),
		"groupMembers": lazy(func(a map[string]any) any {
			return gql.Page(paging, x.members(ns, a["relations"].([]any)), a, x.member)
		}),
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
		"archived": pr.Archived, "isForked": pr.ForkedFrom != "", "createdAt": ts(pr.created), "lastActivityAt": ts(pr.created),
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
			return gql.Page(paging, list, a, func(m *mergeRequest) any { return x.mergeRequest(pr, m) })
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
			return gql.Page(paging, paths, a, func(p string) any { return x.blob(pr, cmp.Or(ref, pr.DefaultBranch), p, c.Files[p]) })
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
	src := sourceOf(pr, m)
	head, exists := src.repo.Branches[m.SourceBranch]
	var sha any
	if exists {
		sha = head
	}
	return map[string]any{"id": "gid://gitlab/MergeRequest/" + strconv.FormatInt(m.id, 10), "iid": strconv.Itoa(m.IID),
		"title": m.Title, "description": m.Description, "state": m.State, "sourceBranch": m.SourceBranch, "targetBranch": m.TargetBranch,
		"sourceProjectId": src.id, "targetProjectId": pr.id, "projectId": pr.id,
		"webUrl":      x.s.webURL(x.r) + "/" + pr.fullPath() + "/-/merge_requests/" + strconv.Itoa(m.IID),
		"diffHeadSha": sha, "draft": isDraft(m.Title), "sourceBranchExists": exists,
		"createdAt": ts(m.created), "updatedAt": ts(m.updated)}
}

var levelNames = map[int]string{0: "NO_ACCESS", 5: "MINIMAL_ACCESS", 10: "GUEST", 15: "PLANNER", 20: "REPORTER", 30: "DEVELOPER", 40: "MAINTAINER", 50: "OWNER"}

// paging is GitLab's cursor pagination: the cursor is base64 of
// {"id":"N"}, N the index in the full list; 100 nodes a page by default,
// as most (GitLab's maximum).
var paging = gql.Paging{Cursor: `{"id":"%d"}`, Default: 100}
