package fakegithub

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitrecv"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gql"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// githubSchemaSDL is the part of GitHub's GraphQL schema the fake answers,
// verbatim from @octokit/graphql-schema (see testdata/NOTICE at the
// module root).
//
//go:embed github-schema.graphql
var githubSchemaSDL string

// ghesSchemaSDL is what GitHub Enterprise Server's schema adds to it
// (Options.EnterpriseServer), verbatim from GitHub's published GHES
// schema.
//
//go:embed ghes-schema.graphql
var ghesSchemaSDL string

// The schemas are loaded once: each is the same for every Server.
var (
	githubSchema = sync.OnceValue(func() *ast.Schema { return loadSchema(githubSchemaSDL) })
	ghesSchema   = sync.OnceValue(func() *ast.Schema { return loadSchema(githubSchemaSDL + "\n" + ghesSchemaSDL) })
)

func loadSchema(sdl string) *ast.Schema {
	s, err := gql.LoadSchema("github-schema.graphql", sdl)
	if err != nil {
		panic("fakegithub: embedded schema: " + err.Error())
	}
	return s
}

// schema is the GraphQL schema s answers: GitHub Enterprise Server's or
// github.com's.
func (s *Server) schema() *ast.Schema {
	if s.opts.EnterpriseServer {
		return ghesSchema()
	}
	return githubSchema()
}

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
		msgs[i] = e.Message
	}
	return errors.New(strings.Join(msgs, "; "))
}

// graphql answers POST /graphql (and /api/graphql), queries and the
// mutations of mutation.go: GitHub refuses a query
// its schema refuses, or one whose connections lack first or last, ask for
// more than 100 nodes a page or (OrgLimits.MaxNodes) too many nodes in
// all, with 200 and an "errors" list; then it executes the query over the
// fake's state.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	var req gql.Request
	if !s.decode(w, r, &req, "https://docs.github.com/graphql") {
		return
	}
	refuse := func(withData bool, errs ...*gql.Error) {
		resp := map[string]any{"errors": errs}
		if withData {
			resp["data"] = nil
		}
		s.writeJSON(w, r, http.StatusOK, resp)
	}
	x := &gql.Executor{Schema: s.schema()}
	op, errs := x.Prepare(req)
	if errs != nil {
		refuse(false, errs...)
		return
	}
	nodes, err := countNodes(op)
	if err != nil {
		refuse(false, err)
		return
	}
	s.site.Lock()
	defer s.site.Unlock()
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
	root := s.query(r, cost)
	if op.Doc.Operation == ast.Mutation {
		root = s.mutation(r)
	}
	data, errs := op.Execute(r.Context(), root)
	if s.prFail.failed { // FailPullRequestMutation: the work is done, the answer lost
		s.prFail.failed = false
		if !fake.GatewayError(w, s.prFail.status, "") {
			s.writeError(w, r, s.prFail.status, "Server Error", "")
		}
		return
	}
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

// arg returns the string argument name of args, "" when it is absent.
func arg(args map[string]any, name string) string {
	v, _ := gql.String(args, name)
	return v
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
	type orgField struct{ alias, login string }
	var orgs []orgField
	op.Walk(nil, func(f *ast.Field, args map[string]any, _ any) (any, error) {
		if f.Name == "organization" && f.ObjectDefinition.Name == "Query" {
			orgs = append(orgs, orgField{f.Alias, arg(args, "login")})
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
		for _, o := range orgs { // an installation reads its own account's organisation only
			if !strings.EqualFold(o.login, it.inst.account.Key) {
				return forbidden(o.alias)
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

// The fake's GraphQL values are maps of the fields of GitHub's types,
// fields that take arguments or lead to other objects as resolvers (run
// with s.mu held); r is the request, for the URLs.
type fn = gql.Resolver

func (s *Server) query(r *http.Request, cost int) map[string]any {
	return map[string]any{
		"repositoryOwner": fn(func(f *gql.Field) (any, error) {
			login := arg(f.Args, "login")
			if o := s.site.FindOwner(login); o != nil {
				return s.ownerValue(r, o), nil
			}
			return nil, nil
		}),
		"repository": fn(func(f *gql.Field) (any, error) {
			owner := arg(f.Args, "owner")
			name := arg(f.Args, "name")
			if rp := s.repoLocked(owner, name); rp != nil && canSee(r, rp) {
				return s.repoValue(r, rp), nil
			}
			return nil, gqlErr("NOT_FOUND", "Could not resolve to a Repository with the name '"+owner+"/"+name+"'.", nil)
		}),
		"organization": fn(func(f *gql.Field) (any, error) {
			login := arg(f.Args, "login")
			if o := s.org.orgs[strings.ToLower(login)]; o != nil {
				return orgValue(o), nil
			}
			return nil, gqlErr("NOT_FOUND", fmt.Sprintf("Could not resolve to an Organization with the login of '%s'.", login), nil)
		}),
		"user": fn(func(f *gql.Field) (any, error) {
			login := arg(f.Args, "login")
			for _, o := range s.org.orgs {
				if u := o.member(login); u != nil {
					return s.org.memberValue(u), nil
				}
			}
			return nil, gqlErr("NOT_FOUND", fmt.Sprintf("Could not resolve to a User with the login of '%s'.", login), nil)
		}),
		"rateLimit": map[string]any{"cost": cost, "limit": 5000, "nodeCount": cost * 100, "remaining": max(0, 5000-s.org.used),
			"used": s.org.used, "resetAt": ts(s.now().Add(time.Hour))},
	}
}

// paging is GitHub's cursor pagination; a connection without first or
// last is refused before (countNodes).
var paging = gql.Paging{Cursor: "cursor:v2:%d"}

// ownerValue is a repository owner: an Organization or a User.
func (s *Server) ownerValue(r *http.Request, o *repostore.Owner) map[string]any {
	return map[string]any{"__typename": o.Type, "login": o.Key, "id": nodeID("O", int64(o.ID)), "url": "http://" + r.Host + "/" + o.Key,
		"repositories": fn(func(f *gql.Field) (any, error) {
			fork, hasFork := f.Args["isFork"].(bool)
			archived, hasArchived := f.Args["isArchived"].(bool)
			privacy := arg(f.Args, "privacy")
			var nodes []*repostore.Repo
			for _, rp := range s.affiliated(o, f.Args["ownerAffiliations"]) {
				if canSee(r, rp) && (!hasFork || rp.Fork == fork) && (!hasArchived || rp.Archived == archived) &&
					(privacy != "PUBLIC" || rp.Public) && (privacy != "PRIVATE" || !rp.Public) {
					nodes = append(nodes, rp)
				}
			}
			return gql.Page(paging, nodes, f.Args, func(rp *repostore.Repo) any { return s.repoValue(r, rp) }), nil
		}),
	}
}

// affiliated returns, in id order, the repositories that o owns (OWNER)
// and, for a user, those of other owners she is a collaborator of (a
// grant she accepted: COLLABORATOR), as ownerAffiliations asks (GitHub's
// default, [OWNER, COLLABORATOR], when absent).
func (s *Server) affiliated(o *repostore.Owner, affiliations any) []*repostore.Repo {
	aff, _ := affiliations.([]any)
	if affiliations == nil {
		aff = []any{"OWNER", "COLLABORATOR"}
	}
	var list []*repostore.Repo
	if slices.Contains(aff, any("OWNER")) {
		list = reposOf(o)
	}
	if o.Type == string(User) && slices.Contains(aff, any("COLLABORATOR")) {
		for k, grants := range s.access.grants {
			owner, name, _ := strings.Cut(k, "/")
			if rp := s.repoLocked(owner, name); rp != nil && rp.Owner != o && slices.ContainsFunc(grants, func(g Grant) bool {
				return strings.EqualFold(g.User, o.Key) && !g.Invited
			}) {
				list = append(list, rp)
			}
		}
	}
	slices.SortFunc(list, func(a, b *repostore.Repo) int { return a.ID - b.ID })
	return list
}

func (s *Server) repoValue(r *http.Request, rp *repostore.Repo) map[string]any {
	web := "http://" + r.Host + "/" + rp.Owner.Key + "/" + rp.Slug
	vis := map[bool]string{false: "PUBLIC", true: "PRIVATE"}[!rp.Public]
	return map[string]any{"name": rp.Slug, "nameWithOwner": rp.Owner.Key + "/" + rp.Slug, "id": nodeID("R", int64(rp.ID)),
		"databaseId": int64(rp.ID), "url": web, "sshUrl": "git@" + r.Host + ":" + rp.Owner.Key + "/" + rp.Slug + ".git",
		"description": rp.Description, "isArchived": rp.Archived, "isFork": rp.Fork, "isPrivate": !rp.Public,
		"isEmpty": gitrecv.IsEmpty(rp), "visibility": vis, "createdAt": ts(rp.Created),
		"owner": fn(func(*gql.Field) (any, error) { return s.ownerValue(r, rp.Owner), nil }),
		"defaultBranchRef": fn(func(*gql.Field) (any, error) {
			if id, ok := rp.Branches[rp.DefaultBranch]; ok {
				return s.refValue(r, rp, "refs/heads/"+rp.DefaultBranch, id), nil
			}
			return nil, nil
		}),
		"ref": fn(func(f *gql.Field) (any, error) {
			if full, id, ok := rp.FullRef(arg(f.Args, "qualifiedName")); ok {
				return s.refValue(r, rp, full, id), nil
			}
			return nil, nil
		}),
		"object": fn(func(f *gql.Field) (any, error) {
			if oid, ok := gql.String(f.Args, "oid"); ok {
				return s.gitValue(r, rp, oid), nil
			}
			expr := arg(f.Args, "expression")
			rev, p, hasPath := strings.Cut(expr, ":")
			c := rp.Resolve(rev)
			if c == nil {
				return nil, nil
			} else if !hasPath {
				return s.gitValue(r, rp, c.ID), nil
			}
			p = strings.Trim(p, "/")
			if te, ok := rp.Objects.Lookup(c.Git.Tree, p); ok && cleanRel(p) {
				return s.gitValue(r, rp, te.SHA), nil
			}
			return nil, nil
		}),
	}
}

func (s *Server) refValue(r *http.Request, rp *repostore.Repo, name, id string) map[string]any {
	short := strings.TrimPrefix(strings.TrimPrefix(name, "refs/heads/"), "refs/tags/")
	return map[string]any{"name": short, "prefix": strings.TrimSuffix(name, short), "id": base64.StdEncoding.EncodeToString([]byte("REF_" + name)),
		"target": fn(func(*gql.Field) (any, error) { return s.gitValue(r, rp, id), nil }),
		"associatedPullRequests": fn(func(f *gql.Field) (any, error) {
			branch, isHead := strings.CutPrefix(name, "refs/heads/")
			states, _ := f.Args["states"].([]any)
			base := arg(f.Args, "baseRefName")
			var nodes []*repostore.Pull
			for _, p := range rp.Pulls {
				if isHead && p.From == branch && (base == "" || p.To == base) && (len(states) == 0 || slices.Contains(states, any(p.State))) {
					nodes = append(nodes, p)
				}
			}
			return gql.Page(paging, nodes, f.Args, func(p *repostore.Pull) any { return pullValue(r, rp, p) }), nil
		}),
	}
}

// gitValue is the Commit, Tree or Blob id, or nil.
func (s *Server) gitValue(r *http.Request, rp *repostore.Repo, id string) any {
	o := objectOf(rp, id)
	if o == nil {
		return nil
	}
	typ := strings.ToUpper(o.Type[:1]) + o.Type[1:]
	v := map[string]any{"__typename": typ, "oid": id, "abbreviatedOid": id[:7], "id": base64.StdEncoding.EncodeToString([]byte(typ[:1] + "_" + id))}
	switch o.Type {
	case "commit":
		c := o.Commit
		headline, _, _ := strings.Cut(c.Message, "\n")
		maps.Copy(v, map[string]any{"message": c.Message, "messageHeadline": headline, "committedDate": ts(c.Committer.When),
			"authoredDate": ts(c.Committer.When), "url": "http://" + r.Host + "/" + rp.Owner.Key + "/" + rp.Slug + "/commit/" + id,
			"tree": fn(func(*gql.Field) (any, error) { return s.gitValue(r, rp, c.Tree), nil }),
			"file": fn(func(f *gql.Field) (any, error) {
				p := strings.Trim(arg(f.Args, "path"), "/")
				if te, ok := rp.Objects.Lookup(c.Tree, p); ok && cleanRel(p) && p != "" {
					return s.entryValue(r, rp, p, te), nil
				}
				return nil, nil
			})})
	case "blob":
		// As GitHub: text is null for a binary blob, and cut at
		// BlobTextLimit bytes (on a character boundary) with isTruncated
		// set for a larger one; byteSize is always the whole blob's.
		binary := bytes.IndexByte(o.Blob, 0) >= 0 || !utf8.Valid(o.Blob)
		text := o.Blob
		if len(text) > BlobTextLimit {
			cut := BlobTextLimit
			for cut > 0 && !utf8.RuneStart(text[cut]) {
				cut--
			}
			text = text[:cut]
		}
		maps.Copy(v, map[string]any{"byteSize": len(o.Blob), "isBinary": binary, "isTruncated": len(text) < len(o.Blob),
			"text": fn(func(*gql.Field) (any, error) {
				s.site.Core.Log().Count(func(st *Stats) { st.BlobTexts++ })
				if binary {
					return nil, nil
				}
				return string(text), nil
			})})
	case "tree":
		v["entries"] = fn(func(*gql.Field) (any, error) {
			return listJSON(o.Tree, func(te gitobj.TreeEntry) any { return s.entryValue(r, rp, te.Name, te) }), nil
		})
	}
	return v
}

// BlobTextLimit is the most bytes of a blob the GraphQL Blob.text field
// gives: GitHub cuts a larger blob's text there and sets isTruncated
// (512,000 bytes, an undocumented limit observed by GitHub's users). A
// Tree's entries are a list, not a connection: they count for no node
// limit, and a query may nest trees as deep as it likes.
const BlobTextLimit = 512_000

func (s *Server) entryValue(r *http.Request, rp *repostore.Repo, p string, te gitobj.TreeEntry) map[string]any {
	typ := map[string]string{gitobj.ModeTree: "tree", gitobj.ModeCommit: "commit"}[te.Mode]
	mode, _ := strconv.ParseInt(te.Mode, 8, 64)
	size := 0
	if has(rp, te.SHA, "blob") {
		size = len(rp.Objects[te.SHA].Blob)
	}
	return map[string]any{"name": path.Base(p), "path": p, "oid": te.SHA, "type": cmp.Or(typ, "blob"), "mode": mode,
		"extension": path.Ext(p), "isGenerated": false, "size": size,
		"object": fn(func(*gql.Field) (any, error) { return s.gitValue(r, rp, te.SHA), nil })}
}

func pullValue(r *http.Request, rp *repostore.Repo, p *repostore.Pull) map[string]any {
	url := "http://" + r.Host + "/" + rp.Owner.Key + "/" + rp.Slug + "/pull/" + strconv.Itoa(p.ID)
	return map[string]any{"number": p.ID, "id": nodeID("PR_", int64(p.Node)), "url": url, "permalink": url, "title": p.Title,
		"body": p.Description, "state": p.State, "closed": false, "merged": false, "isDraft": p.Draft,
		"baseRefName": p.To, "headRefName": p.From, "headRefOid": rp.Branches[p.From],
		"baseRefOid": rp.Branches[p.To], "createdAt": ts(p.Created),
		"isCrossRepository": false} // the fake has no forks
}
