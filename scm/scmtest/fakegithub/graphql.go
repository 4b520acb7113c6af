package fakegithub

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gql"
)

// githubSchemaSDL is the part of GitHub's GraphQL schema the fake answers,
// verbatim from @octokit/graphql-schema (see testdata/NOTICE at the
// module root).
//
//go:embed github-schema.graphql
var githubSchemaSDL string

// githubSchema is loaded once: it is the same for every Server.
var githubSchema = sync.OnceValue(func() *ast.Schema {
	s, err := gql.LoadSchema("github-schema.graphql", githubSchemaSDL)
	if err != nil {
		panic("fakegithub: embedded schema: " + err.Error())
	}
	return s
})

// ValidateQuery reports whether GitHub's GraphQL schema (the fake's
// subset of it) accepts query, with GitHub's messages for what it refuses.
// Variables are not checked: the query is validated as a document.
func ValidateQuery(query string) error {
	_, errs := gql.Parse(githubSchema(), query)
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = githubMessage(e).Message
	}
	return errors.New(strings.Join(msgs, "; "))
}

// GitHub's wording for the validation errors its clients show.
var githubMessages = []struct {
	rule, code string
	re         *regexp.Regexp
	msg        string
}{
	{"FieldsOnCorrectType", "undefinedField", regexp.MustCompile(`^Cannot query field "(\w+)" on type "(\w+)"`), "Field '$1' doesn't exist on type '$2'"},
	{"KnownArgumentNames", "argumentNotAccepted", regexp.MustCompile(`^Unknown argument "(\w+)" on field "\w+\.(\w+)"`), "Field '$2' doesn't accept argument '$1'"},
	{"ProvidedRequiredArguments", "missingRequiredArguments", regexp.MustCompile(`^Field "(\w+)" argument "(\w+)"`), "Field '$1' is missing required arguments: $2"},
}

func githubMessage(e *gql.Error) *gql.Error {
	for _, m := range githubMessages {
		if sub := m.re.FindStringSubmatchIndex(e.Message); sub != nil && e.Rule == m.rule {
			e.Message = string(m.re.ExpandString(nil, m.msg, e.Message, sub))
			e.Extra = map[string]any{"extensions": map[string]any{"code": m.code}}
		}
	}
	return e
}

type reqKey struct{}

// graphql answers POST /graphql (and /api/graphql): GitHub refuses a query
// its schema refuses, or one whose connections lack first or last, ask for
// more than 100 nodes a page or (OrgLimits.MaxNodes) too many nodes in
// all, with 200 and an "errors" list; then it executes the query over the
// fake's state.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	var req gql.Request
	if err := decodeBody(r, &req); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/graphql")
		return
	}
	refuse := func(withData bool, errs ...*gql.Error) {
		resp := map[string]any{"errors": errs}
		if withData {
			resp["data"] = nil
		}
		s.writeJSON(w, r, http.StatusOK, resp)
	}
	x := &gql.Executor{Schema: githubSchema(), Resolvers: s.resolvers()}
	op, errs := x.Prepare(req)
	if errs != nil {
		for _, e := range errs {
			githubMessage(e)
		}
		refuse(false, errs...)
		return
	}
	nodes, err := countNodes(op)
	if err != nil {
		refuse(false, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if max := s.org.limits.MaxNodes; max > 0 && nodes > max {
		refuse(true, &gql.Error{Message: "Resource limits for this query exceeded.", Path: []any{},
			Locations: []gql.Location{{Line: 1, Column: 1}}, Extra: map[string]any{"type": "RESOURCE_LIMITS_EXCEEDED"}})
		return
	}
	if e := s.org.checkAccess(r, op); e != nil {
		if scopes, ok := s.org.scopes[bearer(r)]; ok {
			w.Header().Set("X-OAuth-Scopes", strings.Join(scopes, ", "))
			w.Header().Set("X-Accepted-OAuth-Scopes", "read:org")
		}
		refuse(true, e)
		return
	}
	cost := max(1, nodes/100)
	s.org.used += cost
	data, errs := op.Execute(context.WithValue(r.Context(), reqKey{}, r), cost)
	resp := map[string]any{"data": data}
	if len(errs) > 0 {
		resp["errors"] = errs
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}

func gqlErr(typ, msg string, f *ast.Field) *gql.Error {
	e := &gql.Error{Message: msg, Extra: map[string]any{"type": typ}}
	if f != nil {
		e.Path = []any{f.Alias}
		e.Locations = []gql.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	return e
}

// countNodes counts the nodes a query asks for as GitHub does (each
// connection's first or last times the connections above it) and applies
// GitHub's pagination rules.
func countNodes(op *gql.Operation) (int, *gql.Error) {
	total := 0
	err := op.Walk(1, func(f *ast.Field, args map[string]any, up any) (any, error) {
		mult := up.(int)
		if f.Definition == nil || !strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
			return mult, nil
		}
		first, hasFirst := gql.Int(args, "first")
		last, hasLast := gql.Int(args, "last")
		if !hasFirst && !hasLast {
			return nil, gqlErr("MISSING_PAGINATION_BOUNDARIES", fmt.Sprintf("You must provide a `first` or `last` value to properly paginate the `%s` connection.", f.Name), f)
		}
		if n := max(first, last); n > 100 || first < 0 || last < 0 {
			return nil, gqlErr("EXCESSIVE_PAGINATION", fmt.Sprintf("Requesting %d records on the `%s` connection exceeds the `first` limit of 100 records.", n, f.Name), f)
		}
		n := mult * max(first, last, 1)
		total += n
		return n, nil
	})
	if err != nil {
		return 0, err.(*gql.Error)
	}
	return total, nil
}

func bearer(r *http.Request) string {
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return tok
}

// checkAccess returns GitHub's error for a query on organisations by a
// caller that may not read their members: a classic token without
// read:org, or an installation token without the Members permission or
// of another account.
func (w *orgWorld) checkAccess(r *http.Request, op *gql.Operation) *gql.Error {
	var orgs []*ast.Field
	var logins []string
	op.Walk(nil, func(f *ast.Field, args map[string]any, _ any) (any, error) {
		if f.Name == "organization" && f.ObjectDefinition.Name == "Query" {
			login, _ := gql.String(args, "login")
			orgs, logins = append(orgs, f), append(logins, login)
		}
		return nil, nil
	})
	if len(orgs) == 0 {
		return nil
	}
	first := op.Doc.SelectionSet[0].GetPosition()
	loc := []gql.Location{{Line: first.Line, Column: first.Column}}
	forbidden := func(p string) *gql.Error {
		return &gql.Error{Message: "Resource not accessible by integration", Path: []any{p}, Locations: loc, Extra: map[string]any{"type": "FORBIDDEN"}}
	}
	if it := tokenOf(r); it != nil {
		if it.permissions["members"] == "" {
			return forbidden("organization")
		}
		for i, login := range logins { // an installation reads its own account's organisation only
			if !strings.EqualFold(login, it.inst.account.login) {
				return forbidden(orgs[i].Alias)
			}
		}
		return nil
	}
	scopes, ok := w.scopes[bearer(r)]
	if !ok || slices.ContainsFunc(scopes, func(sc string) bool { return sc == "read:org" || sc == "write:org" || sc == "admin:org" }) {
		return nil
	}
	quoted := make([]string, len(scopes))
	for i, sc := range scopes {
		quoted[i] = "'" + sc + "'"
	}
	return &gql.Error{Locations: loc, Extra: map[string]any{"type": "INSUFFICIENT_SCOPES"},
		Message: "Your token has not been granted the required scopes to execute this query. The 'membersWithRole' field requires one of the following scopes: ['read:org'], but your token has only been granted the: [" +
			strings.Join(quoted, ", ") + "] scopes. Please modify your token's scopes at: https://github.com/settings/tokens."}
}

// The values the resolvers return for GitHub's object types; connections,
// edges, page infos and rate limits are maps.
type (
	gitRef struct {
		rp       *repo
		name, id string
	}
	gitObject struct {
		rp *repo
		id string
	}
	treeEntry struct {
		rp *repo
		p  string
		e  gitobj.TreeEntry
	}
	pullNode struct {
		rp *repo
		p  *pull
	}
	orgNode  struct{ o *fakeOrg }
	teamNode struct {
		o *fakeOrg
		t *fakeTeam
	}
)

func (o *owner) Typename() string { return string(o.typ) }

// Typename is "Blob", "Tree" or "Commit".
func (g gitObject) Typename() string {
	t := g.rp.objs[g.id].Type
	return strings.ToUpper(t[:1]) + t[1:]
}

// object returns the git object id as its GraphQL value, or nil.
func object(rp *repo, id string) any {
	if rp.objs[id] == nil {
		return nil
	}
	return gitObject{rp, id}
}

func cursor(i int) string {
	return base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(i)))
}

// page cuts a connection's page out of nodes by first/after or
// last/before, as GitHub's cursor pagination does. A cursor the fake did
// not make (such as a real GitHub cursor) starts from the first node.
func page[T any](nodes []T, args map[string]any) map[string]any {
	lo, hi := 0, len(nodes)
	for _, name := range []string{"after", "before"} {
		c, _ := gql.String(args, name)
		b, _ := base64.StdEncoding.DecodeString(c)
		digits, ok := strings.CutPrefix(string(b), "cursor:v2:")
		i, err := strconv.Atoi(digits)
		switch {
		case !ok || err != nil: // not one of the fake's cursors: ignored
		case name == "after":
			lo = min(i+1, len(nodes))
		default:
			hi = max(lo, min(i, len(nodes)))
		}
	}
	if first, ok := gql.Int(args, "first"); ok && hi-lo > first {
		hi = lo + first
	} else if last, ok := gql.Int(args, "last"); ok && hi-lo > last {
		lo = hi - last
	}
	info := map[string]any{"hasNextPage": hi < len(nodes), "hasPreviousPage": lo > 0, "startCursor": nil, "endCursor": nil}
	edges := make([]any, 0, hi-lo)
	for i := lo; i < hi; i++ {
		edges = append(edges, map[string]any{"node": nodes[i], "cursor": cursor(i)})
	}
	if hi > lo {
		info["startCursor"], info["endCursor"] = cursor(lo), cursor(hi-1)
	}
	return map[string]any{"nodes": nodes[lo:hi], "edges": edges, "pageInfo": info, "totalCount": len(nodes)}
}

// errNoField answers a field of the schema the fake does not serve.
func errNoField(f *gql.Field) error {
	return errors.New("the fake does not implement field '" + f.Name + "' on type '" + f.Type + "'")
}

// resolvers are the fake's GraphQL resolvers, run with s.mu held.
func (s *Server) resolvers() map[string]gql.Resolver {
	git := s.gitResolver
	return map[string]gql.Resolver{
		"Query": s.queryResolver, "Organization": s.ownerResolver, "User": s.ownerResolver,
		"Repository": s.repoResolver, "Ref": s.refResolver, "Commit": git, "Blob": git, "Tree": git,
		"TreeEntry": s.entryResolver, "PullRequest": s.pullResolver, "Team": s.teamResolver,
	}
}

func request(f *gql.Field) *http.Request { return f.Context.Value(reqKey{}).(*http.Request) }

func (s *Server) queryResolver(f *gql.Field) (any, error) {
	r := request(f)
	switch f.Name {
	case "repositoryOwner":
		login, _ := gql.String(f.Args, "login")
		if o := s.owners[strings.ToLower(login)]; o != nil {
			return o, nil
		}
		return nil, nil
	case "repository":
		owner, _ := gql.String(f.Args, "owner")
		name, _ := gql.String(f.Args, "name")
		if rp := s.repos[key(owner, name)]; rp != nil && canSee(r, rp) {
			return rp, nil
		}
		return nil, gqlErr("NOT_FOUND", "Could not resolve to a Repository with the name '"+owner+"/"+name+"'.", nil)
	case "organization":
		login, _ := gql.String(f.Args, "login")
		if o := s.org.orgs[strings.ToLower(login)]; o != nil {
			return orgNode{o}, nil
		}
		return nil, gqlErr("NOT_FOUND", fmt.Sprintf("Could not resolve to an Organization with the login of '%s'.", login), nil)
	case "rateLimit":
		cost := f.Parent.(int)
		return map[string]any{"cost": cost, "limit": 5000, "nodeCount": cost * 100, "remaining": max(0, 5000-s.org.used),
			"used": s.org.used, "resetAt": ts(s.now().Add(time.Hour))}, nil
	}
	return nil, errNoField(f)
}

// ownerResolver answers an Organization or User: a repository owner, an
// organisation of org.go or one of its members.
func (s *Server) ownerResolver(f *gql.Field) (any, error) {
	r := request(f)
	switch o := f.Parent.(type) {
	case *owner:
		switch f.Name {
		case "login":
			return o.login, nil
		case "id":
			return nodeID("O", o.id), nil
		case "url":
			return "http://" + r.Host + "/" + o.login, nil
		case "repositories":
			fork, hasFork := f.Args["isFork"].(bool)
			archived, hasArchived := f.Args["isArchived"].(bool)
			privacy, _ := gql.String(f.Args, "privacy")
			var nodes []*repo
			for _, rp := range o.repos {
				if canSee(r, rp) && (!hasFork || rp.fork == fork) && (!hasArchived || rp.archived == archived) &&
					(privacy != "PUBLIC" || !rp.private) && (privacy != "PRIVATE" || rp.private) {
					nodes = append(nodes, rp)
				}
			}
			return page(nodes, f.Args), nil
		}
	case orgNode:
		switch f.Name {
		case "id":
			return o.o.id, nil
		case "login", "name":
			return o.o.login, nil
		case "membersWithRole":
			return page(o.o.members, f.Args), nil
		case "teams":
			root, _ := f.Args["rootTeamsOnly"].(bool)
			logins, _ := f.Args["userLogins"].([]any)
			var nodes []teamNode
			for _, t := range o.o.teams {
				if (!root || t.parent == "") && (len(logins) == 0 || teamHasAny(t, logins)) {
					nodes = append(nodes, teamNode{o.o, t})
				}
			}
			return page(nodes, f.Args), nil
		case "team":
			slug, _ := gql.String(f.Args, "slug")
			if t := o.o.bySlug[strings.ToLower(slug)]; t != nil {
				return teamNode{o.o, t}, nil
			}
			return nil, nil
		}
	case *orgUser:
		switch f.Name {
		case "id":
			return o.id, nil
		case "login":
			return o.login, nil
		case "name":
			return nilIfEmpty(o.name), nil
		case "email":
			return o.email, nil
		case "avatarUrl":
			return o.avatar, nil
		case "organizationVerifiedDomainEmails":
			return []string{}, nil
		}
	}
	return nil, errNoField(f)
}

func (s *Server) teamResolver(f *gql.Field) (any, error) {
	n := f.Parent.(teamNode)
	switch f.Name {
	case "id":
		return n.t.id, nil
	case "slug":
		return n.t.slug, nil
	case "name":
		return n.t.name, nil
	case "description":
		return nilIfEmpty(n.t.description), nil
	case "combinedSlug":
		return n.o.login + "/" + n.t.slug, nil
	case "avatarUrl":
		return nil, nil
	case "parentTeam":
		if p := n.o.bySlug[strings.ToLower(n.t.parent)]; p != nil {
			return teamNode{n.o, p}, nil
		}
		return nil, nil
	case "childTeams":
		var nodes []teamNode
		for _, c := range n.o.teams {
			if strings.EqualFold(c.parent, n.t.slug) {
				nodes = append(nodes, teamNode{n.o, c})
			}
		}
		return page(nodes, f.Args), nil
	case "members":
		membership, _ := gql.String(f.Args, "membership")
		var nodes []*orgUser
		for _, l := range teamMembers(n.o, n.t, membership) {
			if u := n.o.byLogin[strings.ToLower(l)]; u != nil {
				nodes = append(nodes, u)
			}
		}
		return page(nodes, f.Args), nil
	}
	return nil, errNoField(f)
}

func teamHasAny(t *fakeTeam, logins []any) bool {
	return slices.ContainsFunc(logins, func(l any) bool {
		s, _ := l.(string)
		return slices.ContainsFunc(t.members, func(m string) bool { return strings.EqualFold(m, s) })
	})
}

// teamMembers lists a team's members: IMMEDIATE, CHILD_TEAM (members of
// the teams below only) or ALL (both, de-duplicated), in a stable order.
func teamMembers(o *fakeOrg, t *fakeTeam, membership string) []string {
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

func webURL(r *http.Request, rp *repo) string {
	return "http://" + r.Host + "/" + rp.owner.login + "/" + rp.name
}

func (s *Server) repoResolver(f *gql.Field) (any, error) {
	rp := f.Parent.(*repo)
	switch f.Name {
	case "name":
		return rp.name, nil
	case "nameWithOwner":
		return rp.owner.login + "/" + rp.name, nil
	case "owner":
		return rp.owner, nil
	case "id":
		return nodeID("R", rp.id), nil
	case "databaseId":
		return rp.id, nil
	case "url":
		return webURL(request(f), rp), nil
	case "sshUrl":
		return "git@" + request(f).Host + ":" + rp.owner.login + "/" + rp.name + ".git", nil
	case "description":
		return rp.description, nil
	case "isArchived":
		return rp.archived, nil
	case "isFork":
		return rp.fork, nil
	case "isPrivate":
		return rp.private, nil
	case "isEmpty":
		return len(rp.refs) == 0, nil
	case "visibility":
		if rp.private {
			return "PRIVATE", nil
		}
		return "PUBLIC", nil
	case "createdAt":
		return ts(rp.created), nil
	case "defaultBranchRef":
		if id, ok := rp.refs["refs/heads/"+rp.defaultBranch]; ok {
			return gitRef{rp, "refs/heads/" + rp.defaultBranch, id}, nil
		}
		return nil, nil
	case "ref":
		q, _ := gql.String(f.Args, "qualifiedName")
		for _, full := range []string{q, "refs/heads/" + q, "refs/tags/" + q} {
			if id, ok := rp.refs[full]; ok && strings.HasPrefix(full, "refs/") {
				return gitRef{rp, full, id}, nil
			}
		}
		return nil, nil
	case "object":
		if oid, ok := gql.String(f.Args, "oid"); ok {
			return object(rp, oid), nil
		}
		expr, _ := gql.String(f.Args, "expression")
		rev, p, hasPath := strings.Cut(expr, ":")
		id, ok := rp.resolve(rev)
		if !ok {
			return nil, nil
		}
		if !hasPath {
			return gitObject{rp, id}, nil
		}
		p = strings.Trim(p, "/")
		te, ok := rp.objs.Lookup(rp.objs[id].Commit.Tree, p)
		if !ok || !cleanRel(p) {
			return nil, nil
		}
		return object(rp, te.SHA), nil
	}
	return nil, errNoField(f)
}

func (s *Server) refResolver(f *gql.Field) (any, error) {
	ref := f.Parent.(gitRef)
	short := strings.TrimPrefix(strings.TrimPrefix(ref.name, "refs/heads/"), "refs/tags/")
	switch f.Name {
	case "name":
		return short, nil
	case "prefix":
		return strings.TrimSuffix(ref.name, short), nil
	case "id":
		return base64.StdEncoding.EncodeToString([]byte("REF_" + ref.name)), nil
	case "target":
		return gitObject{ref.rp, ref.id}, nil
	case "associatedPullRequests":
		branch, isHead := strings.CutPrefix(ref.name, "refs/heads/")
		states, _ := f.Args["states"].([]any)
		base, _ := gql.String(f.Args, "baseRefName")
		var nodes []pullNode
		for _, p := range ref.rp.pulls {
			if isHead && p.head == branch && (base == "" || p.base == base) &&
				(len(states) == 0 || slices.Contains(states, any(strings.ToUpper(p.state)))) {
				nodes = append(nodes, pullNode{ref.rp, p})
			}
		}
		return page(nodes, f.Args), nil
	}
	return nil, errNoField(f)
}

// gitResolver answers a Commit, Tree or Blob.
func (s *Server) gitResolver(f *gql.Field) (any, error) {
	g := f.Parent.(gitObject)
	o := g.rp.objs[g.id]
	switch f.Name {
	case "oid":
		return g.id, nil
	case "abbreviatedOid":
		return g.id[:7], nil
	case "id":
		return base64.StdEncoding.EncodeToString([]byte(f.Type[:1] + "_" + g.id)), nil
	}
	switch o.Type {
	case "commit":
		c := o.Commit
		switch f.Name {
		case "message":
			return c.Message, nil
		case "messageHeadline":
			h, _, _ := strings.Cut(c.Message, "\n")
			return h, nil
		case "committedDate", "authoredDate":
			return ts(c.Committer.When), nil
		case "url":
			return webURL(request(f), g.rp) + "/commit/" + g.id, nil
		case "tree":
			return gitObject{g.rp, c.Tree}, nil
		case "file":
			p, _ := gql.String(f.Args, "path")
			p = strings.Trim(p, "/")
			if te, ok := g.rp.objs.Lookup(c.Tree, p); ok && cleanRel(p) && p != "" {
				return treeEntry{g.rp, p, te}, nil
			}
			return nil, nil
		}
	case "blob":
		binary := bytes.IndexByte(o.Blob, 0) >= 0 || !utf8.Valid(o.Blob)
		switch f.Name {
		case "byteSize":
			return len(o.Blob), nil
		case "isBinary":
			return binary, nil
		case "isTruncated":
			return false, nil
		case "text":
			s.Log().Count(func(st *Stats) { st.BlobTexts++ })
			if binary {
				return nil, nil
			}
			return string(o.Blob), nil
		}
	case "tree":
		if f.Name == "entries" {
			out := make([]treeEntry, 0, len(o.Tree))
			for _, te := range o.Tree {
				out = append(out, treeEntry{g.rp, te.Name, te})
			}
			return out, nil
		}
	}
	return nil, errNoField(f)
}

func (s *Server) entryResolver(f *gql.Field) (any, error) {
	te := f.Parent.(treeEntry)
	switch f.Name {
	case "name":
		return path.Base(te.p), nil
	case "path":
		return te.p, nil
	case "oid":
		return te.e.SHA, nil
	case "type":
		switch te.e.Mode {
		case gitobj.ModeTree:
			return "tree", nil
		case gitobj.ModeCommit:
			return "commit", nil
		}
		return "blob", nil
	case "mode":
		m, _ := strconv.ParseInt(te.e.Mode, 8, 64)
		return m, nil
	case "extension":
		return path.Ext(te.p), nil
	case "isGenerated":
		return false, nil
	case "size":
		if b := te.rp.objs[te.e.SHA]; b != nil && b.Type == "blob" {
			return len(b.Blob), nil
		}
		return 0, nil
	case "object":
		return object(te.rp, te.e.SHA), nil
	}
	return nil, errNoField(f)
}

func (s *Server) pullResolver(f *gql.Field) (any, error) {
	rp, p := f.Parent.(pullNode).rp, f.Parent.(pullNode).p
	switch f.Name {
	case "number":
		return p.number, nil
	case "id":
		return nodeID("PR_", p.id), nil
	case "url", "permalink":
		return webURL(request(f), rp) + "/pull/" + strconv.Itoa(p.number), nil
	case "title":
		return p.title, nil
	case "body":
		return p.body, nil
	case "state":
		return strings.ToUpper(p.state), nil
	case "closed":
		return p.state == "closed", nil
	case "merged":
		return false, nil
	case "isDraft":
		return p.draft, nil
	case "baseRefName":
		return p.base, nil
	case "headRefName":
		return p.head, nil
	case "headRefOid":
		return rp.refs["refs/heads/"+p.head], nil
	case "baseRefOid":
		return rp.refs["refs/heads/"+p.base], nil
	case "createdAt":
		return ts(p.created), nil
	}
	return nil, errNoField(f)
}
