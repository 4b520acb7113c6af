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
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitrecv"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
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
	s.handle(mux, "GET /orgs/{org}/members/{user}", s.orgMembership)
	s.handle(mux, "GET /users/{user}/repos", s.listRepos(User, docREST+"/repos/repos#list-repositories-for-a-user"))
	s.handle(mux, "GET /user/repos", s.listOwnRepos)
	s.handle(mux, "POST /graphql", s.graphql)
	s.appRoutes(mux)
	s.oauthRoutes(mux)
	s.createRoutes(mux)
}

// A repoHandler answers a request about the repository rp, with s.mu held;
// doc is the documentation URL of the route, for GitHub's error bodies.
type repoHandler func(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string)

// inRepo answers a request about the repository of the request's path with
// h, or 404 with GitHub's documentation URL doc when it does not exist or
// the caller may not see it.
func (s *Server) inRepo(doc string, h repoHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.site.Lock()
		defer s.site.Unlock()
		if rp := s.visibleRepo(r); rp != nil {
			if rp.Archived && r.Method != http.MethodGet && r.Method != http.MethodHead {
				// GitHub refuses every write to an archived repository.
				s.writeError(w, r, http.StatusForbidden, "Repository was archived so is read-only.", doc)
				return
			}
			h(w, r, rp, doc)
			return
		}
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
	}
}

// visibleRepo returns the repository named by the request's path, or nil
// when it does not exist or the caller may not see it (GitHub answers 404
// for both). The caller holds s.site.
func (s *Server) visibleRepo(r *http.Request) *repostore.Repo {
	rp := s.repoLocked(r.PathValue("owner"), r.PathValue("repo"))
	if rp == nil || !canSee(r, rp) {
		return nil
	}
	return rp
}

// canSee reports whether the request's credential may see rp: public
// repositories are visible to everyone; private ones to authenticated
// requests, and, with an installation token, only when the installation
// (and the token) covers them. The caller holds s.site.
func canSee(r *http.Request, rp *repostore.Repo) bool {
	c := callerOf(r)
	return rp.Public || (c.authed && (c.token == nil || c.token.covers(rp)))
}

// has reports whether rp holds the object id of type typ ("blob", "tree"
// or "commit").
func has(rp *repostore.Repo, id, typ string) bool {
	if typ == "commit" {
		return rp.Commits[id] != nil
	}
	o := rp.Objects[id]
	return o != nil && o.Type == typ
}

// objectOf returns rp's git object id, or nil.
func objectOf(rp *repostore.Repo, id string) *gitobj.Object {
	if c := rp.Commits[id]; c != nil {
		return &gitobj.Object{Type: "commit", Commit: c.Git}
	}
	return rp.Objects[id]
}

// ---- JSON shapes (field names and order from GitHub's examples) ----

func (s *Server) ownerJSON(r *http.Request, o *repostore.Owner) map[string]any {
	api := apiURL(r)
	kind := "users"
	if o.Type == string(Organization) {
		kind = "orgs"
	}
	return map[string]any{
		"login": o.Key, "id": o.ID, "node_id": nodeID("U", int64(o.ID)), "avatar_url": "https://avatars.githubusercontent.com/u/" + strconv.Itoa(o.ID) + "?v=4",
		"gravatar_id": "", "url": api + "/users/" + o.Key, "html_url": "http://" + r.Host + "/" + o.Key,
		"repos_url": api + "/" + kind + "/" + o.Key + "/repos", "type": string(o.Type), "site_admin": false,
	}
}

func nodeID(prefix string, id int64) string {
	return base64.StdEncoding.EncodeToString([]byte(prefix + strconv.FormatInt(id, 10)))
}

// repoURLs returns the API and the web URL of rp, as the client sees them.
func repoURLs(r *http.Request, rp *repostore.Repo) (api, web string) {
	return apiURL(r) + "/repos/" + rp.Owner.Key + "/" + rp.Slug, "http://" + r.Host + "/" + rp.Owner.Key + "/" + rp.Slug
}

func (s *Server) repoJSON(r *http.Request, rp *repostore.Repo) map[string]any {
	api, web := repoURLs(r, rp)
	vis := "public"
	if !rp.Public {
		vis = "private"
	}
	pushed := rp.Created
	if c := rp.Commits[rp.Branches[rp.DefaultBranch]]; c != nil {
		pushed = c.Git.Committer.When
	}
	return map[string]any{
		"id": rp.ID, "node_id": nodeID("R", int64(rp.ID)), "name": rp.Slug, "full_name": rp.Owner.Key + "/" + rp.Slug,
		"private": !rp.Public, "owner": s.ownerJSON(r, rp.Owner), "html_url": web, "description": rp.Description,
		"fork": rp.Fork, "url": api, "archive_url": api + "/{archive_format}{/ref}", "trees_url": api + "/git/trees{/sha}",
		"pulls_url": api + "/pulls{/number}", "contents_url": api + "/contents/{+path}",
		"git_url": "git://" + r.Host + "/" + rp.Owner.Key + "/" + rp.Slug + ".git",
		"ssh_url": "git@" + r.Host + ":" + rp.Owner.Key + "/" + rp.Slug + ".git", "clone_url": web + ".git",
		"size": 1, "default_branch": rp.DefaultBranch, "archived": rp.Archived, "disabled": false,
		"visibility": vis, "pushed_at": ts(pushed), "created_at": ts(rp.Created), "updated_at": ts(pushed),
	}
}

func (s *Server) gitCommitJSON(r *http.Request, rp *repostore.Repo, id string) map[string]any {
	api, web := repoURLs(r, rp)
	c := rp.Commits[id].Git
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
func (s *Server) commitJSON(r *http.Request, rp *repostore.Repo, id string) map[string]any {
	api, web := repoURLs(r, rp)
	gc := s.gitCommitJSON(r, rp, id)
	return map[string]any{
		"sha": id, "node_id": gc["node_id"], "url": api + "/commits/" + id, "html_url": web + "/commit/" + id,
		"comments_url": api + "/commits/" + id + "/comments", "parents": gc["parents"], "author": nil, "committer": nil,
		"commit": map[string]any{"author": gc["author"], "committer": gc["committer"], "message": gc["message"],
			"tree": gc["tree"], "url": gc["url"], "comment_count": 0, "verification": gc["verification"]},
	}
}

func (s *Server) refJSON(r *http.Request, rp *repostore.Repo, ref, id string) map[string]any {
	api, _ := repoURLs(r, rp)
	return map[string]any{
		"ref": ref, "node_id": base64.StdEncoding.EncodeToString([]byte("REF_" + ref)),
		"url":    api + "/git/" + httpx.EscapePath(ref),
		"object": map[string]any{"sha": id, "type": "commit", "url": api + "/git/commits/" + id},
	}
}

func (s *Server) pullJSON(r *http.Request, rp *repostore.Repo, p *repostore.Pull) map[string]any {
	api, web := repoURLs(r, rp)
	n := strconv.Itoa(p.ID)
	user := map[string]any{"login": p.Author, "id": 1, "type": "User", "site_admin": false}
	side := func(branch string) map[string]any {
		repo := s.repoJSON(r, rp)
		delete(repo, "visibility") // not in GitHub's example of a pull request's repo
		return map[string]any{"label": rp.Owner.Key + ":" + branch, "ref": branch, "sha": rp.Branches[branch],
			"user": s.ownerJSON(r, rp.Owner), "repo": repo}
	}
	return map[string]any{
		"url": api + "/pulls/" + n, "id": p.Node, "node_id": nodeID("PR_", int64(p.Node)), "html_url": web + "/pull/" + n,
		"diff_url": web + "/pull/" + n + ".diff", "patch_url": web + "/pull/" + n + ".patch",
		"issue_url": api + "/issues/" + n, "number": p.ID, "state": "open", "locked": false, // the fake closes none
		"title": p.Title, "user": user, "body": p.Description, "created_at": ts(p.Created), "updated_at": ts(p.Created),
		"closed_at": nil, "merged_at": nil, "merge_commit_sha": nil, "draft": p.Draft,
		"head": side(p.From), "base": side(p.To), "author_association": "OWNER",
	}
}

// ---- repos ----

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, _ string) {
	s.writeJSON(w, r, http.StatusOK, s.repoJSON(r, rp))
}

func (s *Server) listRepos(typ OwnerType, doc string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.site.Lock()
		defer s.site.Unlock()
		o := s.site.FindOwner(r.PathValue("org") + r.PathValue("user"))
		// /users/{u}/repos answers for organizations too; /orgs/{o}/repos
		// only for organizations.
		if o == nil || (typ == Organization && o.Type != string(Organization)) {
			s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
			return
		}
		// /users/{u}/repos lists public repositories only (GitHub's
		// documentation), whoever asks: the user's own token finds her
		// private ones in /user/repos, an installation token those of
		// its installation in /installation/repositories.
		list := slices.DeleteFunc(slices.Clone(reposOf(o)), func(rp *repostore.Repo) bool {
			return !canSee(r, rp) || typ == User && !rp.Public
		})
		sortRepos(r, list, map[OwnerType]string{Organization: "created", User: "full_name"}[typ])
		s.writeListing(w, r, pageJSON(w, r, list, func(rp *repostore.Repo) any { return s.repoJSON(r, rp) }))
	}
}

// sortRepos orders list, in creation order, as GitHub's sort and
// direction parameters ask: by creation for sort=created (and updated
// and pushed, which the fake does not track), by full name for
// sort=full_name; sort defaults to def (created for an organization,
// full_name for a user), direction to asc for full_name and desc
// otherwise. A repository created while a client pages through a desc
// listing shifts every page.
func sortRepos(r *http.Request, list []*repostore.Repo, def string) {
	q := r.URL.Query()
	sort := cmp.Or(q.Get("sort"), def)
	if sort == "full_name" {
		slices.SortStableFunc(list, func(a, b *repostore.Repo) int {
			return cmp.Compare(strings.ToLower(a.Owner.Key+"/"+a.Slug), strings.ToLower(b.Owner.Key+"/"+b.Slug))
		})
	}
	if cmp.Or(q.Get("direction"), map[bool]string{true: "asc", false: "desc"}[sort == "full_name"]) == "desc" {
		slices.Reverse(list)
	}
}

// listOwnRepos answers GET /user/repos with the repositories the caller
// owns, public and private (affiliation=owner; the fake does not model
// collaborators or organization members). It needs a user: an anonymous
// caller gets 401, a GitHub App installation token 403.
func (s *Server) listOwnRepos(w http.ResponseWriter, r *http.Request) {
	const doc = docREST + "/repos/repos#list-repositories-for-the-authenticated-user"
	switch c := callerOf(r); {
	case !c.authed:
		s.writeError(w, r, http.StatusUnauthorized, "Requires authentication", doc)
		return
	case c.token != nil:
		s.writeError(w, r, http.StatusForbidden, msgNotAccessible, doc)
		return
	}
	login := s.actor(r) // before s.site: the sign-in state is never locked inside it
	s.site.Lock()
	defer s.site.Unlock()
	var list []*repostore.Repo
	if o := s.site.FindOwner(login); o != nil {
		list = reposOf(o)
	}
	sortRepos(r, list, "full_name")
	s.writeListing(w, r, pageJSON(w, r, list, func(rp *repostore.Repo) any { return s.repoJSON(r, rp) }))
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

func (s *Server) contentEntryJSON(r *http.Request, rp *repostore.Repo, ref, p string, e gitobj.TreeEntry) map[string]any {
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
	if has(rp, e.SHA, "blob") {
		size = len(rp.Objects[e.SHA].Blob)
		download = "http://" + r.Host + "/raw/" + rp.Owner.Key + "/" + rp.Slug + "/" + httpx.EscapePath(ref) + "/" + httpx.EscapePath(p)
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

func (s *Server) getContents(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	p := strings.Trim(r.PathValue("path"), "/")
	if gitrecv.IsEmpty(rp) {
		s.writeError(w, r, http.StatusNotFound, "This repository is empty.", doc)
		return
	}
	ref := r.URL.Query().Get("ref")
	commit := rp.Resolve(ref)
	if commit == nil {
		s.writeError(w, r, http.StatusNotFound, "No commit found for the ref "+ref, doc)
		return
	}
	ref = cmp.Or(ref, rp.DefaultBranch)
	c := commit.Git
	e, ok := rp.Objects.Lookup(c.Tree, p)
	if !ok || !cleanRel(p) {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	// Last-Modified is the date of the newest commit of the ref's
	// first-parent history that changed the path, as GitHub's recorded
	// answers show (a file's is older than its directory's; octokit-fixtures
	// get-content): the same for every caller, unlike the ETag.
	lastModified := lastChange(rp, commit, p).Git.Committer.When
	w.Header().Set("Last-Modified", lastModified.UTC().Format(http.TimeFormat))
	// A symlink to a file in the repository answers with that file.
	if e.Mode == gitobj.ModeSymlink {
		target := path.Join(path.Dir(p), string(rp.Objects[e.SHA].Blob))
		if t, ok := rp.Objects.Lookup(c.Tree, target); ok && cleanRel(target) && (t.Mode == gitobj.ModeFile || t.Mode == gitobj.ModeExec) {
			e = t
		}
	}
	media, raw := rawMediaType(r.Header.Get("Accept"))
	// The object media type answers a file over 1 MB without its content
	// (encoding "none"); the default JSON one refuses it.
	limit := cmp.Or(s.opts.ContentsLimit, 100<<20)
	object, big := strings.Contains(r.Header.Get("Accept"), "application/vnd.github.object"), len(rp.Objects[e.SHA].Blob) > limit/100
	if (e.Mode == gitobj.ModeFile || e.Mode == gitobj.ModeExec) && (len(rp.Objects[e.SHA].Blob) > limit || !raw && !object && big) {
		s.writeJSON(w, r, http.StatusForbidden, map[string]any{"message": "This API returns blobs up to " + map[bool]string{true: "100 MB", false: "1 MB"}[raw] +
			" in size. The requested blob is too large to fetch via the API, but you can use the Git Data API to request blobs up to 100 MB in size.",
			"errors": []any{map[string]any{"resource": "Blob", "field": "data", "code": "too_large"}}, "documentation_url": doc, "status": "403"})
		return
	}
	j := s.contentEntryJSON(r, rp, ref, p, e)
	switch {
	case e.Mode == gitobj.ModeTree:
		s.writeJSON(w, r, http.StatusOK, listJSON(rp.Objects[e.SHA].Tree, func(child gitobj.TreeEntry) any {
			return s.contentEntryJSON(r, rp, ref, path.Join(p, child.Name), child)
		}))
		return
	case e.Mode == gitobj.ModeCommit:
		j["type"], j["submodule_git_url"] = "submodule", "git://example.invalid/submodule.git"
	case e.Mode == gitobj.ModeSymlink:
		j["target"] = string(rp.Objects[e.SHA].Blob)
	case raw:
		etag := callerETag(r, e.SHA)
		if s.opts.BlobETags {
			etag = `"` + e.SHA + `"`
		}
		if s.notModified(w, r, etag, lastModified) {
			return
		}
		blob := rp.Objects[e.SHA].Blob
		s.commonHeaders(w, r, true)
		setHeaders(w.Header(), "ETag", etag, "Cache-Control", "private, max-age=60, s-maxage=60",
			"Content-Type", media+"; charset=utf-8", "Content-Length", strconv.Itoa(len(blob)),
			"X-GitHub-Media-Type", "github.v3; param="+strings.TrimPrefix(strings.TrimPrefix(media, "application/vnd.github."), "v3."))
		w.WriteHeader(http.StatusOK)
		w.Write(blob)
		return
	default:
		j["type"], j["content"], j["encoding"] = "file", base64Lines(rp.Objects[e.SHA].Blob), "base64"
		if object && big {
			j["content"], j["encoding"] = "", "none"
		}
	}
	s.writeJSON(w, r, http.StatusOK, j)
}

// ---- tarball ----

func (s *Server) getTarball(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	ref := r.PathValue("ref")
	c := rp.Resolve(ref)
	if c == nil {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	id := c.ID
	// Name the ref as GitHub's redirect does: branches as refs/heads/X,
	// commit ids as they are.
	refPath, name := id, ref
	if ref == "" || ref == "HEAD" {
		name = rp.DefaultBranch
	}
	if full, _, ok := rp.FullRef(name); ok {
		refPath = full
	}
	loc := s.download.URL + "/" + httpx.EscapePath(rp.Owner.Key+"/"+rp.Slug) + "/legacy.tar.gz/" + httpx.EscapePath(refPath)
	if !rp.Public {
		tok := strings.ReplaceAll(strings.ToUpper(requestID()), ":", "")
		s.downloadToken[tok] = key(rp.Owner.Key, rp.Slug)
		loc += "?token=" + tok
	}
	s.commonHeaders(w, r, true)
	setHeaders(w.Header(), "Content-Type", "text/html;charset=utf-8", "Cache-Control", "public, must-revalidate, max-age=0",
		"Location", loc, "Content-Length", "0")
	w.WriteHeader(http.StatusFound)
}

// ---- branches and refs ----

func (s *Server) getBranch(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	name := r.PathValue("branch")
	id, ok := rp.Ref("refs/heads/" + name)
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

func (s *Server) getRef(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	ref := "refs/" + r.PathValue("ref")
	id, ok := rp.Ref(ref)
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.refJSON(r, rp, ref, id))
}

func (s *Server) createRef(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	var body struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if !s.decode(w, r, &body, doc) {
		return
	}
	_, exists := rp.Ref(body.Ref)
	switch {
	case gitrecv.IsEmpty(rp):
		s.writeError(w, r, http.StatusConflict, "Git Repository is empty.", doc)
	case !validRefName(body.Ref):
		s.unprocessable(w, r, "Reference name must start with 'refs/' and have at least two slashes.", doc)
	case !has(rp, body.SHA, "commit"):
		s.unprocessable(w, r, "Object does not exist", doc)
	case exists:
		s.unprocessable(w, r, "Reference already exists", doc)
	default:
		rp.SetRef(body.Ref, body.SHA)
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

func (s *Server) updateRef(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	var body struct {
		SHA   string `json:"sha"`
		Force bool   `json:"force"`
	}
	if !s.decode(w, r, &body, doc) {
		return
	}
	ref := "refs/" + r.PathValue("ref")
	old, ok := rp.Ref(ref)
	switch {
	case !ok:
		s.unprocessable(w, r, "Reference does not exist", doc)
	case !has(rp, body.SHA, "commit"):
		s.unprocessable(w, r, "Object does not exist", doc)
	case !body.Force && !rp.IsAncestor(old, body.SHA):
		s.unprocessable(w, r, "Update is not a fast forward", doc)
	default:
		rp.SetRef(ref, body.SHA)
		s.writeJSON(w, r, http.StatusOK, s.refJSON(r, rp, ref, body.SHA))
	}
}

// ---- trees ----

func (s *Server) treeEntryJSON(r *http.Request, rp *repostore.Repo, p string, e gitobj.TreeEntry) map[string]any {
	api, _ := repoURLs(r, rp)
	j := map[string]any{"path": p, "mode": e.Mode, "sha": e.SHA}
	switch e.Mode {
	case gitobj.ModeTree:
		j["type"], j["url"] = "tree", api+"/git/trees/"+e.SHA
	case gitobj.ModeCommit:
		j["type"] = "commit"
	default:
		j["type"], j["url"] = "blob", api+"/git/blobs/"+e.SHA
		if o := rp.Objects[e.SHA]; o != nil {
			j["size"] = len(o.Blob)
		}
	}
	return j
}

// treeJSON is the answer for the tree id: its entries, or with recursive
// every entry below it, up to limit entries when limit > 0.
func (s *Server) treeJSON(r *http.Request, rp *repostore.Repo, id string, recursive bool, limit int) map[string]any {
	entries, truncated := []any{}, false
	add := func(p string, e gitobj.TreeEntry) {
		if limit > 0 && len(entries) >= limit {
			truncated = true
			return
		}
		entries = append(entries, s.treeEntryJSON(r, rp, p, e))
	}
	if recursive {
		rp.Objects.Walk(id, "", add)
	} else {
		for _, e := range rp.Objects[id].Tree {
			add(e.Name, e)
		}
	}
	api, _ := repoURLs(r, rp)
	return map[string]any{"sha": id, "url": api + "/git/trees/" + id, "tree": entries, "truncated": truncated}
}

func (s *Server) getTree(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	if gitrecv.IsEmpty(rp) {
		s.writeError(w, r, http.StatusConflict, "Git Repository is empty.", doc)
		return
	}
	id := r.PathValue("sha")
	if !has(rp, id, "tree") {
		c := rp.Resolve(id)
		if c == nil {
			s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
			return
		}
		id = c.Git.Tree
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

func (s *Server) createTree(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	var body struct {
		BaseTree string        `json:"base_tree"`
		Tree     []treeEntryIn `json:"tree"`
	}
	if !s.decode(w, r, &body, doc) {
		return
	}
	files := map[string]gitobj.FlatEntry{}
	if body.BaseTree != "" {
		if !has(rp, body.BaseTree, "tree") {
			s.unprocessable(w, r, "Invalid tree info", doc)
			return
		}
		files = rp.Objects.Flatten(body.BaseTree)
	}
	for i, e := range body.Tree {
		if msg := changeTree(rp, files, e); msg != "" {
			s.unprocessable(w, r, "tree."+strconv.Itoa(i)+": "+msg, doc)
			return
		}
	}
	j := s.treeJSON(r, rp, rp.Objects.WriteFlat(files), false, 0)
	w.Header().Set("Location", j["url"].(string))
	s.writeJSON(w, r, http.StatusCreated, j)
}

// changeTree applies one entry of a POST git/trees body to files, or
// returns GitHub's message for what is wrong with it.
func changeTree(rp *repostore.Repo, files map[string]gitobj.FlatEntry, e treeEntryIn) string {
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
		sha = rp.Objects.PutBlob([]byte(*e.Content))
	case null:
		if !removePath(files, e.Path) {
			return "tree.path " + strconv.Quote(e.Path) + " does not exist"
		}
		return ""
	case sha == "":
		return "Must supply either tree.sha or tree.content"
	case e.Mode == gitobj.ModeTree && !has(rp, sha, "tree"):
		return "tree.sha " + sha + " is not a valid tree"
	case e.Mode != gitobj.ModeTree && e.Mode != gitobj.ModeCommit && !has(rp, sha, "blob"):
		return "tree.sha " + sha + " is not a valid blob"
	}
	clearPath(files, e.Path)
	if e.Mode != gitobj.ModeTree {
		files[e.Path] = gitobj.FlatEntry{Mode: e.Mode, SHA: sha}
		return ""
	}
	for q, fe := range rp.Objects.Flatten(sha) {
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

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	id := r.PathValue("sha")
	if !has(rp, id, "blob") {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	api, _ := repoURLs(r, rp)
	blob := rp.Objects[id].Blob
	s.writeJSON(w, r, http.StatusOK, map[string]any{
		"sha": id, "node_id": base64.StdEncoding.EncodeToString([]byte("B_" + id)), "size": len(blob),
		"url": api + "/git/blobs/" + id, "content": base64Lines(blob), "encoding": "base64",
	})
}

func (s *Server) createBlob(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
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
	id := rp.Objects.PutBlob(data)
	api, _ := repoURLs(r, rp)
	w.Header().Set("Location", api+"/git/blobs/"+id)
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"url": api + "/git/blobs/" + id, "sha": id})
}

func (s *Server) getGitCommit(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	if !has(rp, r.PathValue("sha"), "commit") {
		s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.gitCommitJSON(r, rp, r.PathValue("sha")))
}

func (s *Server) createCommit(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
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
	case !has(rp, body.Tree, "tree"):
		s.unprocessable(w, r, "Tree SHA does not exist", doc)
		return
	case slices.ContainsFunc(body.Parents, func(p string) bool { return !has(rp, p, "commit") }):
		s.unprocessable(w, r, "Parent SHA does not exist or is not a commit object", doc)
		return
	}
	sg := s.signature(s.actor(r))
	author := sg
	if body.Author != nil && body.Author.Name != "" {
		author.Name, author.Email = body.Author.Name, body.Author.Email
	}
	id := gitrecv.PutCommit(&s.site.Store, rp, "", &gitobj.Commit{Tree: body.Tree, Parents: slices.Clone(body.Parents), Message: *body.Message,
		Author: author, Committer: sg}, "")
	j := s.gitCommitJSON(r, rp, id)
	w.Header().Set("Location", j["url"].(string))
	s.writeJSON(w, r, http.StatusCreated, j)
}

// signature is login's, as the author and committer of the commits it
// makes, dated now.
func (s *Server) signature(login string) gitobj.Signature {
	return gitobj.Signature{Name: login, Email: login + "@users.noreply.github.com", When: s.now()}
}

// ---- pulls ----

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	q := r.URL.Query()
	state, head, base := cmp.Or(q.Get("state"), "open"), q.Get("head"), q.Get("base")
	headOwner, headBranch, hasOwner := strings.Cut(head, ":")
	if !hasOwner {
		headOwner, headBranch = "", head
	}
	var list []*repostore.Pull
	for _, p := range slices.Backward(rp.Pulls) { // newest first
		if (state == "all" || strings.EqualFold(p.State, state)) && (base == "" || p.To == base) &&
			(head == "" || p.From == headBranch && (headOwner == "" || strings.EqualFold(headOwner, rp.Owner.Key))) {
			list = append(list, p)
		}
	}
	s.writeJSON(w, r, http.StatusOK, pageJSON(w, r, list, func(p *repostore.Pull) any { return s.pullJSON(r, rp, p) }))
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	// Pull requests are numbered from 1 in creation order.
	if n, _ := strconv.Atoi(r.PathValue("number")); rp.Pull(n) != nil {
		s.writeJSON(w, r, http.StatusOK, s.pullJSON(r, rp, rp.Pull(n)))
		return
	}
	s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
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
// The caller holds s.site.
func (s *Server) openPull(r *http.Request, rp *repostore.Repo, p Pull) (_ *repostore.Pull, field, msg string) {
	if o, b, ok := strings.Cut(p.Head, ":"); ok && strings.EqualFold(o, rp.Owner.Key) {
		p.Head = b // another owner's branch ("o:b") is no branch of rp
	}
	problem, missing, _ := rp.CheckPull(p.Head, p.Base)
	switch {
	case problem == repostore.PullNoBranch && missing == p.Head:
		return nil, "head", "Head sha can't be blank, Head ref must be a branch"
	case problem == repostore.PullNoBranch:
		return nil, "base", "Base ref must be a branch"
	case p.Title == "":
		return nil, "title", "Title can't be blank"
	case problem == repostore.PullDuplicate:
		return nil, "", "A pull request already exists for " + rp.Owner.Key + ":" + p.Head + "."
	case problem != repostore.PullOK: // the same branch, or nothing to merge
		return nil, "", "No commits between " + p.Base + " and " + p.Head
	}
	return s.site.Open(rp, repostore.Pull{Title: p.Title, Description: p.Body, From: p.Head, To: p.Base, Draft: p.Draft,
		Author: s.actor(r), Node: int(s.newID())}), "", ""
}
