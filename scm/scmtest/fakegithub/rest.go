package fakegithub

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

func (s *Server) routes(mux *http.ServeMux) {
	for _, rt := range []struct {
		pattern, doc string // doc: the anchor of the route's documentation, for error bodies
		h            repoHandler
	}{
		{"GET /repos/{owner}/{repo}", "repos/repos#get-a-repository", s.getRepo},
		{"GET /repos/{owner}/{repo}/contents/{path...}", "repos/contents#get-repository-content", s.getContents},
		{"GET /repos/{owner}/{repo}/tarball", "repos/contents#download-a-repository-archive-tar", s.getTarball},
		{"GET /repos/{owner}/{repo}/tarball/{ref...}", "repos/contents#download-a-repository-archive-tar", s.getTarball},
		{"GET /repos/{owner}/{repo}/branches/{branch...}", "branches/branches#get-a-branch", s.getBranch},
		{"GET /repos/{owner}/{repo}/git/ref/{ref...}", "git/refs#get-a-reference", s.getRef},
		{"POST /repos/{owner}/{repo}/git/refs", "git/refs#create-a-reference", s.createRef},
		{"PATCH /repos/{owner}/{repo}/git/refs/{ref...}", "git/refs#update-a-reference", s.updateRef},
		{"DELETE /repos/{owner}/{repo}/git/refs/{ref...}", "git/refs#delete-a-reference", s.deleteRef},
		{"GET /repos/{owner}/{repo}/git/trees/{sha...}", "git/trees#get-a-tree", s.getTree},
		{"POST /repos/{owner}/{repo}/git/trees", "git/trees#create-a-tree", s.createTree},
		{"GET /repos/{owner}/{repo}/git/blobs/{sha}", "git/blobs#get-a-blob", s.getBlob},
		{"POST /repos/{owner}/{repo}/git/blobs", "git/blobs#create-a-blob", s.createBlob},
		{"GET /repos/{owner}/{repo}/commits", "commits/commits#list-commits", s.listCommits},
		{"GET /repos/{owner}/{repo}/git/commits/{sha}", "git/commits#get-a-commit-object", s.getGitCommit},
		{"POST /repos/{owner}/{repo}/git/commits", "git/commits#create-a-commit", s.createCommit},
		{"GET /repos/{owner}/{repo}/pulls", "pulls/pulls#list-pull-requests", s.listPulls},
		{"POST /repos/{owner}/{repo}/pulls", "pulls/pulls#create-a-pull-request", s.createPull},
		{"GET /repos/{owner}/{repo}/pulls/{number}", "pulls/pulls#get-a-pull-request", s.getPull},
	} {
		s.handle(mux, rt.pattern, s.inRepo(docREST+"/"+rt.doc, rt.h))
	}
	s.handle(mux, "GET /orgs/{org}/repos", s.listRepos(Organization, docREST+"/repos/repos#list-organization-repositories"))
	s.handle(mux, "GET /users/{user}/repos", s.listRepos(User, docREST+"/repos/repos#list-repositories-for-a-user"))
	s.handle(mux, "POST /graphql", s.graphql)
	s.appRoutes(mux)
	s.oauthRoutes(mux)
	s.createRoutes(mux)
}

// A repoHandler answers a request about the repository rp, with s.mu held;
// doc is the documentation URL of the route, for GitHub's error bodies.
type repoHandler func(w http.ResponseWriter, r *http.Request, rp *repo, doc string)

// inRepo answers a request about the repository of the request's path with
// h, or 404 with GitHub's documentation URL doc when it does not exist or
// the caller may not see it.
func (s *Server) inRepo(doc string, h repoHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if rp := s.visibleRepo(r); rp != nil {
			h(w, r, rp, doc)
			return
		}
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
	}
}

// visibleRepo returns the repository named by the request's path, or nil
// when it does not exist or the caller may not see it (GitHub answers 404
// for both). The caller holds s.mu.
func (s *Server) visibleRepo(r *http.Request) *repo {
	rp := s.repos[key(r.PathValue("owner"), r.PathValue("repo"))]
	if rp == nil || !canSee(r, rp) {
		return nil
	}
	return rp
}

// canSee reports whether the request's credential may see rp: public
// repositories are visible to everyone; private ones to authenticated
// requests, and, with an installation token, only when the installation
// (and the token) covers them. The caller holds s.mu.
func canSee(r *http.Request, rp *repo) bool {
	c := callerOf(r)
	return !rp.private || (c.authed && (c.token == nil || c.token.covers(rp)))
}

// has reports whether rp holds the object id of type typ ("blob", "tree"
// or "commit").
func (rp *repo) has(id, typ string) bool {
	o := rp.objs[id]
	return o != nil && o.Type == typ
}

// ---- JSON shapes (field names and order from GitHub's examples) ----

func (s *Server) ownerJSON(r *http.Request, o *owner) map[string]any {
	api := apiURL(r)
	kind := "users"
	if o.typ == Organization {
		kind = "orgs"
	}
	return map[string]any{
		"login": o.login, "id": o.id, "node_id": nodeID("U", o.id), "avatar_url": "https://avatars.githubusercontent.com/u/" + strconv.FormatInt(o.id, 10) + "?v=4",
		"gravatar_id": "", "url": api + "/users/" + o.login, "html_url": "http://" + r.Host + "/" + o.login,
		"repos_url": api + "/" + kind + "/" + o.login + "/repos", "type": string(o.typ), "site_admin": false,
	}
}

func nodeID(prefix string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(prefix + strconv.FormatInt(id, 10)))
}

// repoURLs returns the API and the web URL of rp, as the client sees them.
func repoURLs(r *http.Request, rp *repo) (api, web string) {
	return apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name, "http://" + r.Host + "/" + rp.owner.login + "/" + rp.name
}

func (s *Server) repoJSON(r *http.Request, rp *repo) map[string]any {
	api, web := repoURLs(r, rp)
	vis := "public"
	if rp.private {
		vis = "private"
	}
	pushed := rp.created
	if id, ok := rp.refs["refs/heads/"+rp.defaultBranch]; ok {
		pushed = rp.objs[id].Commit.Committer.When
	}
	return map[string]any{
		"id": rp.id, "node_id": nodeID("R", rp.id), "name": rp.name, "full_name": rp.owner.login + "/" + rp.name,
		"private": rp.private, "owner": s.ownerJSON(r, rp.owner), "html_url": web, "description": rp.description,
		"fork": rp.fork, "url": api, "archive_url": api + "/{archive_format}{/ref}", "trees_url": api + "/git/trees{/sha}",
		"pulls_url": api + "/pulls{/number}", "contents_url": api + "/contents/{+path}",
		"git_url": "git://" + r.Host + "/" + rp.owner.login + "/" + rp.name + ".git",
		"ssh_url": "git@" + r.Host + ":" + rp.owner.login + "/" + rp.name + ".git", "clone_url": web + ".git",
		"size": 1, "default_branch": rp.defaultBranch, "archived": rp.archived, "disabled": false,
		"visibility": vis, "pushed_at": ts(pushed), "created_at": ts(rp.created), "updated_at": ts(pushed),
	}
}

func (s *Server) gitCommitJSON(r *http.Request, rp *repo, id string) map[string]any {
	api, web := repoURLs(r, rp)
	c := rp.objs[id].Commit
	parents := make([]any, 0, len(c.Parents))
	for _, p := range c.Parents {
		parents = append(parents, map[string]any{"sha": p, "url": api + "/git/commits/" + p, "html_url": web + "/commit/" + p})
	}
	sig := func(sg gitobj.Signature) map[string]any {
		return map[string]any{"name": sg.Name, "email": sg.Email, "date": ts(sg.When)}
	}
	return map[string]any{
		"sha": id, "node_id": nodeID("C", int64(len(id))), "url": api + "/git/commits/" + id, "html_url": web + "/commit/" + id,
		"author": sig(c.Author), "committer": sig(c.Committer),
		"tree":    map[string]any{"sha": c.Tree, "url": api + "/git/trees/" + c.Tree},
		"message": c.Message, "parents": parents,
		"verification": map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil},
	}
}

// commitJSON is the REST commit object (of a branch, of the commit
// listing) wrapping the git commit; the author and committer accounts are
// unknown (null), as for commits by e-mail addresses GitHub cannot match.
func (s *Server) commitJSON(r *http.Request, rp *repo, id string) map[string]any {
	api, web := repoURLs(r, rp)
	gc := s.gitCommitJSON(r, rp, id)
	return map[string]any{
		"sha": id, "node_id": gc["node_id"], "url": api + "/commits/" + id, "html_url": web + "/commit/" + id,
		"comments_url": api + "/commits/" + id + "/comments", "parents": gc["parents"], "author": nil, "committer": nil,
		"commit": map[string]any{"author": gc["author"], "committer": gc["committer"], "message": gc["message"],
			"tree": gc["tree"], "url": gc["url"], "comment_count": 0, "verification": gc["verification"]},
	}
}

func (s *Server) refJSON(r *http.Request, rp *repo, ref, id string) map[string]any {
	api, _ := repoURLs(r, rp)
	return map[string]any{
		"ref": ref, "node_id": base64.StdEncoding.EncodeToString([]byte("REF_" + ref)),
		"url":    api + "/git/" + httpx.EscapePath(ref),
		"object": map[string]any{"sha": id, "type": "commit", "url": api + "/git/commits/" + id},
	}
}

func (s *Server) pullJSON(r *http.Request, rp *repo, p *pull) map[string]any {
	api, web := repoURLs(r, rp)
	n := strconv.Itoa(p.Number)
	user := map[string]any{"login": p.user, "id": 1, "type": "User", "site_admin": false}
	side := func(branch string) map[string]any {
		repo := s.repoJSON(r, rp)
		delete(repo, "visibility") // not in GitHub's example of a pull request's repo
		return map[string]any{"label": rp.owner.login + ":" + branch, "ref": branch, "sha": rp.refs["refs/heads/"+branch],
			"user": s.ownerJSON(r, rp.owner), "repo": repo}
	}
	var closedAt any
	if p.State == "closed" {
		closedAt = ts(p.created)
	}
	return map[string]any{
		"url": api + "/pulls/" + n, "id": p.id, "node_id": nodeID("PR_", p.id), "html_url": web + "/pull/" + n,
		"diff_url": web + "/pull/" + n + ".diff", "patch_url": web + "/pull/" + n + ".patch",
		"issue_url": api + "/issues/" + n, "number": p.Number, "state": p.State, "locked": false,
		"title": p.Title, "user": user, "body": p.Body, "created_at": ts(p.created), "updated_at": ts(p.created),
		"closed_at": closedAt, "merged_at": nil, "merge_commit_sha": nil, "draft": p.Draft,
		"head": side(p.Head), "base": side(p.Base), "author_association": "OWNER",
	}
}

// ---- repos ----

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request, rp *repo, _ string) {
	s.writeJSON(w, r, http.StatusOK, s.repoJSON(r, rp))
}

func (s *Server) listRepos(typ OwnerType, doc string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		o := s.owners[strings.ToLower(r.PathValue("org")+r.PathValue("user"))]
		// /users/{u}/repos answers for organizations too; /orgs/{o}/repos
		// only for organizations.
		if o == nil || (typ == Organization && o.typ != Organization) {
			s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
			return
		}
		list := slices.DeleteFunc(slices.Clone(o.repos), func(rp *repo) bool { return !canSee(r, rp) })
		s.writeListing(w, r, pageJSON(w, r, list, func(rp *repo) any { return s.repoJSON(r, rp) }))
	}
}

// ---- contents ----

// rawMediaType reports whether an Accept header asks for the raw media
// type, and which one to echo in Content-Type.
func rawMediaType(accept string) (string, bool) {
	for _, a := range strings.Split(accept, ",") {
		a, _, _ = strings.Cut(strings.TrimSpace(a), ";")
		switch a {
		case "application/vnd.github.raw", "application/vnd.github.v3.raw", "application/vnd.github.raw+json":
			return a, true
		}
	}
	return "", false
}

func (s *Server) contentEntryJSON(r *http.Request, rp *repo, ref, p string, e gitobj.TreeEntry) map[string]any {
	api, web := repoURLs(r, rp)
	typ, size, gitURL, htmlKind := "file", 0, api+"/git/blobs/"+e.SHA, "blob"
	var download any
	switch e.Mode {
	case gitobj.ModeTree:
		typ, gitURL, htmlKind = "dir", api+"/git/trees/"+e.SHA, "tree"
	case gitobj.ModeSymlink:
		typ = "symlink"
	case gitobj.ModeCommit:
		typ = "file" // GitHub lists submodules as "file" in directories
	}
	if rp.has(e.SHA, "blob") {
		size = len(rp.objs[e.SHA].Blob)
		download = "http://" + r.Host + "/raw/" + rp.owner.login + "/" + rp.name + "/" + httpx.EscapePath(ref) + "/" + httpx.EscapePath(p)
	}
	self := api + "/contents/" + httpx.EscapePath(p) + "?ref=" + ref
	html := web + "/" + htmlKind + "/" + httpx.EscapePath(ref) + "/" + httpx.EscapePath(p)
	return map[string]any{
		"name": path.Base(p), "path": p, "sha": e.SHA, "size": size, "url": self, "html_url": html, "git_url": gitURL,
		"download_url": download, "type": typ, "_links": map[string]any{"self": self, "git": gitURL, "html": html},
	}
}

// base64Lines encodes b as GitHub does in contents and blobs: base64 with
// a newline every 60 characters.
func base64Lines(b []byte) string {
	var sb strings.Builder
	for enc := base64.StdEncoding.EncodeToString(b); ; enc = enc[60:] {
		if len(enc) <= 60 {
			sb.WriteString(enc + "\n")
			return sb.String()
		}
		sb.WriteString(enc[:60] + "\n")
	}
}

func (s *Server) getContents(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	p := strings.Trim(r.PathValue("path"), "/")
	if len(rp.refs) == 0 {
		s.writeError(w, r, http.StatusNotFound, "This repository is empty.", doc)
		return
	}
	ref := r.URL.Query().Get("ref")
	id, ok := rp.resolve(ref)
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "No commit found for the ref "+ref, doc)
		return
	}
	if ref == "" {
		ref = rp.defaultBranch
	}
	c := rp.objs[id].Commit
	e, ok := rp.objs.Lookup(c.Tree, p)
	if !ok || !cleanRel(p) {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	w.Header().Set("Last-Modified", c.Committer.When.Format(http.TimeFormat))
	// A symlink to a file in the repository answers with that file.
	if e.Mode == gitobj.ModeSymlink {
		target := path.Join(path.Dir(p), string(rp.objs[e.SHA].Blob))
		if t, ok := rp.objs.Lookup(c.Tree, target); ok && cleanRel(target) && (t.Mode == gitobj.ModeFile || t.Mode == gitobj.ModeExec) {
			e = t
		}
	}
	media, raw := rawMediaType(r.Header.Get("Accept"))
	j := s.contentEntryJSON(r, rp, ref, p, e)
	switch {
	case e.Mode == gitobj.ModeTree:
		s.writeJSON(w, r, http.StatusOK, listJSON(rp.objs[e.SHA].Tree, func(child gitobj.TreeEntry) any {
			return s.contentEntryJSON(r, rp, ref, path.Join(p, child.Name), child)
		}))
		return
	case e.Mode == gitobj.ModeCommit:
		j["type"], j["submodule_git_url"] = "submodule", "git://example.invalid/submodule.git"
	case e.Mode == gitobj.ModeSymlink:
		j["target"] = string(rp.objs[e.SHA].Blob)
	case raw:
		etag := `"` + e.SHA + `"`
		if s.notModified(w, r, etag) {
			return
		}
		blob := rp.objs[e.SHA].Blob
		s.commonHeaders(w, r, true)
		setHeaders(w.Header(), "ETag", etag, "Cache-Control", "private, max-age=60, s-maxage=60",
			"Content-Type", media+"; charset=utf-8", "Content-Length", strconv.Itoa(len(blob)),
			"X-GitHub-Media-Type", "github.v3; param="+strings.TrimPrefix(strings.TrimPrefix(media, "application/vnd.github."), "v3."))
		w.WriteHeader(http.StatusOK)
		w.Write(blob)
		return
	default:
		j["type"], j["content"], j["encoding"] = "file", base64Lines(rp.objs[e.SHA].Blob), "base64"
	}
	s.writeJSON(w, r, http.StatusOK, j)
}

// ---- tarball ----

func (s *Server) getTarball(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	ref := r.PathValue("ref")
	id, ok := rp.resolve(ref)
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	// Name the ref as GitHub's redirect does: branches as refs/heads/X,
	// commit ids as they are.
	refPath, name := id, ref
	if ref == "" || ref == "HEAD" {
		name = rp.defaultBranch
	}
	if full, _, ok := rp.fullRef(name); ok {
		refPath = full
	}
	loc := s.download.URL + "/" + httpx.EscapePath(rp.owner.login+"/"+rp.name) + "/legacy.tar.gz/" + httpx.EscapePath(refPath)
	if rp.private {
		tok := strings.ReplaceAll(strings.ToUpper(requestID()), ":", "")
		s.downloadToken[tok] = key(rp.owner.login, rp.name)
		loc += "?token=" + tok
	}
	s.commonHeaders(w, r, true)
	setHeaders(w.Header(), "Content-Type", "text/html;charset=utf-8", "Cache-Control", "public, must-revalidate, max-age=0",
		"Location", loc, "Content-Length", "0")
	w.WriteHeader(http.StatusFound)
}

// ---- branches and refs ----

func (s *Server) getBranch(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	name := r.PathValue("branch")
	id, ok := rp.refs["refs/heads/"+name]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "Branch not found", doc)
		return
	}
	api, web := repoURLs(r, rp)
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"name": name, "commit": s.commitJSON(r, rp, id),
		"_links":    map[string]any{"self": api + "/branches/" + httpx.EscapePath(name), "html": web + "/tree/" + httpx.EscapePath(name)},
		"protected": false, "protection_url": api + "/branches/" + httpx.EscapePath(name) + "/protection",
	})
}

func (s *Server) getRef(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	ref := "refs/" + r.PathValue("ref")
	id, ok := rp.refs[ref]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.refJSON(r, rp, ref, id))
}

func (s *Server) createRef(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	var body struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !s.decode(w, r, &body, doc) {
		return
	}
	_, exists := rp.refs[body.Ref]
	switch {
	case len(rp.refs) == 0:
		s.writeError(w, r, http.StatusConflict, "Git Repository is empty.", doc)
	case !validRefName(body.Ref):
		s.unprocessable(w, r, "Reference name must start with 'refs/' and have at least two slashes.", doc)
	case !rp.has(body.SHA, "commit"):
		s.unprocessable(w, r, "Object does not exist", doc)
	case exists:
		s.unprocessable(w, r, "Reference already exists", doc)
	default:
		rp.refs[body.Ref] = body.SHA
		j := s.refJSON(r, rp, body.Ref, body.SHA)
		w.Header().Set("Location", j["url"].(string))
		s.writeJSON(w, r, http.StatusCreated, j)
	}
}

// validRefName reports whether GitHub takes name for a new ref: a full ref
// name with at least two slashes and no empty, "." or ".." element (a ref
// is no tree path: "refs/heads/git~1" is a fine branch).
func validRefName(name string) bool {
	return strings.HasPrefix(name, "refs/") && strings.Count(name, "/") >= 2 && fs.ValidPath(name)
}

func (s *Server) updateRef(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	var body struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !s.decode(w, r, &body, doc) {
		return
	}
	ref := "refs/" + r.PathValue("ref")
	old, ok := rp.refs[ref]
	switch {
	case !ok:
		s.unprocessable(w, r, "Reference does not exist", doc)
	case !rp.has(body.SHA, "commit"):
		s.unprocessable(w, r, "Object does not exist", doc)
	case !body.Force && !rp.objs.IsAncestor(old, body.SHA):
		s.unprocessable(w, r, "Update is not a fast forward", doc)
	default:
		rp.refs[ref] = body.SHA
		s.writeJSON(w, r, http.StatusOK, s.refJSON(r, rp, ref, body.SHA))
	}
}

func (s *Server) deleteRef(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	ref := "refs/" + r.PathValue("ref")
	if _, ok := rp.refs[ref]; !ok {
		s.unprocessable(w, r, "Reference does not exist", doc)
		return
	}
	delete(rp.refs, ref)
	s.commonHeaders(w, r, true)
	w.WriteHeader(http.StatusNoContent)
}

// ---- trees ----

func (s *Server) treeEntryJSON(r *http.Request, rp *repo, p string, e gitobj.TreeEntry) map[string]any {
	api, _ := repoURLs(r, rp)
	j := map[string]any{"path": p, "mode": e.Mode, "sha": e.SHA}
	switch e.Mode {
	case gitobj.ModeTree:
		j["type"], j["url"] = "tree", api+"/git/trees/"+e.SHA
	case gitobj.ModeCommit:
		j["type"] = "commit"
	default:
		j["type"], j["url"] = "blob", api+"/git/blobs/"+e.SHA
		if o := rp.objs[e.SHA]; o != nil {
			j["size"] = len(o.Blob)
		}
	}
	return j
}

// treeJSON is the answer for the tree id: its entries, or with recursive
// every entry below it, up to limit entries when limit > 0.
func (s *Server) treeJSON(r *http.Request, rp *repo, id string, recursive bool, limit int) map[string]any {
	entries, truncated := []any{}, false
	add := func(p string, e gitobj.TreeEntry) {
		if limit > 0 && len(entries) >= limit {
			truncated = true
			return
		}
		entries = append(entries, s.treeEntryJSON(r, rp, p, e))
	}
	if recursive {
		rp.objs.Walk(id, "", add)
	} else {
		for _, e := range rp.objs[id].Tree {
			add(e.Name, e)
		}
	}
	api, _ := repoURLs(r, rp)
	return map[string]any{"sha": id, "url": api + "/git/trees/" + id, "tree": entries, "truncated": truncated}
}

func (s *Server) getTree(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	if len(rp.refs) == 0 {
		s.writeError(w, r, http.StatusConflict, "Git Repository is empty.", doc)
		return
	}
	id := r.PathValue("sha")
	if !rp.has(id, "tree") {
		c, ok := rp.resolve(id)
		if !ok {
			s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
			return
		}
		id = rp.objs[c].Commit.Tree
	}
	s.writeJSON(w, r, http.StatusOK, s.treeJSON(r, rp, id, r.URL.Query().Has("recursive"), s.opts.TreeLimit))
}

// treeEntryIn is an entry of a POST git/trees body.
type treeEntryIn struct {
	Path    string          `json:"path"`
	Mode    string          `json:"mode"`
	Type    string          `json:"type"`
	SHA     json.RawMessage `json:"sha"`
	Content *string         `json:"content"`
}

func (s *Server) createTree(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	var body struct {
		BaseTree string        `json:"base_tree"`
		Tree     []treeEntryIn `json:"tree"`
	}
	if !s.decode(w, r, &body, doc) {
		return
	}
	files := map[string]gitobj.FlatEntry{}
	if body.BaseTree != "" {
		if !rp.has(body.BaseTree, "tree") {
			s.unprocessable(w, r, "Invalid tree info", doc)
			return
		}
		files = rp.objs.Flatten(body.BaseTree)
	}
	for i, e := range body.Tree {
		if msg := rp.changeTree(files, e); msg != "" {
			s.unprocessable(w, r, "tree."+strconv.Itoa(i)+": "+msg, doc)
			return
		}
	}
	j := s.treeJSON(r, rp, rp.objs.WriteFlat(files), false, 0)
	w.Header().Set("Location", j["url"].(string))
	s.writeJSON(w, r, http.StatusCreated, j)
}

// changeTree applies one entry of a POST git/trees body to files, or
// returns GitHub's message for what is wrong with it.
func (rp *repo) changeTree(files map[string]gitobj.FlatEntry, e treeEntryIn) string {
	var sha string
	null := string(e.SHA) == "null"
	switch {
	case !validTreePath(e.Path):
		return "tree.path contains a malformed path component"
	case !slices.Contains([]string{gitobj.ModeFile, gitobj.ModeExec, gitobj.ModeSymlink, gitobj.ModeTree, gitobj.ModeCommit}, e.Mode):
		return "tree.mode is not a valid mode"
	case len(e.SHA) > 0 && !null && json.Unmarshal(e.SHA, &sha) != nil:
		return "tree.sha is not a string"
	case sha != "" && e.Content != nil:
		return "tree.sha and tree.content cannot both be set"
	case e.Content != nil && (e.Mode == gitobj.ModeTree || e.Mode == gitobj.ModeCommit):
		return "tree.content requires a blob mode"
	case e.Content != nil:
		sha = rp.objs.PutBlob([]byte(*e.Content))
	case null:
		if !removePath(files, e.Path) {
			return "tree.path " + strconv.Quote(e.Path) + " does not exist"
		}
		return ""
	case sha == "":
		return "Must supply either tree.sha or tree.content"
	case e.Mode == gitobj.ModeTree && !rp.has(sha, "tree"):
		return "tree.sha " + sha + " is not a valid tree"
	case e.Mode != gitobj.ModeTree && e.Mode != gitobj.ModeCommit && !rp.has(sha, "blob"):
		return "tree.sha " + sha + " is not a valid blob"
	}
	clearPath(files, e.Path)
	if e.Mode != gitobj.ModeTree {
		files[e.Path] = gitobj.FlatEntry{Mode: e.Mode, SHA: sha}
		return ""
	}
	for q, fe := range rp.objs.Flatten(sha) {
		files[e.Path+"/"+q] = fe
	}
	return ""
}

// removePath removes the file or the directory at p from the flat file
// set files, and reports whether there was one.
func removePath(files map[string]gitobj.FlatEntry, p string) bool {
	n := len(files)
	delete(files, p)
	maps.DeleteFunc(files, func(q string, _ gitobj.FlatEntry) bool { return strings.HasPrefix(q, p+"/") })
	return len(files) < n
}

// clearPath makes room in files for an entry at p: it removes what is at
// p and the files where p's parent directories go.
func clearPath(files map[string]gitobj.FlatEntry, p string) {
	removePath(files, p)
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		delete(files, d)
	}
}

// ---- blobs and commits ----

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	id := r.PathValue("sha")
	if !rp.has(id, "blob") {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	api, _ := repoURLs(r, rp)
	blob := rp.objs[id].Blob
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"sha": id, "node_id": base64.StdEncoding.EncodeToString([]byte("B_" + id)), "size": len(blob),
		"url": api + "/git/blobs/" + id, "content": base64Lines(blob), "encoding": "base64",
	})
}

func (s *Server) createBlob(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	var body struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if !s.decode(w, r, &body, doc) {
		return
	}
	bad := func(field, code string) {
		s.validation(w, r, doc, map[string]any{"resource": "Blob", "field": field, "code": code})
	}
	if body.Content == nil {
		bad("content", "missing_field")
		return
	}
	data, ok := []byte(*body.Content), true
	switch body.Encoding {
	case "", "utf-8":
		ok = utf8.Valid(data)
	case "base64":
		var err error
		data, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(*body.Content, "\n", ""))
		ok = err == nil
	default:
		bad("encoding", "invalid")
		return
	}
	if !ok {
		bad("content", "invalid")
		return
	}
	id := rp.objs.PutBlob(data)
	api, _ := repoURLs(r, rp)
	w.Header().Set("Location", api+"/git/blobs/"+id)
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"url": api + "/git/blobs/" + id, "sha": id})
}

func (s *Server) getGitCommit(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	if !rp.has(r.PathValue("sha"), "commit") {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.gitCommitJSON(r, rp, r.PathValue("sha")))
}

func (s *Server) createCommit(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	var body struct {
		Message *string  `json:"message"`
		Tree    string   `json:"tree"`
		Parents []string `json:"parents"`
		Author  *struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"author"`
	}
	if !s.decode(w, r, &body, doc) {
		return
	}
	switch {
	case body.Message == nil:
		s.validation(w, r, doc, map[string]any{"resource": "Commit", "field": "message", "code": "missing_field"})
		return
	case !rp.has(body.Tree, "tree"):
		s.unprocessable(w, r, "Tree SHA does not exist", doc)
		return
	case slices.ContainsFunc(body.Parents, func(p string) bool { return !rp.has(p, "commit") }):
		s.unprocessable(w, r, "Parent SHA does not exist or is not a commit object", doc)
		return
	}
	sg := s.signature(r)
	author := sg
	if body.Author != nil && body.Author.Name != "" {
		author.Name, author.Email = body.Author.Name, body.Author.Email
	}
	id := rp.objs.PutCommit(&gitobj.Commit{Tree: body.Tree, Parents: slices.Clone(body.Parents), Message: *body.Message,
		Author: author, Committer: sg})
	j := s.gitCommitJSON(r, rp, id)
	w.Header().Set("Location", j["url"].(string))
	s.writeJSON(w, r, http.StatusCreated, j)
}

// signature is the caller's, as the author and committer of the commits
// it makes, dated now.
func (s *Server) signature(r *http.Request) gitobj.Signature {
	return gitobj.Signature{Name: s.actor(r), Email: s.actor(r) + "@users.noreply.github.com", When: s.now()}
}

// ---- pulls ----

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	q := r.URL.Query()
	state, head, base := cmp.Or(q.Get("state"), "open"), q.Get("head"), q.Get("base")
	headOwner, headBranch, hasOwner := strings.Cut(head, ":")
	if !hasOwner {
		headOwner, headBranch = "", head
	}
	var list []*pull
	for _, p := range slices.Backward(rp.pulls) { // newest first
		if (state == "all" || p.State == state) && (base == "" || p.Base == base) &&
			(head == "" || p.Head == headBranch && (headOwner == "" || strings.EqualFold(headOwner, rp.owner.login))) {
			list = append(list, p)
		}
	}
	s.writeJSON(w, r, http.StatusOK, pageJSON(w, r, list, func(p *pull) any { return s.pullJSON(r, rp, p) }))
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	// Pull requests are numbered from 1 in creation order.
	if n, _ := strconv.Atoi(r.PathValue("number")); n >= 1 && n <= len(rp.pulls) {
		s.writeJSON(w, r, http.StatusOK, s.pullJSON(r, rp, rp.pulls[n-1]))
		return
	}
	s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	var body Pull // title, head, base, body and draft, by their field names
	if !s.decode(w, r, &body, doc) {
		return
	}
	if body.Title == "" {
		s.validation(w, r, doc, map[string]any{"resource": "PullRequest", "field": "title", "code": "missing_field"})
		return
	}
	p, field, msg := s.openPull(r, rp, body)
	switch {
	case field != "":
		s.validation(w, r, doc, map[string]any{"resource": "PullRequest", "field": field, "code": "invalid"})
	case p == nil:
		s.validation(w, r, doc, map[string]any{"resource": "PullRequest", "code": "custom", "message": msg})
	default:
		j := s.pullJSON(r, rp, p)
		w.Header().Set("Location", j["url"].(string))
		s.writeJSON(w, r, http.StatusCreated, j)
	}
}

// openPull opens the pull request p (from p.Head, a branch or
// "owner:branch", to p.Base) in rp, by the caller, with GitHub's checks.
// When one fails it returns no pull request, the field at fault ("" for
// the checks of the whole request) and GitHub's GraphQL message for it.
// The caller holds s.mu.
func (s *Server) openPull(r *http.Request, rp *repo, p Pull) (_ *pull, field, msg string) {
	if o, b, ok := strings.Cut(p.Head, ":"); ok && strings.EqualFold(o, rp.owner.login) {
		p.Head = b // another owner's branch ("o:b") is no branch of rp
	}
	headID, headOK := rp.refs["refs/heads/"+p.Head]
	baseID, baseOK := rp.refs["refs/heads/"+p.Base]
	switch {
	case !headOK:
		return nil, "head", "Head sha can't be blank, Head ref must be a branch"
	case !baseOK:
		return nil, "base", "Base ref must be a branch"
	case p.Title == "":
		return nil, "title", "Title can't be blank"
	case slices.ContainsFunc(rp.pulls, func(x *pull) bool { return x.State == "open" && x.Head == p.Head && x.Base == p.Base }):
		return nil, "", "A pull request already exists for " + rp.owner.login + ":" + p.Head + "."
	case rp.objs.IsAncestor(headID, baseID):
		return nil, "", "No commits between " + p.Base + " and " + p.Head
	}
	p.Number, p.State, p.HeadSHA, p.URL = len(rp.pulls)+1, "open", "", ""
	x := &pull{Pull: p, id: s.newID(), created: s.now(), user: s.actor(r)}
	rp.pulls = append(rp.pulls, x)
	return x, "", ""
}
