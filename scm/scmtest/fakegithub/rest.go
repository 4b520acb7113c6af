package fakegithub

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

// Documentation URLs GitHub puts in error bodies.
const (
	docContents   = "https://docs.github.com/rest/repos/contents#get-repository-content"
	docRepo       = "https://docs.github.com/rest/repos/repos#get-a-repository"
	docTarball    = "https://docs.github.com/rest/repos/contents#download-a-repository-archive-tar"
	docBranch     = "https://docs.github.com/rest/branches/branches#get-a-branch"
	docGetRef     = "https://docs.github.com/rest/git/refs#get-a-reference"
	docCreateRef  = "https://docs.github.com/rest/git/refs#create-a-reference"
	docUpdateRef  = "https://docs.github.com/rest/git/refs#update-a-reference"
	docDeleteRef  = "https://docs.github.com/rest/git/refs#delete-a-reference"
	docGetTree    = "https://docs.github.com/rest/git/trees#get-a-tree"
	docCreateTree = "https://docs.github.com/rest/git/trees#create-a-tree"
	docGetBlob    = "https://docs.github.com/rest/git/blobs#get-a-blob"
	docCreateBlob = "https://docs.github.com/rest/git/blobs#create-a-blob"
	docGetCommit  = "https://docs.github.com/rest/git/commits#get-a-commit-object"
	docCommit     = "https://docs.github.com/rest/git/commits#create-a-commit"
	docCreatePull = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
	docGetPull    = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"
	docOrgRepos   = "https://docs.github.com/rest/repos/repos#list-organization-repositories"
	docUserRepos  = "https://docs.github.com/rest/repos/repos#list-repositories-for-a-user"
	docEmptyRepo  = "https://docs.github.com/rest/git/refs#create-a-reference"
)

func (s *Server) routes(mux *http.ServeMux) {
	s.handle(mux, "GET /repos/{owner}/{repo}", s.inRepo(docRepo, s.getRepo))
	s.handle(mux, "GET /repos/{owner}/{repo}/contents", s.inRepo(docContents, s.getContents))
	s.handle(mux, "GET /repos/{owner}/{repo}/contents/{path...}", s.inRepo(docContents, s.getContents))
	s.handle(mux, "GET /repos/{owner}/{repo}/tarball", s.inRepo(docTarball, s.getTarball))
	s.handle(mux, "GET /repos/{owner}/{repo}/tarball/{ref...}", s.inRepo(docTarball, s.getTarball))
	s.handle(mux, "GET /repos/{owner}/{repo}/branches/{branch...}", s.inRepo(docBranch, s.getBranch))
	s.handle(mux, "GET /repos/{owner}/{repo}/git/ref/{ref...}", s.inRepo(docGetRef, s.getRef))
	s.handle(mux, "POST /repos/{owner}/{repo}/git/refs", s.inRepo(docCreateRef, s.createRef))
	s.handle(mux, "PATCH /repos/{owner}/{repo}/git/refs/{ref...}", s.inRepo(docUpdateRef, s.updateRef))
	s.handle(mux, "DELETE /repos/{owner}/{repo}/git/refs/{ref...}", s.inRepo(docDeleteRef, s.deleteRef))
	s.handle(mux, "GET /repos/{owner}/{repo}/git/trees/{sha...}", s.inRepo(docGetTree, s.getTree))
	s.handle(mux, "POST /repos/{owner}/{repo}/git/trees", s.inRepo(docCreateTree, s.createTree))
	s.handle(mux, "GET /repos/{owner}/{repo}/git/blobs/{sha}", s.inRepo(docGetBlob, s.getBlob))
	s.handle(mux, "POST /repos/{owner}/{repo}/git/blobs", s.inRepo(docCreateBlob, s.createBlob))
	s.handle(mux, "GET /repos/{owner}/{repo}/commits", s.inRepo(docListCommits, s.listCommits)) // commits.go
	s.handle(mux, "GET /repos/{owner}/{repo}/git/commits/{sha}", s.getGitCommit)
	s.handle(mux, "POST /repos/{owner}/{repo}/git/commits", s.inRepo(docCommit, s.createCommit))
	s.handle(mux, "GET /repos/{owner}/{repo}/pulls", s.inRepo("https://docs.github.com/rest/pulls/pulls#list-pull-requests", s.listPulls))
	s.handle(mux, "POST /repos/{owner}/{repo}/pulls", s.inRepo(docCreatePull, s.createPull))
	s.handle(mux, "GET /repos/{owner}/{repo}/pulls/{number}", s.getPull)
	s.handle(mux, "GET /orgs/{org}", s.getOwner(Organization))
	s.handle(mux, "GET /users/{user}", s.getOwner(User))
	s.handle(mux, "GET /orgs/{org}/repos", s.listRepos(Organization))
	s.handle(mux, "GET /users/{user}/repos", s.listRepos(User))
	s.handle(mux, "POST /graphql", s.graphql)
	s.appRoutes(mux)
	s.oauthRoutes(mux)
	s.createRoutes(mux)
}

// inRepo answers a request about the repository of the request's path with
// h, s.mu held, or 404 with GitHub's documentation URL doc when it does not
// exist or the caller may not see it.
func (s *Server) inRepo(doc string, h func(w http.ResponseWriter, r *http.Request, rp *repo)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if rp := s.visibleRepo(r); rp != nil {
			h(w, r, rp)
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
	if !rp.private {
		return true
	}
	if !authenticated(r) {
		return false
	}
	if it := tokenOf(r); it != nil {
		return it.covers(rp)
	}
	return true
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

func (s *Server) repoJSON(r *http.Request, rp *repo) map[string]any {
	api := apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name
	web := "http://" + r.Host + "/" + rp.owner.login + "/" + rp.name
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
	api := apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name
	web := "http://" + r.Host + "/" + rp.owner.login + "/" + rp.name
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

func (s *Server) refJSON(r *http.Request, rp *repo, ref, id string) map[string]any {
	api := apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name
	return map[string]any{
		"ref": ref, "node_id": base64.StdEncoding.EncodeToString([]byte("REF_" + ref)),
		"url":    api + "/git/" + httpx.EscapePath(ref),
		"object": map[string]any{"sha": id, "type": "commit", "url": api + "/git/commits/" + id},
	}
}

func (s *Server) pullJSON(r *http.Request, rp *repo, p *pull) map[string]any {
	api := apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name
	web := "http://" + r.Host + "/" + rp.owner.login + "/" + rp.name
	n := strconv.Itoa(p.number)
	user := map[string]any{"login": p.user, "id": 1, "type": "User", "site_admin": false}
	side := func(branch string) map[string]any {
		repo := s.repoJSON(r, rp)
		delete(repo, "visibility") // not in GitHub's example of a pull request's repo
		return map[string]any{"label": rp.owner.login + ":" + branch, "ref": branch, "sha": rp.refs["refs/heads/"+branch],
			"user": s.ownerJSON(r, rp.owner), "repo": repo}
	}
	var closedAt any
	if p.state == "closed" {
		closedAt = ts(p.created)
	}
	return map[string]any{
		"url": api + "/pulls/" + n, "id": p.id, "node_id": nodeID("PR_", p.id), "html_url": web + "/pull/" + n,
		"diff_url": web + "/pull/" + n + ".diff", "patch_url": web + "/pull/" + n + ".patch",
		"issue_url": api + "/issues/" + n, "number": p.number, "state": p.state, "locked": false,
		"title": p.title, "user": user, "body": p.body, "created_at": ts(p.created), "updated_at": ts(p.created),
		"closed_at": closedAt, "merged_at": nil, "merge_commit_sha": nil, "draft": p.draft,
		"head": side(p.head), "base": side(p.base), "author_association": "OWNER",
	}
}

// ---- repos ----

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request, rp *repo) {
	s.writeJSON(w, r, http.StatusOK, s.repoJSON(r, rp))
}

func (s *Server) getOwner(typ OwnerType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		login := r.PathValue("org") + r.PathValue("user")
		o := s.owners[strings.ToLower(login)]
		// /users/{u} answers for organizations too; /orgs/{o} only for
		// organizations.
		if o == nil || (typ == Organization && o.typ != Organization) {
			s.writeError(w, r, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
			return
		}
		s.writeJSON(w, r, http.StatusOK, s.ownerJSON(r, o))
	}
}

func (s *Server) listRepos(typ OwnerType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		login := r.PathValue("org") + r.PathValue("user")
		o := s.owners[strings.ToLower(login)]
		doc := docOrgRepos
		if typ == User {
			doc = docUserRepos
		}
		if o == nil || (typ == Organization && o.typ != Organization) {
			s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
			return
		}
		var list []*repo
		for _, rp := range o.repos {
			if !canSee(r, rp) {
				continue
			}
			list = append(list, rp)
		}
		start, end := paginate(w, r, len(list))
		out := make([]any, 0, end-start)
		for _, rp := range list[start:end] {
			out = append(out, s.repoJSON(r, rp))
		}
		s.writeListing(w, r, out)
	}
}

// writeListing is writeJSON for a page of a listing. As GitHub's, its
// ETag is weak and depends on the credential asking (Vary: Accept,
// Authorization): a page re-validated with another token's ETag is sent
// again in full, and an unchanged page re-validated with the same token's
// is answered 304.
func (s *Server) writeListing(w http.ResponseWriter, r *http.Request, v any) {
	body := fake.Marshal(v)
	h := sha256.New()
	h.Write(body)
	h.Write([]byte("\x00" + r.Header.Get("Accept") + "\x00" + r.Header.Get("Authorization")))
	etag := `W/"` + hex.EncodeToString(h.Sum(nil)) + `"`
	if s.notModified(w, r, etag) {
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, max-age=60, s-maxage=60")
	w.Header().Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	s.commonHeaders(w, r, true)
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	fake.Write(w, r, http.StatusOK, "application/json; charset=utf-8", body)
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
	api := apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name
	web := "http://" + r.Host + "/" + rp.owner.login + "/" + rp.name
	typ, size := "file", 0
	var download any
	gitURL := api + "/git/blobs/" + e.SHA
	htmlKind := "blob"
	switch e.Mode {
	case gitobj.ModeTree:
		typ, gitURL, htmlKind = "dir", api+"/git/trees/"+e.SHA, "tree"
	case gitobj.ModeSymlink:
		typ = "symlink"
	case gitobj.ModeCommit:
		typ = "file" // GitHub lists submodules as "file" in directories
	}
	if o := rp.objs[e.SHA]; o != nil && o.Type == "blob" {
		size = len(o.Blob)
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
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60])
		sb.WriteByte('\n')
		enc = enc[60:]
	}
	sb.WriteString(enc)
	sb.WriteByte('\n')
	return sb.String()
}

func (s *Server) getContents(w http.ResponseWriter, r *http.Request, rp *repo) {
	p := strings.Trim(r.PathValue("path"), "/")
	if len(rp.refs) == 0 {
		s.writeError(w, r, http.StatusNotFound, "This repository is empty.", docContents)
		return
	}
	ref := r.URL.Query().Get("ref")
	id, ok := rp.resolve(ref)
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "No commit found for the ref "+ref, docContents)
		return
	}
	if ref == "" {
		ref = rp.defaultBranch
	}
	if !cleanRel(p) {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docContents)
		return
	}
	c := rp.objs[id].Commit
	e, ok := rp.objs.Lookup(c.Tree, p)
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docContents)
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
	switch {
	case e.Mode == gitobj.ModeTree:
		t := rp.objs[e.SHA]
		out := make([]any, 0, len(t.Tree))
		for _, child := range t.Tree {
			cp := child.Name
			if p != "" {
				cp = p + "/" + child.Name
			}
			out = append(out, s.contentEntryJSON(r, rp, ref, cp, child))
		}
		s.writeJSON(w, r, http.StatusOK, out)
	case e.Mode == gitobj.ModeCommit:
		j := s.contentEntryJSON(r, rp, ref, p, e)
		j["type"] = "submodule"
		j["submodule_git_url"] = "git://example.invalid/submodule.git"
		s.writeJSON(w, r, http.StatusOK, j)
	case e.Mode == gitobj.ModeSymlink:
		j := s.contentEntryJSON(r, rp, ref, p, e)
		j["target"] = string(rp.objs[e.SHA].Blob)
		s.writeJSON(w, r, http.StatusOK, j)
	case raw:
		etag := `"` + e.SHA + `"`
		if s.notModified(w, r, etag) {
			return
		}
		blob := rp.objs[e.SHA].Blob
		s.commonHeaders(w, r, true)
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
		h.Set("Content-Type", media+"; charset=utf-8")
		h.Set("X-GitHub-Media-Type", "github.v3; param="+strings.TrimPrefix(strings.TrimPrefix(media, "application/vnd.github."), "v3."))
		h.Set("Content-Length", strconv.Itoa(len(blob)))
		w.WriteHeader(http.StatusOK)
		w.Write(blob)
	default:
		j := s.contentEntryJSON(r, rp, ref, p, e)
		j["type"] = "file"
		j["content"] = base64Lines(rp.objs[e.SHA].Blob)
		j["encoding"] = "base64"
		s.writeJSON(w, r, http.StatusOK, j)
	}
}

// ---- tarball ----

func (s *Server) getTarball(w http.ResponseWriter, r *http.Request, rp *repo) {
	ref := r.PathValue("ref")
	id, ok := rp.resolve(ref)
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docTarball)
		return
	}
	// Name the ref as GitHub's redirect does: branches as refs/heads/X,
	// commit ids as they are.
	refPath := id
	switch {
	case ref == "" || ref == "HEAD":
		refPath = "refs/heads/" + rp.defaultBranch
	case strings.HasPrefix(ref, "refs/"):
		refPath = ref
	case rp.refs["refs/heads/"+ref] != "":
		refPath = "refs/heads/" + ref
	case rp.refs["refs/tags/"+ref] != "":
		refPath = "refs/tags/" + ref
	}
	loc := s.download.URL + "/" + httpx.EscapePath(rp.owner.login+"/"+rp.name) + "/legacy.tar.gz/" + httpx.EscapePath(refPath)
	if rp.private {
		tok := strings.ReplaceAll(strings.ToUpper(requestID()), ":", "")
		s.downloadToken[tok] = key(rp.owner.login, rp.name)
		loc += "?token=" + tok
	}
	s.commonHeaders(w, r, true)
	h := w.Header()
	h.Set("Content-Type", "text/html;charset=utf-8")
	h.Set("Cache-Control", "public, must-revalidate, max-age=0")
	h.Set("Location", loc)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusFound)
}

// ---- branches and refs ----

func (s *Server) getBranch(w http.ResponseWriter, r *http.Request, rp *repo) {
	name := r.PathValue("branch")
	id, ok := rp.refs["refs/heads/"+name]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "Branch not found", docBranch)
		return
	}
	api := apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name
	web := "http://" + r.Host + "/" + rp.owner.login + "/" + rp.name
	gc := s.gitCommitJSON(r, rp, id)
	commit := map[string]any{
		"sha": id, "node_id": gc["node_id"], "url": api + "/commits/" + id, "html_url": web + "/commit/" + id,
		"comments_url": api + "/commits/" + id + "/comments", "parents": gc["parents"],
		"commit": map[string]any{"author": gc["author"], "committer": gc["committer"], "message": gc["message"],
			"tree": gc["tree"], "url": gc["url"], "comment_count": 0, "verification": gc["verification"]},
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"name": name, "commit": commit,
		"_links":    map[string]any{"self": api + "/branches/" + httpx.EscapePath(name), "html": web + "/tree/" + httpx.EscapePath(name)},
		"protected": false, "protection_url": api + "/branches/" + httpx.EscapePath(name) + "/protection",
	})
}

func (s *Server) getRef(w http.ResponseWriter, r *http.Request, rp *repo) {
	ref := "refs/" + r.PathValue("ref")
	id, ok := rp.refs[ref]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docGetRef)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.refJSON(r, rp, ref, id))
}

func (s *Server) isCommit(rp *repo, id string) bool {
	o := rp.objs[id]
	return o != nil && o.Type == "commit"
}

func (s *Server) createRef(w http.ResponseWriter, r *http.Request, rp *repo) {
	var body struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !s.decode(w, r, &body, docCreateRef) {
		return
	}
	if len(rp.refs) == 0 {
		s.writeError(w, r, http.StatusConflict, "Git Repository is empty.", docEmptyRepo)
		return
	}
	if !strings.HasPrefix(body.Ref, "refs/") || strings.Count(body.Ref, "/") < 2 || !validTreePath(body.Ref) {
		s.unprocessable(w, r, "Reference name must start with 'refs/' and have at least two slashes.", docCreateRef)
		return
	}
	if !s.isCommit(rp, body.SHA) {
		s.unprocessable(w, r, "Object does not exist", docCreateRef)
		return
	}
	if _, ok := rp.refs[body.Ref]; ok {
		s.unprocessable(w, r, "Reference already exists", docCreateRef)
		return
	}
	rp.refs[body.Ref] = body.SHA
	j := s.refJSON(r, rp, body.Ref, body.SHA)
	w.Header().Set("Location", j["url"].(string))
	s.writeJSON(w, r, http.StatusCreated, j)
}

func (s *Server) updateRef(w http.ResponseWriter, r *http.Request, rp *repo) {
	var body struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !s.decode(w, r, &body, docUpdateRef) {
		return
	}
	ref := "refs/" + r.PathValue("ref")
	old, ok := rp.refs[ref]
	if !ok {
		s.unprocessable(w, r, "Reference does not exist", docUpdateRef)
		return
	}
	if !s.isCommit(rp, body.SHA) {
		s.unprocessable(w, r, "Object does not exist", docUpdateRef)
		return
	}
	if !body.Force && !rp.objs.IsAncestor(old, body.SHA) {
		s.unprocessable(w, r, "Update is not a fast forward", docUpdateRef)
		return
	}
	rp.refs[ref] = body.SHA
	s.writeJSON(w, r, http.StatusOK, s.refJSON(r, rp, ref, body.SHA))
}

func (s *Server) deleteRef(w http.ResponseWriter, r *http.Request, rp *repo) {
	ref := "refs/" + r.PathValue("ref")
	if _, ok := rp.refs[ref]; !ok {
		s.unprocessable(w, r, "Reference does not exist", docDeleteRef)
		return
	}
	delete(rp.refs, ref)
	s.commonHeaders(w, r, true)
	w.WriteHeader(http.StatusNoContent)
}

// ---- trees ----

func (s *Server) treeEntryJSON(r *http.Request, rp *repo, p string, e gitobj.TreeEntry) map[string]any {
	api := apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name
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

func (s *Server) getTree(w http.ResponseWriter, r *http.Request, rp *repo) {
	if len(rp.refs) == 0 {
		s.writeError(w, r, http.StatusConflict, "Git Repository is empty.", docGetTree)
		return
	}
	tsha := r.PathValue("sha")
	id := tsha
	if o := rp.objs[tsha]; o == nil || o.Type != "tree" {
		c, ok := rp.resolve(tsha)
		if !ok {
			s.writeError(w, r, http.StatusNotFound, "Not Found", docGetTree)
			return
		}
		id = rp.objs[c].Commit.Tree
	}
	var entries []any
	truncated := false
	add := func(p string, e gitobj.TreeEntry) {
		if s.opts.TreeLimit > 0 && len(entries) >= s.opts.TreeLimit {
			truncated = true
			return
		}
		entries = append(entries, s.treeEntryJSON(r, rp, p, e))
	}
	if r.URL.Query().Has("recursive") {
		rp.objs.Walk(id, "", add)
	} else {
		for _, e := range rp.objs[id].Tree {
			add(e.Name, e)
		}
	}
	if entries == nil {
		entries = []any{}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"sha": id, "url": apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name + "/git/trees/" + id,
		"tree": entries, "truncated": truncated,
	})
}

func (s *Server) createTree(w http.ResponseWriter, r *http.Request, rp *repo) {
	var body struct {
		BaseTree string `json:"base_tree"`
		Tree     []struct {
			Path    string          `json:"path"`
			Mode    string          `json:"mode"`
			Type    string          `json:"type"`
			SHA     json.RawMessage `json:"sha"`
			Content *string         `json:"content"`
		} `json:"tree"`
	}
	if !s.decode(w, r, &body, docCreateTree) {
		return
	}
	files := map[string]gitobj.FlatEntry{}
	if body.BaseTree != "" {
		if o := rp.objs[body.BaseTree]; o == nil || o.Type != "tree" {
			s.unprocessable(w, r, "Invalid tree info", docCreateTree)
			return
		}
		files = rp.objs.Flatten(body.BaseTree)
	}
	removeUnder := func(p string) {
		for q := range files {
			if strings.HasPrefix(q, p+"/") {
				delete(files, q)
			}
		}
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			delete(files, d)
		}
	}
	for i, e := range body.Tree {
		bad := func(msg string) { s.unprocessable(w, r, "tree."+strconv.Itoa(i)+": "+msg, docCreateTree) }
		if !validTreePath(e.Path) {
			bad("tree.path contains a malformed path component")
			return
		}
		if !slices.Contains([]string{gitobj.ModeFile, gitobj.ModeExec, gitobj.ModeSymlink, gitobj.ModeTree, gitobj.ModeCommit}, e.Mode) {
			bad("tree.mode is not a valid mode")
			return
		}
		isNull := string(e.SHA) == "null"
		var sha string
		if len(e.SHA) > 0 && !isNull {
			if err := json.Unmarshal(e.SHA, &sha); err != nil {
				bad("tree.sha is not a string")
				return
			}
		}
		switch {
		case sha != "" && e.Content != nil:
			bad("tree.sha and tree.content cannot both be set")
			return
		case e.Content != nil:
			if e.Mode == gitobj.ModeTree || e.Mode == gitobj.ModeCommit {
				bad("tree.content requires a blob mode")
				return
			}
			removeUnder(e.Path)
			files[e.Path] = gitobj.FlatEntry{Mode: e.Mode, SHA: rp.objs.PutBlob([]byte(*e.Content))}
		case isNull:
			_, isFile := files[e.Path]
			isDir := false
			for q := range files {
				if strings.HasPrefix(q, e.Path+"/") {
					isDir = true
					break
				}
			}
			if !isFile && !isDir {
				bad("tree.path " + strconv.Quote(e.Path) + " does not exist")
				return
			}
			delete(files, e.Path)
			for q := range files {
				if strings.HasPrefix(q, e.Path+"/") {
					delete(files, q)
				}
			}
		case sha != "":
			o := rp.objs[sha]
			switch {
			case e.Mode == gitobj.ModeCommit:
				removeUnder(e.Path)
				files[e.Path] = gitobj.FlatEntry{Mode: gitobj.ModeCommit, SHA: sha}
			case e.Mode == gitobj.ModeTree:
				if o == nil || o.Type != "tree" {
					bad("tree.sha " + sha + " is not a valid tree")
					return
				}
				removeUnder(e.Path)
				delete(files, e.Path)
				for q, fe := range rp.objs.Flatten(sha) {
					files[e.Path+"/"+q] = fe
				}
			default:
				if o == nil || o.Type != "blob" {
					bad("tree.sha " + sha + " is not a valid blob")
					return
				}
				removeUnder(e.Path)
				files[e.Path] = gitobj.FlatEntry{Mode: e.Mode, SHA: sha}
			}
		default:
			bad("Must supply either tree.sha or tree.content")
			return
		}
	}
	id := rp.objs.WriteFlat(files)
	entries := []any{}
	for _, e := range rp.objs[id].Tree {
		entries = append(entries, s.treeEntryJSON(r, rp, e.Name, e))
	}
	u := apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name + "/git/trees/" + id
	w.Header().Set("Location", u)
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"sha": id, "url": u, "tree": entries, "truncated": false})
}

// ---- blobs and commits ----

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, rp *repo) {
	id := r.PathValue("sha")
	o := rp.objs[id]
	if o == nil || o.Type != "blob" {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docGetBlob)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"sha": id, "node_id": base64.StdEncoding.EncodeToString([]byte("B_" + id)), "size": len(o.Blob),
		"url":     apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name + "/git/blobs/" + id,
		"content": base64Lines(o.Blob), "encoding": "base64",
	})
}

func (s *Server) createBlob(w http.ResponseWriter, r *http.Request, rp *repo) {
	var body struct {
		Content  *string `json:"content"`
		Encoding string  `json:"encoding"`
	}
	if !s.decode(w, r, &body, docCreateBlob) {
		return
	}
	if body.Content == nil {
		s.validation(w, r, docCreateBlob, map[string]any{"resource": "Blob", "field": "content", "code": "missing_field"})
		return
	}
	var data []byte
	switch body.Encoding {
	case "", "utf-8":
		if !utf8.ValidString(*body.Content) {
			s.validation(w, r, docCreateBlob, map[string]any{"resource": "Blob", "field": "content", "code": "invalid"})
			return
		}
		data = []byte(*body.Content)
	case "base64":
		d, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(*body.Content, "\n", ""))
		if err != nil {
			s.validation(w, r, docCreateBlob, map[string]any{"resource": "Blob", "field": "content", "code": "invalid"})
			return
		}
		data = d
	default:
		s.validation(w, r, docCreateBlob, map[string]any{"resource": "Blob", "field": "encoding", "code": "invalid"})
		return
	}
	id := rp.objs.PutBlob(data)
	u := apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name + "/git/blobs/" + id
	w.Header().Set("Location", u)
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"url": u, "sha": id})
}

func (s *Server) getGitCommit(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.visibleRepo(r)
	if rp == nil || !s.isCommit(rp, r.PathValue("sha")) {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docGetCommit)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.gitCommitJSON(r, rp, r.PathValue("sha")))
}

func (s *Server) createCommit(w http.ResponseWriter, r *http.Request, rp *repo) {
	type sig struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	var body struct {
		Message *string  `json:"message"`
		Tree    string   `json:"tree"`
		Parents []string `json:"parents"`
		Author  *sig     `json:"author"`
	}
	if !s.decode(w, r, &body, docCommit) {
		return
	}
	if body.Message == nil {
		s.validation(w, r, docCommit, map[string]any{"resource": "Commit", "field": "message", "code": "missing_field"})
		return
	}
	if o := rp.objs[body.Tree]; o == nil || o.Type != "tree" {
		s.unprocessable(w, r, "Tree SHA does not exist", docCommit)
		return
	}
	for _, p := range body.Parents {
		if !s.isCommit(rp, p) {
			s.unprocessable(w, r, "Parent SHA does not exist or is not a commit object", docCommit)
			return
		}
	}
	sg := gitobj.Signature{Name: s.actor(r), Email: s.actor(r) + "@users.noreply.github.com", When: s.now()}
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

// ---- pulls ----

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request, rp *repo) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	head := q.Get("head")
	headOwner, headBranch, hasOwner := strings.Cut(head, ":")
	if !hasOwner {
		headOwner, headBranch = "", head
	}
	var list []*pull
	for i := len(rp.pulls) - 1; i >= 0; i-- { // newest first
		p := rp.pulls[i]
		if state != "all" && p.state != state {
			continue
		}
		if head != "" && (p.head != headBranch || (headOwner != "" && !strings.EqualFold(headOwner, rp.owner.login))) {
			continue
		}
		if b := q.Get("base"); b != "" && p.base != b {
			continue
		}
		list = append(list, p)
	}
	start, end := paginate(w, r, len(list))
	out := make([]any, 0, end-start)
	for _, p := range list[start:end] {
		out = append(out, s.pullJSON(r, rp, p))
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.visibleRepo(r)
	if rp != nil {
		n, _ := strconv.Atoi(r.PathValue("number"))
		for _, p := range rp.pulls {
			if p.number == n {
				s.writeJSON(w, r, http.StatusOK, s.pullJSON(r, rp, p))
				return
			}
		}
	}
	s.writeError(w, r, http.StatusNotFound, "Not Found", docGetPull)
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request, rp *repo) {
	var body struct {
		Title string `json:"title"`
		Head  string `json:"head"`
		Base  string `json:"base"`
		Body  string `json:"body"`
		Draft bool   `json:"draft"`
	}
	if !s.decode(w, r, &body, docCreatePull) {
		return
	}
	fail := func(e map[string]any) { s.validation(w, r, docCreatePull, e) }
	if body.Title == "" {
		fail(map[string]any{"resource": "PullRequest", "field": "title", "code": "missing_field"})
		return
	}
	head := body.Head
	if o, b, ok := strings.Cut(head, ":"); ok {
		if !strings.EqualFold(o, rp.owner.login) {
			fail(map[string]any{"resource": "PullRequest", "field": "head", "code": "invalid"})
			return
		}
		head = b
	}
	headID, ok := rp.refs["refs/heads/"+head]
	if !ok {
		fail(map[string]any{"resource": "PullRequest", "field": "head", "code": "invalid"})
		return
	}
	baseID, ok := rp.refs["refs/heads/"+body.Base]
	if !ok {
		fail(map[string]any{"resource": "PullRequest", "field": "base", "code": "invalid"})
		return
	}
	for _, p := range rp.pulls {
		if p.state == "open" && p.head == head && p.base == body.Base {
			fail(map[string]any{"resource": "PullRequest", "code": "custom",
				"message": "A pull request already exists for " + rp.owner.login + ":" + head + "."})
			return
		}
	}
	if rp.objs.IsAncestor(headID, baseID) {
		fail(map[string]any{"resource": "PullRequest", "code": "custom",
			"message": "No commits between " + body.Base + " and " + head})
		return
	}
	p := &pull{id: s.newID(), number: len(rp.pulls) + 1, title: body.Title, body: body.Body, head: head, base: body.Base,
		draft: body.Draft, state: "open", created: s.now(), user: s.actor(r)}
	rp.pulls = append(rp.pulls, p)
	j := s.pullJSON(r, rp, p)
	w.Header().Set("Location", j["url"].(string))
	s.writeJSON(w, r, http.StatusCreated, j)
}
