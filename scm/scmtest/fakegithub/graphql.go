package fakegithub

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

// graphql answers POST /graphql (and /api/graphql): it parses the
// document, validates it against GitHub's schema (errors are answered 200
// with an "errors" list and no data, as GitHub does), then executes it
// over the fake's state.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	if err := decodeBody(r, &body); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/graphql")
		return
	}
	doc, err := ParseGraphQL(body.Query)
	if err != nil {
		s.writeJSON(w, r, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": err.Error()}}})
		return
	}
	if errs := s.schema.Validate(doc); len(errs) > 0 {
		list := make([]any, 0, len(errs))
		for _, e := range errs {
			list = append(list, map[string]any{"message": e.Error(), "extensions": map[string]any{"code": "validationFailed"}})
		}
		s.writeJSON(w, r, http.StatusOK, map[string]any{"errors": list})
		return
	}
	var op *GQLOperation
	for _, o := range doc.Operations {
		if body.OperationName == "" || o.Name == body.OperationName {
			op = o
			break
		}
	}
	if op == nil || (body.OperationName == "" && len(doc.Operations) > 1) {
		s.writeJSON(w, r, http.StatusOK, map[string]any{"errors": []any{map[string]any{"message": "An operation name is required"}}})
		return
	}
	vars := map[string]any{}
	for _, v := range op.Variables {
		val, ok := body.Variables[v.Name]
		switch {
		case ok:
			vars[v.Name] = val
		case v.HasDef:
			vars[v.Name] = v.Default
		case strings.HasSuffix(v.Type, "!"):
			s.writeJSON(w, r, http.StatusOK, map[string]any{"errors": []any{map[string]any{
				"message":    fmt.Sprintf("Variable $%s of type %s was provided invalid value", v.Name, v.Type),
				"extensions": map[string]any{"value": nil, "problems": []any{map[string]any{"path": []any{}, "explanation": "Expected value to not be null"}}},
			}}})
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ex := &gqlExec{s: s, r: r, vars: vars, doc: doc}
	data := ex.object(gqlQuery{}, op.Selection, nil)
	resp := map[string]any{"data": data}
	if len(ex.errs) > 0 {
		resp["errors"] = ex.errs
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}

type gqlObject interface{ gqlType() string }

type (
	gqlQuery struct{}
	gqlOwner struct{ o *owner }
	gqlRepo  struct{ rp *repo }
	gqlRef   struct {
		rp       *repo
		name, id string
	}
	gqlCommit struct {
		rp *repo
		id string
	}
	gqlBlob struct {
		rp *repo
		id string
	}
	gqlTree struct {
		rp *repo
		id string
	}
	gqlTreeEntry struct {
		rp *repo
		p  string
		e  gitobj.TreeEntry
	}
	gqlPull struct {
		rp *repo
		p  *pull
	}
	gqlConn struct {
		typ              string
		nodes            []gqlObject
		cursors          []string
		hasNext, hasPrev bool
		total            int
	}
	gqlEdge struct {
		typ    string
		node   gqlObject
		cursor string
	}
	gqlPageInfo struct {
		hasNext, hasPrev bool
		start, end       any
	}
	gqlRateLimit struct{}
)

func (gqlQuery) gqlType() string     { return "Query" }
func (o gqlOwner) gqlType() string   { return string(o.o.typ) }
func (gqlRepo) gqlType() string      { return "Repository" }
func (gqlRef) gqlType() string       { return "Ref" }
func (gqlCommit) gqlType() string    { return "Commit" }
func (gqlBlob) gqlType() string      { return "Blob" }
func (gqlTree) gqlType() string      { return "Tree" }
func (gqlTreeEntry) gqlType() string { return "TreeEntry" }
func (gqlPull) gqlType() string      { return "PullRequest" }
func (c gqlConn) gqlType() string    { return c.typ + "Connection" }
func (e gqlEdge) gqlType() string    { return e.typ + "Edge" }
func (gqlPageInfo) gqlType() string  { return "PageInfo" }
func (gqlRateLimit) gqlType() string { return "RateLimit" }

// gqlError is a field error, reported in "errors" with its type.
type gqlError struct{ typ, msg string }

func (e gqlError) Error() string { return e.msg }

type gqlExec struct {
	s    *Server
	r    *http.Request
	vars map[string]any
	doc  *GQLDocument
	errs []any
}

func (e *gqlExec) object(obj gqlObject, sels []*GQLSelection, path []any) map[string]any {
	out := map[string]any{}
	e.collect(obj, sels, path, out)
	return out
}

func (e *gqlExec) collect(obj gqlObject, sels []*GQLSelection, path []any, out map[string]any) {
	for _, sel := range sels {
		switch {
		case sel.Spread != "":
			if f := e.doc.Fragments[sel.Spread]; f != nil && e.s.schema.possible(f.On, obj.gqlType()) {
				e.collect(obj, f.Selection, path, out)
			}
		case sel.Fragment:
			if sel.On == "" || e.s.schema.possible(sel.On, obj.gqlType()) {
				e.collect(obj, sel.Selection, path, out)
			}
		default:
			k := sel.ResponseKey()
			if sel.Name == "__typename" {
				out[k] = obj.gqlType()
				continue
			}
			args := map[string]any{}
			for _, a := range sel.Args {
				args[a.Name] = e.value(a.Value)
			}
			p := append(append([]any(nil), path...), k)
			v, err := e.resolve(obj, sel.Name, args)
			if err != nil {
				ge, _ := err.(gqlError)
				item := map[string]any{"message": err.Error(), "path": p,
					"locations": []any{map[string]any{"line": sel.Line, "column": 1}}}
				if ge.typ != "" {
					item["type"] = ge.typ
				}
				e.errs = append(e.errs, item)
				out[k] = nil
				continue
			}
			merge(out, k, e.complete(v, sel, p))
		}
	}
}

// merge sets out[k] = v, merging objects selected twice.
func merge(out map[string]any, k string, v any) {
	old, ok1 := out[k].(map[string]any)
	nw, ok2 := v.(map[string]any)
	if !ok1 || !ok2 {
		out[k] = v
		return
	}
	for kk, vv := range nw {
		merge(old, kk, vv)
	}
}

func (e *gqlExec) complete(v any, sel *GQLSelection, path []any) any {
	switch x := v.(type) {
	case gqlObject:
		return e.object(x, sel.Selection, path)
	case []gqlObject:
		list := make([]any, len(x))
		for i, o := range x {
			list[i] = e.object(o, sel.Selection, append(append([]any(nil), path...), i))
		}
		return list
	}
	return v
}

func (e *gqlExec) value(v any) any {
	switch x := v.(type) {
	case GQLVar:
		return e.vars[string(x)]
	case GQLEnum:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = e.value(y)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, y := range x {
			out[k] = e.value(y)
		}
		return out
	}
	return v
}

func argString(args map[string]any, name string) (string, bool) {
	s, ok := args[name].(string)
	return s, ok
}

func argInt(args map[string]any, name string) (int, bool) {
	switch x := args[name].(type) {
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	case int:
		return x, true
	}
	return 0, false
}

func argStrings(args map[string]any, name string) []string {
	switch x := args[name].(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, y := range x {
			if s, ok := y.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func cursorFor(i int) string {
	return base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(i)))
}

func cursorIndex(c string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "cursor:v2:"))
	return n, err == nil && strings.HasPrefix(string(b), "cursor:v2:")
}

// connection pages nodes by first/after as GitHub does, with its errors
// for a missing or excessive first.
func connection(typ, field string, nodes []gqlObject, args map[string]any) (gqlConn, error) {
	first, ok := argInt(args, "first")
	if _, hasLast := argInt(args, "last"); !ok && hasLast {
		return gqlConn{}, gqlError{msg: "the fake supports first/after pagination only"}
	}
	if !ok {
		return gqlConn{}, gqlError{typ: "MISSING_PAGINATION_BOUNDARIES",
			msg: "You must provide a `first` or `last` value to properly paginate the `" + field + "` connection."}
	}
	if first > 100 {
		return gqlConn{}, gqlError{typ: "EXCESSIVE_PAGINATION",
			msg: fmt.Sprintf("Requesting %d records on the `%s` connection exceeds the `first` limit of 100 records.", first, field)}
	}
	if first < 0 {
		return gqlConn{}, gqlError{msg: "`first` must be non-negative"}
	}
	start := 0
	if a, ok := argString(args, "after"); ok && a != "" {
		i, ok := cursorIndex(a)
		if !ok {
			return gqlConn{}, gqlError{msg: "`" + a + "` does not appear to be a valid cursor."}
		}
		start = i + 1
	}
	start = min(start, len(nodes))
	end := min(start+first, len(nodes))
	c := gqlConn{typ: typ, nodes: nodes[start:end], hasNext: end < len(nodes), hasPrev: start > 0, total: len(nodes)}
	for i := start; i < end; i++ {
		c.cursors = append(c.cursors, cursorFor(i))
	}
	return c, nil
}

func (e *gqlExec) unknown(obj gqlObject, field string) error {
	return gqlError{msg: "the fake does not implement field '" + field + "' on type '" + obj.gqlType() + "'"}
}

func (e *gqlExec) webURL(rp *repo) string {
	return "http://" + e.r.Host + "/" + rp.owner.login + "/" + rp.name
}

func (e *gqlExec) resolve(obj gqlObject, field string, args map[string]any) (any, error) {
	s := e.s
	switch o := obj.(type) {
	case gqlQuery:
		switch field {
		case "repositoryOwner":
			login, _ := argString(args, "login")
			if ow := s.owners[strings.ToLower(login)]; ow != nil {
				return gqlOwner{ow}, nil
			}
			return nil, nil
		case "repository":
			owner, _ := argString(args, "owner")
			name, _ := argString(args, "name")
			if rp := s.repos[key(owner, name)]; rp != nil && canSee(e.r, rp) {
				return gqlRepo{rp}, nil
			}
			return nil, gqlError{typ: "NOT_FOUND", msg: "Could not resolve to a Repository with the name '" + owner + "/" + name + "'."}
		case "rateLimit":
			return gqlRateLimit{}, nil
		}
	case gqlRateLimit:
		switch field {
		case "cost":
			return 1, nil
		case "limit":
			return 5000, nil
		case "remaining":
			return 4999, nil
		case "used":
			return 1, nil
		case "nodeCount":
			return 100, nil
		case "resetAt":
			return ts(s.now().Add(time.Hour)), nil
		}
	case gqlOwner:
		switch field {
		case "login":
			return o.o.login, nil
		case "id":
			return nodeID("O", o.o.id), nil
		case "url":
			return "http://" + e.r.Host + "/" + o.o.login, nil
		case "repositories":
			var nodes []gqlObject
			fork, hasFork := args["isFork"].(bool)
			archived, hasArchived := args["isArchived"].(bool)
			privacy, _ := argString(args, "privacy")
			for _, rp := range o.o.repos {
				if !canSee(e.r, rp) || (hasFork && rp.fork != fork) || (hasArchived && rp.archived != archived) ||
					(privacy == "PUBLIC" && rp.private) || (privacy == "PRIVATE" && !rp.private) {
					continue
				}
				nodes = append(nodes, gqlRepo{rp})
			}
			return connection("Repository", "repositories", nodes, args)
		}
	case gqlRepo:
		rp := o.rp
		switch field {
		case "name":
			return rp.name, nil
		case "nameWithOwner":
			return rp.owner.login + "/" + rp.name, nil
		case "owner":
			return gqlOwner{rp.owner}, nil
		case "id":
			return nodeID("R", rp.id), nil
		case "databaseId":
			return rp.id, nil
		case "url":
			return e.webURL(rp), nil
		case "sshUrl":
			return "git@" + e.r.Host + ":" + rp.owner.login + "/" + rp.name + ".git", nil
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
			id, ok := rp.refs["refs/heads/"+rp.defaultBranch]
			if !ok {
				return nil, nil
			}
			return gqlRef{rp, "refs/heads/" + rp.defaultBranch, id}, nil
		case "ref":
			q, _ := argString(args, "qualifiedName")
			for _, full := range []string{q, "refs/heads/" + q, "refs/tags/" + q} {
				if id, ok := rp.refs[full]; ok && strings.HasPrefix(full, "refs/") {
					return gqlRef{rp, full, id}, nil
				}
			}
			return nil, nil
		case "object":
			if oid, ok := argString(args, "oid"); ok {
				return gqlGitObject(rp, oid), nil
			}
			expr, _ := argString(args, "expression")
			rev, p, hasPath := strings.Cut(expr, ":")
			id, ok := rp.resolve(rev)
			if !ok {
				return nil, nil
			}
			if !hasPath {
				return gqlCommit{rp, id}, nil
			}
			p = strings.Trim(p, "/")
			te, ok := rp.objs.Lookup(rp.objs[id].Commit.Tree, p)
			if !ok || !cleanRel(p) {
				return nil, nil
			}
			return gqlGitObject(rp, te.SHA), nil
		}
	case gqlRef:
		switch field {
		case "name":
			return strings.TrimPrefix(strings.TrimPrefix(o.name, "refs/heads/"), "refs/tags/"), nil
		case "prefix":
			return o.name[:len(o.name)-len(strings.TrimPrefix(strings.TrimPrefix(o.name, "refs/heads/"), "refs/tags/"))], nil
		case "id":
			return base64.StdEncoding.EncodeToString([]byte("REF_" + o.name)), nil
		case "target":
			return gqlCommit{o.rp, o.id}, nil
		case "associatedPullRequests":
			branch, isHead := strings.CutPrefix(o.name, "refs/heads/")
			states := argStrings(args, "states")
			base, _ := argString(args, "baseRefName")
			var nodes []gqlObject
			for _, p := range o.rp.pulls {
				if !isHead || p.head != branch || (base != "" && p.base != base) {
					continue
				}
				if len(states) > 0 && !containsFold(states, p.state) {
					continue
				}
				nodes = append(nodes, gqlPull{o.rp, p})
			}
			return connection("PullRequest", "associatedPullRequests", nodes, args)
		}
	case gqlCommit:
		c := o.rp.objs[o.id].Commit
		switch field {
		case "oid":
			return o.id, nil
		case "abbreviatedOid":
			return o.id[:7], nil
		case "id":
			return base64.StdEncoding.EncodeToString([]byte("C_" + o.id)), nil
		case "message":
			return c.Message, nil
		case "messageHeadline":
			h, _, _ := strings.Cut(c.Message, "\n")
			return h, nil
		case "committedDate", "authoredDate":
			return ts(c.Committer.When), nil
		case "url":
			return e.webURL(o.rp) + "/commit/" + o.id, nil
		case "tree":
			return gqlTree{o.rp, c.Tree}, nil
		case "file":
			p, _ := argString(args, "path")
			p = strings.Trim(p, "/")
			if !cleanRel(p) || p == "" {
				return nil, nil
			}
			te, ok := o.rp.objs.Lookup(c.Tree, p)
			if !ok {
				return nil, nil
			}
			return gqlTreeEntry{o.rp, p, te}, nil
		}
	case gqlBlob:
		b := o.rp.objs[o.id].Blob
		binary := bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b)
		switch field {
		case "oid":
			return o.id, nil
		case "abbreviatedOid":
			return o.id[:7], nil
		case "id":
			return base64.StdEncoding.EncodeToString([]byte("B_" + o.id)), nil
		case "byteSize":
			return len(b), nil
		case "isBinary":
			return binary, nil
		case "isTruncated":
			return false, nil
		case "text":
			s.log.Count(func(st *Stats) { st.BlobTexts++ })
			if binary {
				return nil, nil
			}
			return string(b), nil
		}
	case gqlTree:
		switch field {
		case "oid":
			return o.id, nil
		case "abbreviatedOid":
			return o.id[:7], nil
		case "id":
			return base64.StdEncoding.EncodeToString([]byte("T_" + o.id)), nil
		case "entries":
			var out []gqlObject
			for _, te := range o.rp.objs[o.id].Tree {
				out = append(out, gqlTreeEntry{o.rp, te.Name, te})
			}
			return out, nil
		}
	case gqlTreeEntry:
		switch field {
		case "name":
			return path.Base(o.p), nil
		case "path":
			return o.p, nil
		case "oid":
			return o.e.SHA, nil
		case "type":
			switch o.e.Mode {
			case gitobj.ModeTree:
				return "tree", nil
			case gitobj.ModeCommit:
				return "commit", nil
			}
			return "blob", nil
		case "mode":
			m, _ := strconv.ParseInt(o.e.Mode, 8, 64)
			return m, nil
		case "extension":
			return path.Ext(o.p), nil
		case "isGenerated":
			return false, nil
		case "size":
			if b := o.rp.objs[o.e.SHA]; b != nil && b.Type == "blob" {
				return len(b.Blob), nil
			}
			return 0, nil
		case "object":
			return gqlGitObject(o.rp, o.e.SHA), nil
		}
	case gqlPull:
		p := o.p
		switch field {
		case "number":
			return p.number, nil
		case "id":
			return nodeID("PR_", p.id), nil
		case "url", "permalink":
			return e.webURL(o.rp) + "/pull/" + strconv.Itoa(p.number), nil
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
			return o.rp.refs["refs/heads/"+p.head], nil
		case "baseRefOid":
			return o.rp.refs["refs/heads/"+p.base], nil
		case "createdAt":
			return ts(p.created), nil
		}
	case gqlConn:
		switch field {
		case "nodes":
			return o.nodes, nil
		case "totalCount":
			return o.total, nil
		case "edges":
			out := make([]gqlObject, len(o.nodes))
			for i, n := range o.nodes {
				out[i] = gqlEdge{o.typ, n, o.cursors[i]}
			}
			return out, nil
		case "pageInfo":
			pi := gqlPageInfo{hasNext: o.hasNext, hasPrev: o.hasPrev}
			if len(o.cursors) > 0 {
				pi.start, pi.end = o.cursors[0], o.cursors[len(o.cursors)-1]
			}
			return pi, nil
		}
	case gqlEdge:
		switch field {
		case "node":
			return o.node, nil
		case "cursor":
			return o.cursor, nil
		}
	case gqlPageInfo:
		switch field {
		case "hasNextPage":
			return o.hasNext, nil
		case "hasPreviousPage":
			return o.hasPrev, nil
		case "startCursor":
			return o.start, nil
		case "endCursor":
			return o.end, nil
		}
	}
	return nil, e.unknown(obj, field)
}

// gqlGitObject wraps the object id as its GraphQL type, or returns nil.
func gqlGitObject(rp *repo, id string) any {
	o := rp.objs[id]
	if o == nil {
		return nil
	}
	switch o.Type {
	case "blob":
		return gqlBlob{rp, id}
	case "tree":
		return gqlTree{rp, id}
	case "commit":
		return gqlCommit{rp, id}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
