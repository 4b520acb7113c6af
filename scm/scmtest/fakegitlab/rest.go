package fakegitlab

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

func (s *Server) routes() {
	s.handle("GET /api/v4/user", s.oauthGetUser) // the signed-in user, or getUser (oauth.go)
	s.handle("GET /api/v4/users", s.orgRead(s.listOrgUsers, "read_user", "read_api", "api"))
	s.handle("GET /api/v4/users/{id}/projects", s.inNamespace("user", "User", s.userProjects))
	s.handle("GET /api/v4/groups/{id}", s.inNamespace("group", "Group", s.getGroup))
	s.handle("GET /api/v4/groups/{id}/projects", s.inNamespace("group", "Group", s.groupProjects))
	s.handle("GET /api/v4/groups/{id}/members/all", s.orgRead(s.listAllGroupMembers, "read_api", "api"))
	s.handle("GET /api/v4/namespaces/{id}", s.signedIn(s.inNamespace("", "Namespace", s.getNamespace))) // create.go
	s.handle("POST /api/v4/projects", s.signedIn(s.createProject))
	s.handle("GET /api/v4/projects/{id}", s.read(s.getProject))
	s.handle("POST /api/v4/projects/{id}/share", s.write(s.shareProject)) // access.go
	s.handle("POST /api/v4/projects/{id}/members", s.write(s.addProjectMember))
	s.handle("GET /api/v4/projects/{id}/repository/files/{file}/raw", s.read(s.getRawFile))
	s.handle("GET /api/v4/projects/{id}/repository/files/{file}", s.read(s.getFile))
	s.handle("GET /api/v4/projects/{id}/repository/tree", s.read(s.getTree))
	s.handle("GET /api/v4/projects/{id}/repository/{archive}", s.read(s.getArchive))
	s.handle("GET /api/v4/projects/{id}/repository/branches/{branch}", s.read(s.getBranch))
	s.handle("POST /api/v4/projects/{id}/repository/branches", s.write(s.createBranch))
	s.handle("GET /api/v4/projects/{id}/repository/commits", s.read(s.listCommits)) // commits.go
	s.handle("POST /api/v4/projects/{id}/repository/commits", s.write(s.createCommit))
	s.handle("GET /api/v4/projects/{id}/merge_requests", s.read(s.listMergeRequests))
	s.handle("POST /api/v4/projects/{id}/merge_requests", s.write(s.createMergeRequest))
	s.handle("GET /api/v4/projects/{id}/merge_requests/{iid}", s.read(s.getMergeRequest))
	s.handle("POST /api/graphql", s.graphql)
	s.oauthRoutes()
}

// visible reports whether the request may see pr.
func visible(r *http.Request, pr *project) bool {
	return authenticated(r) || pr.Visibility == Public
}

// lookupProject finds the project of the {id} path value (numeric id or
// full path) and answers 404 Project Not Found when there is none or the
// request may not see it. The caller holds s.mu.
func (s *Server) lookupProject(w http.ResponseWriter, r *http.Request) *project {
	id := r.PathValue("id")
	pr := s.projects[strings.ToLower(id)]
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		pr = s.byID[n]
	}
	if pr == nil || !visible(r, pr) {
		s.notFound(w, r, "Project")
		return nil
	}
	return pr
}

// basicFields are the fields of GitLab's BasicProjectDetails, the project
// answer to an anonymous request: no visibility, archived, permissions,
// _links and the like (API::Entities::BasicProjectDetails).
var basicFields = []string{"id", "description", "name", "name_with_namespace", "path", "path_with_namespace",
	"created_at", "default_branch", "tag_list", "topics", "ssh_url_to_repo", "http_url_to_repo", "web_url",
	"readme_url", "forks_count", "avatar_url", "star_count", "last_activity_at", "namespace"}

// projectAnswer is projectJSON, cut to BasicProjectDetails for an
// anonymous request, as GET /projects/:id and GET /users/:id/projects do.
func (s *Server) projectAnswer(r *http.Request, pr *project) map[string]any {
	m := s.projectJSON(r, pr)
	if !authenticated(r) {
		maps.DeleteFunc(m, func(k string, _ any) bool { return !slices.Contains(basicFields, k) })
	}
	return m
}

// read adapts a handler of the project named by the {id} path value, which
// it calls with s.mu held; lookupProject answers when there is none.
func (s *Server) read(h func(http.ResponseWriter, *http.Request, *project)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if pr := s.lookupProject(w, r); pr != nil {
			h(w, r, pr)
		}
	}
}

// write is read for a write: 401 for an anonymous request, and GitLab's
// 403 for an archived project (a read-only project refuses commits,
// branches and merge requests).
func (s *Server) write(h func(http.ResponseWriter, *http.Request, *project)) http.HandlerFunc {
	return s.signedIn(s.read(func(w http.ResponseWriter, r *http.Request, pr *project) {
		if pr.Archived {
			s.message(w, r, http.StatusForbidden, "403 Forbidden")
			return
		}
		h(w, r, pr)
	}))
}

// signedIn adapts a handler that answers 401 to an anonymous request.
func (s *Server) signedIn(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.requireAuth(w, r) {
			h(w, r)
		}
	}
}

// requireAuth answers 401 for an anonymous write.
func (s *Server) requireAuth(w http.ResponseWriter, r *http.Request) bool {
	if !authenticated(r) {
		s.message(w, r, http.StatusUnauthorized, "401 Unauthorized")
		return false
	}
	return true
}

func (s *Server) userJSON(r *http.Request) map[string]any {
	u := s.opts.User
	return map[string]any{"id": 1, "username": u, "name": u, "state": "active", "locked": false,
		"avatar_url": "https://secure.gravatar.com/avatar/00000000000000000000000000000000?s=80&d=identicon",
		"web_url":    s.webURL(r) + "/" + u}
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	if !s.requireAuth(w, r) {
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.userJSON(r))
}

func (s *Server) namespaceJSON(r *http.Request, ns *namespace) map[string]any {
	return map[string]any{"id": ns.id, "name": ns.name, "path": path.Base(ns.fullPath), "kind": ns.kind,
		"full_path": ns.fullPath, "parent_id": ns.parentID(), "avatar_url": nil, "web_url": ns.webURL(s.webURL(r))}
}

// webURL is the namespace's page on the instance at base: a group's is
// under /groups.
func (ns *namespace) webURL(base string) string {
	if ns.kind == "group" {
		return base + "/groups/" + ns.fullPath
	}
	return base + "/" + ns.fullPath
}

// parentID is the parent group's id, or null.
func (ns *namespace) parentID() any {
	if ns.parent == nil {
		return nil
	}
	return ns.parent.id
}

func (s *Server) projectJSON(r *http.Request, pr *project) map[string]any {
	web := s.webURL(r) + "/" + pr.fullPath()
	api := s.webURL(r) + "/api/v4/projects/" + strconv.FormatInt(pr.id, 10)
	var readme any
	if c := pr.repo.Resolve(""); c != nil {
		if _, ok := c.Files["README.md"]; ok {
			readme = web + "/-/blob/" + pr.DefaultBranch + "/README.md"
		}
	}
	j := map[string]any{
		"id": pr.id, "description": pr.Description, "name": pr.Name, "name_with_namespace": pr.ns.name + " / " + pr.Name,
		"path": pr.Path, "path_with_namespace": pr.fullPath(),
		"created_at": ts(pr.created), "updated_at": ts(pr.created), "default_branch": pr.rootRef(),
		"tag_list": []string{}, "topics": []string{},
		"ssh_url_to_repo":  pr.sshURL(r),
		"http_url_to_repo": web + ".git", "web_url": web, "readme_url": readme, "avatar_url": nil,
		"forks_count": 0, "star_count": 0, "last_activity_at": ts(pr.created),
		"namespace": s.namespaceJSON(r, pr.ns),
		"_links": map[string]any{"self": api, "issues": api + "/issues", "merge_requests": api + "/merge_requests",
			"repo_branches": api + "/repository/branches", "labels": api + "/labels", "events": api + "/events",
			"members": api + "/members", "cluster_agents": api + "/cluster_agents"},
		"empty_repo": len(pr.repo.Branches) == 0, "archived": pr.Archived, "visibility": string(pr.Visibility),
		"resolve_outdated_diff_discussions": false, "issues_enabled": true, "merge_requests_enabled": true,
		"wiki_enabled": true, "jobs_enabled": true, "snippets_enabled": true, "container_registry_enabled": false,
		"creator_id": 1, "import_status": "none", "open_issues_count": 0, "public_jobs": true,
		"shared_with_groups": []any{}, "only_allow_merge_if_pipeline_succeeds": false,
		"request_access_enabled": true, "merge_method": "merge", "squash_option": "default_off",
		"repository_object_format": "sha1", "merge_requests_access_level": "enabled",
		"repository_access_level": "enabled",
	}
	if up := s.projects[strings.ToLower(pr.ForkedFrom)]; up != nil && up != pr {
		// GitLab's forked_from_project: the upstream's basic details.
		cp := *up
		cp.ForkedFrom = ""
		m := s.projectJSON(r, &cp)
		maps.DeleteFunc(m, func(k string, _ any) bool { return !slices.Contains(basicFields, k) })
		j["forked_from_project"] = m
	}
	return j
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request, pr *project) {
	s.writeJSON(w, r, http.StatusOK, s.projectAnswer(r, pr))
}

// lastCommitFor returns the id of the last commit at or before c that
// changed p.
func (pr *project) lastCommitFor(c *repostore.Commit, p string) string {
	for parent := pr.repo.Parent(c); parent != nil && parent.Files[p].Same(c.Files[p]); parent = pr.repo.Parent(c) {
		c = parent
	}
	return c.ID
}

// fileAt resolves the ref query parameter (GitLab refuses a present but
// empty one, and a missing one when required) and the {file} path value,
// answering 404 Commit Not Found or 404 File Not Found (a directory is not
// a file). It returns the file's metadata, as the files API answers it and
// as it sets it in the X-Gitlab-* headers, and its content.
func (s *Server) fileAt(w http.ResponseWriter, r *http.Request, pr *project, required bool) (meta map[string]any, content []byte, ok bool) {
	q := r.URL.Query()
	_, present := q["ref"]
	ref, p := q.Get("ref"), r.PathValue("file")
	switch c := pr.repo.Resolve(ref); {
	case !present && required:
		s.paramError(w, r, "ref is missing")
	case present && ref == "":
		s.paramError(w, r, "ref is empty")
	case c == nil:
		s.notFound(w, r, "Commit")
	case c.Files[p].Blob == "":
		s.notFound(w, r, "File")
	default:
		e := c.Files[p]
		content = e.Content
		sum := sha256.Sum256(content)
		meta = map[string]any{"file_name": path.Base(p), "file_path": p, "size": len(content), "encoding": "base64",
			"content_sha256": hex.EncodeToString(sum[:]), "ref": cmp.Or(ref, pr.DefaultBranch), "blob_id": e.Blob,
			"commit_id": c.ID, "last_commit_id": pr.lastCommitFor(c, p), "execute_filemode": e.Exec}
		for k, v := range meta { // X-Gitlab-File-Name, X-Gitlab-Content-Sha256, ...
			w.Header().Set("X-Gitlab-"+strings.ReplaceAll(k, "_", "-"), fmt.Sprint(v))
		}
		return meta, content, true
	}
	return nil, nil, false
}

// getRawFile serves GET repository/files/:file_path/raw. The ETag is the
// quoted blob id, so an unchanged file keeps it across commits, and a
// matching If-None-Match is answered 304 without a body.
func (s *Server) getRawFile(w http.ResponseWriter, r *http.Request, pr *project) {
	meta, content, ok := s.fileAt(w, r, pr, false)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "Fri, 01 Jan 1990 00:00:00 GMT")
	etag := `"` + meta["blob_id"].(string) + `"`
	if s.notModified(w, r, etag) {
		return
	}
	s.commonHeaders(w)
	h.Set("ETag", etag)
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": meta["file_name"].(string)}))
	ct := "text/plain; charset=utf-8"
	if !strings.HasPrefix(http.DetectContentType(content), "text/") {
		ct = "application/octet-stream"
	}
	fake.Write(w, r, http.StatusOK, ct, content)
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request, pr *project) {
	if meta, content, ok := s.fileAt(w, r, pr, true); ok {
		meta["content"] = base64.StdEncoding.EncodeToString(content)
		s.writeJSON(w, r, http.StatusOK, meta)
	}
}

// getTree serves GET repository/tree: a missing ref is 404 Tree Not Found,
// a missing path an empty list. With pagination=keyset it pages with an
// opaque page_token and a Link rel="next"; otherwise with offsets.
func (s *Server) getTree(w http.ResponseWriter, r *http.Request, pr *project) {
	q := r.URL.Query()
	c := pr.repo.Resolve(q.Get("ref"))
	if c == nil {
		s.notFound(w, r, "Tree")
		return
	}
	dir := strings.Trim(q.Get("path"), "/")
	nodes := []treeNode{}
	if fake.IsDir(c.Files, dir) {
		nodes = listTree(c, dir, q.Get("recursive") == "true")
	}
	if q.Get("pagination") != "keyset" {
		start, end := s.offsetPage(w, r, len(nodes))
		s.writeJSON(w, r, http.StatusOK, nodes[start:end])
		return
	}
	start := 0
	if tok := q.Get("page_token"); tok != "" {
		raw, err := hex.DecodeString(tok)
		if err != nil {
			s.paramError(w, r, "page_token is invalid")
			return
		}
		start = len(nodes)
		if i := slices.IndexFunc(nodes, func(n treeNode) bool { return n.Path == string(raw) }); i >= 0 {
			start = i + 1
		}
	}
	end := min(start+s.perPage(r), len(nodes))
	if end < len(nodes) {
		s.keysetNext(w, r, "page_token", hex.EncodeToString([]byte(nodes[end-1].Path)))
	}
	s.writeJSON(w, r, http.StatusOK, nodes[start:end])
}

// archiveFormats maps the archive path segment to its format.
var archiveFormats = map[string]string{
	"archive": "tar.gz", "archive.tar.gz": "tar.gz", "archive.tgz": "tar.gz", "archive.gz": "tar.gz",
	"archive.tar": "tar", "archive.zip": "zip",
}

// getArchive serves GET repository/archive[.format]?sha=&path=, as GitLab
// and Workhorse do: the top directory is "<project>-<ref>-<sha>", plus
// "-<path with / as ->" when a path is given, and the files keep their
// full repository paths under it (git archive --prefix). A tar carries
// git's pax global header with the commit id. A missing ref is 404 File
// Not Found; a missing path 404 from Workhorse.
func (s *Server) getArchive(w http.ResponseWriter, r *http.Request, pr *project) {
	format, ok := archiveFormats[r.PathValue("archive")]
	if !ok {
		s.writeJSON(w, r, http.StatusNotFound, map[string]any{"error": "404 Not Found"})
		return
	}
	if m := r.Header.Get("Sec-Fetch-Mode"); m == "cors" || m == "no-cors" || m == "websocket" {
		// Gitlab::HotlinkingDetector.
		s.message(w, r, http.StatusNotAcceptable, "406 Not Acceptable")
		return
	}
	q := r.URL.Query()
	ref := cmp.Or(q.Get("sha"), pr.DefaultBranch)
	c := pr.repo.Resolve(ref)
	if c == nil {
		s.notFound(w, r, "File")
		return
	}
	dir := strings.Trim(q.Get("path"), "/")
	var files []fake.File
	for _, p := range slices.Sorted(maps.Keys(c.Files)) {
		if repostore.Within(p, dir) {
			files = append(files, fake.File{Path: p, Content: c.Files[p].Content, Executable: c.Files[p].Exec})
		}
	}
	if dir != "" && len(files) == 0 {
		writeText(w, http.StatusNotFound, "Not Found\n")
		return
	}
	prefix := pr.Path + "-" + strings.ReplaceAll(ref, "/", "-") + "-" + c.ID
	if dir != "" {
		prefix += "-" + strings.ReplaceAll(dir, "/", "-")
	}
	a := &fake.Archive{Commit: c.ID, Prefix: prefix + "/", ModTime: c.When, Files: files}
	var buf bytes.Buffer
	var err error
	if format == "zip" {
		err = a.WriteZip(&buf, 0o775, true)
	} else {
		err = writeTar(&buf, a, format == "tar.gz")
	}
	if err != nil {
		s.message(w, r, http.StatusInternalServerError, "500 Internal Server Error")
		return
	}
	s.commonHeaders(w)
	h := w.Header()
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": prefix + "." + format}))
	h.Set("Content-Transfer-Encoding", "binary")
	h.Set("Cache-Control", "private")
	fake.Write(w, r, http.StatusOK, "application/octet-stream", buf.Bytes())
}

// writeTar writes a as git archive does: a pax global header holding the
// commit id, the prefix's directory, then each file preceded by those of
// its parent directories not yet written. Directories and executable
// files are 0775, other files 0664.
func writeTar(out io.Writer, a *fake.Archive, gz bool) error {
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(out)
		out = zw
	}
	tw := tar.NewWriter(out)
	err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header",
		PAXRecords: map[string]string{"comment": a.Commit}, Format: tar.FormatPAX})
	put := func(name string, typ byte, mode int64, content []byte) {
		err = cmp.Or(err, tw.WriteHeader(&tar.Header{Typeflag: typ, Name: a.Prefix + name, Mode: mode,
			Size: int64(len(content)), ModTime: a.ModTime}))
		if err == nil {
			_, err = tw.Write(content)
		}
	}
	put("", tar.TypeDir, 0o775, nil)
	written := map[string]bool{}
	for _, f := range a.Files {
		var dirs []string
		for d := path.Dir(f.Path); d != "." && !written[d]; d = path.Dir(d) {
			written[d] = true
			dirs = append([]string{d}, dirs...)
		}
		for _, d := range dirs {
			put(d+"/", tar.TypeDir, 0o775, nil)
		}
		put(f.Path, tar.TypeReg, map[bool]int64{false: 0o664, true: 0o775}[f.Executable], f.Content)
	}
	err = cmp.Or(err, tw.Close())
	if zw != nil {
		err = cmp.Or(err, zw.Close())
	}
	return err
}

func (s *Server) commitJSON(r *http.Request, pr *project, c *repostore.Commit) map[string]any {
	parents := c.Parents
	if parents == nil {
		parents = []string{}
	}
	title, _, _ := strings.Cut(c.Message, "\n")
	return map[string]any{"id": c.ID, "short_id": c.ID[:8], "created_at": ts(c.When), "parent_ids": parents,
		"title": title, "message": c.Message, "author_name": c.Author, "author_email": c.Email,
		"authored_date": ts(c.When), "committer_name": c.Author, "committer_email": c.Email,
		"committed_date": ts(c.When), "trailers": map[string]any{}, "extended_trailers": map[string]any{},
		"web_url": s.webURL(r) + "/" + pr.fullPath() + "/-/commit/" + c.ID}
}

func (s *Server) branchJSON(r *http.Request, pr *project, name string) map[string]any {
	c := pr.repo.Commits[pr.repo.Branches[name]]
	return map[string]any{"name": name, "commit": s.commitJSON(r, pr, c), "merged": false, "protected": name == pr.DefaultBranch,
		"developers_can_push": false, "developers_can_merge": false, "can_push": authenticated(r),
		"default": name == pr.DefaultBranch, "web_url": s.webURL(r) + "/" + pr.fullPath() + "/-/tree/" + name}
}

func (s *Server) getBranch(w http.ResponseWriter, r *http.Request, pr *project) {
	name := r.PathValue("branch")
	if _, ok := pr.repo.Branches[name]; !ok {
		s.notFound(w, r, "Branch")
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.branchJSON(r, pr, name))
}

// params decodes the request's parameters into v and answers Grape's 400
// for a body it cannot read ("body is invalid"), or for the first of the
// required parameters whose value is "" ("<name> is missing"); required
// alternates names and pointers to the decoded values.
func (s *Server) params(w http.ResponseWriter, r *http.Request, v any, required ...any) bool {
	if decodeParams(r, v) != nil {
		s.paramError(w, r, "body is invalid")
		return false
	}
	for i := 0; i < len(required); i += 2 {
		if *required[i+1].(*string) == "" {
			s.paramError(w, r, required[i].(string)+" is missing")
			return false
		}
	}
	return true
}

// decodeParams reads a JSON body, or a form, into a map of strings.
func decodeParams(r *http.Request, v any) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return json.NewDecoder(http.MaxBytesReader(nil, r.Body, 200<<20)).Decode(v)
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	m := map[string]any{}
	for k, vs := range r.Form {
		m[k] = vs[0]
	}
	b, _ := json.Marshal(m)
	return json.Unmarshal(b, v)
}

func (s *Server) createBranch(w http.ResponseWriter, r *http.Request, pr *project) {
	var in struct {
		Branch string `json:"branch"`
		Ref    string `json:"ref"`
	}
	if !s.params(w, r, &in, "branch", &in.Branch, "ref", &in.Ref) {
		return
	}
	c := pr.repo.Resolve(in.Ref)
	_, exists := pr.repo.Branches[in.Branch]
	switch {
	case c == nil:
		s.message(w, r, http.StatusBadRequest, "Invalid reference name: "+in.Ref)
	case exists:
		s.message(w, r, http.StatusBadRequest, "Branch already exists")
	default:
		pr.repo.Branches[in.Branch] = c.ID
		s.writeJSON(w, r, http.StatusCreated, s.branchJSON(r, pr, in.Branch))
	}
}

// createCommit serves POST repository/commits with Files::MultiService's
// checks: every action is validated before anything is written, so a
// failed commit changes nothing.
func (s *Server) createCommit(w http.ResponseWriter, r *http.Request, pr *project) {
	c, problem := s.commitActions(r, pr)
	if problem != nil {
		s.writeJSON(w, r, http.StatusBadRequest, problem)
		return
	}
	out := s.commitJSON(r, pr, c)
	out["stats"] = map[string]any{"additions": 0, "deletions": 0, "total": 0}
	out["status"], out["project_id"], out["last_pipeline"] = nil, pr.id, nil
	s.writeJSON(w, r, http.StatusCreated, out)
}

// commitActions makes the commit, or returns the body of the 400 answer:
// Grape's parameter error {"error": msg} or GitLab's {"message": msg}.
func (s *Server) commitActions(r *http.Request, pr *project) (*repostore.Commit, map[string]any) {
	var in struct {
		Branch        string `json:"branch"`
		CommitMessage string `json:"commit_message"`
		StartBranch   string `json:"start_branch"`
		StartSHA      string `json:"start_sha"`
		Actions       []struct {
			Action          string  `json:"action"`
			FilePath        string  `json:"file_path"`
			PreviousPath    string  `json:"previous_path"`
			Content         *string `json:"content"`
			Encoding        string  `json:"encoding"`
			LastCommitID    string  `json:"last_commit_id"`
			ExecuteFilemode *bool   `json:"execute_filemode"`
		} `json:"actions"`
		AuthorName  string `json:"author_name"`
		AuthorEmail string `json:"author_email"`
		Force       bool   `json:"force"`
	}
	param := func(format string, a ...any) map[string]any {
		return map[string]any{"error": fmt.Sprintf(format, a...)}
	}
	fail := func(msg string) map[string]any { return map[string]any{"message": msg} }
	switch {
	case decodeParams(r, &in) != nil:
		return nil, param("actions is invalid")
	case in.Branch == "":
		return nil, param("branch is missing")
	case in.CommitMessage == "":
		return nil, param("commit_message is missing")
	case len(in.Actions) == 0:
		return nil, param("actions is missing")
	case in.StartBranch != "" && in.StartSHA != "":
		return nil, param("start_branch, start_sha are mutually exclusive")
	}
	for i, a := range in.Actions {
		switch {
		case !slices.Contains([]string{"create", "delete", "move", "update", "chmod"}, a.Action):
			return nil, param("actions[%d][action] does not have a valid value", i)
		case a.FilePath == "":
			return nil, param("actions[%d][file_path] is missing", i)
		case a.Encoding != "" && a.Encoding != "text" && a.Encoding != "base64":
			return nil, param("actions[%d][encoding] does not have a valid value", i)
		}
	}
	_, branchExists := pr.repo.Branches[in.Branch]
	var parent *repostore.Commit
	switch {
	case in.StartSHA != "":
		if parent = pr.repo.Resolve(in.StartSHA); parent == nil || !strings.HasPrefix(parent.ID, in.StartSHA) {
			return nil, fail("Invalid start SHA: " + in.StartSHA)
		}
	case in.StartBranch != "":
		if parent = pr.repo.Commits[pr.repo.Branches[in.StartBranch]]; parent == nil {
			return nil, fail("Invalid start branch name: " + in.StartBranch)
		}
	case branchExists:
		parent = pr.repo.Commits[pr.repo.Branches[in.Branch]]
	case len(pr.repo.Branches) > 0:
		return nil, fail("You can only create or edit files when you are on a branch")
	}
	if startRef := cmp.Or(in.StartBranch, in.StartSHA); branchExists && startRef != "" && startRef != in.Branch && !in.Force {
		return nil, fail("A branch called '" + in.Branch + "' already exists. Switch to that branch in order to make changes")
	}
	files := parent.Snapshot()
	for _, a := range in.Actions {
		if !fs.ValidPath(a.FilePath) || a.FilePath == "." {
			return nil, fail("Your changes could not be committed, because the file path is invalid: " + a.FilePath)
		}
		old, exists := files[a.FilePath]
		if a.LastCommitID != "" && parent != nil && exists && pr.lastCommitFor(parent, a.FilePath) != a.LastCommitID {
			return nil, fail("The file has changed since you started editing it: " + a.FilePath)
		}
		if a.Action == "move" {
			if exists {
				return nil, fail("A file with this name already exists")
			}
			old, exists = files[a.PreviousPath]
			exists = exists && a.PreviousPath != ""
			delete(files, a.PreviousPath)
		}
		switch {
		case a.Action == "create" && (exists || fake.IsDir(files, a.FilePath)):
			return nil, fail("A file with this name already exists")
		case a.Action != "delete" && fileInTheWay(files, a.FilePath):
			// Git cannot hold a file and a directory at one path:
			// GitLab refuses the commit.
			return nil, fail("A file with this name already exists")
		case a.Action != "create" && !exists:
			return nil, fail("A file with this name doesn't exist")
		case a.Action == "update" && a.Content == nil:
			return nil, param("content is missing")
		}
		if a.ExecuteFilemode != nil {
			old.Exec = *a.ExecuteFilemode
		}
		if (a.Content != nil || a.Action == "create") && a.Action != "chmod" {
			text := *cmp.Or(a.Content, new(string))
			content := []byte(text)
			if a.Encoding == "base64" {
				var err error
				if content, err = base64.StdEncoding.DecodeString(text); err != nil {
					return nil, fail("Your changes could not be committed, because the content of " + a.FilePath + " is not valid base64")
				}
			}
			old = repostore.NewEntry(content, old.Exec)
		}
		if a.Action == "delete" {
			delete(files, a.FilePath)
		} else {
			files[a.FilePath] = old
		}
	}
	c := &repostore.Commit{Message: in.CommitMessage, Author: cmp.Or(in.AuthorName, s.actor(r)),
		Email: cmp.Or(in.AuthorEmail, s.actor(r)+"@example.com"), When: s.now(), Files: files}
	s.git.Put(pr.repo, in.Branch, parent, c)
	return c, nil
}

func (s *Server) mergeRequestJSON(r *http.Request, pr *project, m *mergeRequest) map[string]any {
	var closedAt, mergedAt any
	if m.State == "closed" {
		closedAt = ts(m.updated)
	}
	if m.State == "merged" {
		mergedAt = ts(m.updated)
	}
	ref := "!" + strconv.Itoa(m.IID)
	return map[string]any{
		"id": m.id, "iid": m.IID, "project_id": pr.id, "title": m.Title, "description": m.Description,
		"state": m.State, "created_at": ts(m.created), "updated_at": ts(m.updated),
		"merged_by": nil, "merge_user": nil, "merged_at": mergedAt, "closed_by": nil, "closed_at": closedAt,
		"target_branch": m.TargetBranch, "source_branch": m.SourceBranch, "user_notes_count": 0, "upvotes": 0, "downvotes": 0,
		"author": s.userJSONOf(r, m.author), "assignee": nil, "assignees": []any{}, "reviewers": []any{},
		"source_project_id": sourceOf(pr, m).id, "target_project_id": pr.id, "labels": []string{},
		"draft": isDraft(m.Title), "work_in_progress": isDraft(m.Title), "milestone": nil,
		"merge_when_pipeline_succeeds": false, "merge_status": "can_be_merged", "detailed_merge_status": "mergeable",
		"sha": sourceOf(pr, m).repo.Branches[m.SourceBranch], "merge_commit_sha": nil, "squash_commit_sha": nil,
		"discussion_locked": nil, "should_remove_source_branch": nil, "force_remove_source_branch": m.removeSource,
		"reference": ref, "references": map[string]any{"short": ref, "relative": ref, "full": pr.fullPath() + ref},
		"web_url":    s.webURL(r) + "/" + pr.fullPath() + "/-/merge_requests/" + strconv.Itoa(m.IID),
		"time_stats": map[string]any{"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": nil, "human_total_time_spent": nil},
		"squash":     m.squash, "squash_on_merge": m.squash, "task_completion_status": map[string]any{"count": 0, "completed_count": 0},
		"has_conflicts": false, "blocking_discussions_resolved": true, "changes_count": changesCount(pr, m),
		"allow_collaboration": false, "allow_maintainer_to_push": false,
	}
}

func (s *Server) listMergeRequests(w http.ResponseWriter, r *http.Request, pr *project) {
	q := r.URL.Query()
	state := cmp.Or(q.Get("state"), "all")
	if !slices.Contains([]string{"opened", "closed", "locked", "merged", "all"}, state) {
		s.paramError(w, r, "state does not have a valid value")
		return
	}
	var list []*mergeRequest
	for _, m := range slices.Backward(pr.mrs) { // newest first (created_at desc)
		if (state == "all" || m.State == state) &&
			(q.Get("source_branch") == "" || m.SourceBranch == q.Get("source_branch")) &&
			(q.Get("target_branch") == "" || m.TargetBranch == q.Get("target_branch")) {
			list = append(list, m)
		}
	}
	start, end := s.offsetPage(w, r, len(list))
	out := []any{}
	for _, m := range list[start:end] {
		out = append(out, s.mergeRequestJSON(r, pr, m))
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) getMergeRequest(w http.ResponseWriter, r *http.Request, pr *project) {
	iid, _ := strconv.Atoi(r.PathValue("iid"))
	for _, m := range pr.mrs {
		if m.IID == iid {
			s.writeJSON(w, r, http.StatusOK, s.mergeRequestJSON(r, pr, m))
			return
		}
	}
	s.notFound(w, r, "")
}

// createMergeRequest serves POST merge_requests, with GitLab's 409 when an
// open merge request from the same source branch exists.
func (s *Server) createMergeRequest(w http.ResponseWriter, r *http.Request, pr *project) {
	var in struct {
		SourceBranch       string `json:"source_branch"`
		TargetBranch       string `json:"target_branch"`
		Title              string `json:"title"`
		Description        string `json:"description"`
		RemoveSourceBranch bool   `json:"remove_source_branch"`
		Squash             bool   `json:"squash"`
	}
	if !s.params(w, r, &in, "source_branch", &in.SourceBranch, "target_branch", &in.TargetBranch, "title", &in.Title) {
		return
	}
	var problems []string
	if in.SourceBranch == in.TargetBranch {
		problems = append(problems, "You can't use same project/branch for source and target")
	}
	if _, ok := pr.repo.Branches[in.SourceBranch]; !ok {
		problems = append(problems, "Source branch \""+in.SourceBranch+"\" does not exist")
	}
	if _, ok := pr.repo.Branches[in.TargetBranch]; !ok {
		problems = append(problems, "Target branch \""+in.TargetBranch+"\" does not exist")
	}
	if len(problems) > 0 {
		s.message(w, r, http.StatusUnprocessableEntity, problems)
		return
	}
	for _, m := range pr.mrs {
		// Only the project's own branch conflicts: a fork's merge
		// request from a branch of the same name is another branch.
		if m.State == "opened" && m.source == nil && m.SourceBranch == in.SourceBranch && m.TargetBranch == in.TargetBranch {
			s.message(w, r, http.StatusConflict, []string{"Another open merge request already exists for this source branch: !" + strconv.Itoa(m.IID)})
			return
		}
	}
	now := s.now()
	m := &mergeRequest{MergeRequest: MergeRequest{IID: len(pr.mrs) + 1, Title: in.Title, Description: in.Description,
		SourceBranch: in.SourceBranch, TargetBranch: in.TargetBranch, State: "opened"},
		id: s.newID(), created: now, updated: now, author: s.actor(r), removeSource: in.RemoveSourceBranch, squash: in.Squash}
	pr.mrs = append(pr.mrs, m)
	s.writeJSON(w, r, http.StatusCreated, s.mergeRequestJSON(r, pr, m))
}

// lookupNamespace finds the {id} namespace (numeric id or full path) of
// the given kind ("" for any), answering 404 <What> Not Found otherwise.
func (s *Server) lookupNamespace(w http.ResponseWriter, r *http.Request, kind, what string) *namespace {
	id := r.PathValue("id")
	ns := s.namespaces[strings.ToLower(id)]
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		ns = s.namespaceByID(n)
	}
	if ns == nil || (kind != "" && ns.kind != kind) {
		s.notFound(w, r, what)
		return nil
	}
	return ns
}

// namespaceByID returns the namespace with id, or nil.
func (s *Server) namespaceByID(id int64) *namespace {
	for _, ns := range s.namespaces {
		if ns.id == id {
			return ns
		}
	}
	return nil
}

// inNamespace adapts a handler of the namespace named by the {id} path
// value, of kind ("" for any), which it calls with s.mu held;
// lookupNamespace answers 404 <what> Not Found when there is none.
func (s *Server) inNamespace(kind, what string, h func(http.ResponseWriter, *http.Request, *namespace)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if ns := s.lookupNamespace(w, r, kind, what); ns != nil {
			h(w, r, ns)
		}
	}
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, ns *namespace) {
	s.writeJSON(w, r, http.StatusOK, map[string]any{"id": ns.id, "name": ns.name, "path": path.Base(ns.fullPath),
		"description": "", "visibility": "private", "full_name": strings.ReplaceAll(ns.fullPath, "/", " / "),
		"full_path": ns.fullPath, "parent_id": ns.parentID(), "web_url": ns.webURL(s.webURL(r)),
		"created_at": ts(s.now())})
}

// projectsUnder returns the projects r may see in ns (and, with subgroups,
// in its descendants), by id.
func (s *Server) projectsUnder(r *http.Request, ns *namespace, subgroups bool) []*project {
	var out []*project
	for _, pr := range s.byID {
		if !visible(r, pr) {
			continue
		}
		in := pr.ns == ns
		if !in && subgroups {
			for p := pr.ns.parent; p != nil && !in; p = p.parent {
				in = p == ns
			}
		}
		if in {
			out = append(out, pr)
		}
	}
	slices.SortFunc(out, func(a, b *project) int { return cmp.Compare(a.id, b.id) })
	return out
}

// groupProjects lists the projects of a group (and its subgroups with
// include_subgroups=true) and, unless with_shared=false (GitLab's default
// is true), the projects of other namespaces shared with the group.
func (s *Server) groupProjects(w http.ResponseWriter, r *http.Request, ns *namespace) {
	list := s.projectsUnder(r, ns, r.URL.Query().Get("include_subgroups") == "true")
	if r.URL.Query().Get("with_shared") != "false" {
		for _, pr := range s.byID {
			if visible(r, pr) && !slices.Contains(list, pr) && slices.ContainsFunc(s.grants[pr.id], func(g Grant) bool {
				return strings.EqualFold(g.Group, ns.fullPath)
			}) {
				list = append(list, pr)
			}
		}
		slices.SortFunc(list, func(a, b *project) int { return cmp.Compare(a.id, b.id) })
	}
	s.listProjects(w, r, list, s.projectJSON)
}

func (s *Server) userProjects(w http.ResponseWriter, r *http.Request, ns *namespace) {
	s.listProjects(w, r, s.projectsUnder(r, ns, false), s.projectAnswer)
}

// listProjects writes a page of projects (sorted by id). With
// pagination=keyset&order_by=id it pages with id_after and Link
// rel="next"; otherwise with offsets (order created_at desc, GitLab's
// default, unless order_by=id).
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request, list []*project, answer func(*http.Request, *project) map[string]any) {
	q := r.URL.Query()
	if q.Get("archived") != "" {
		want := q.Get("archived") == "true"
		list = slices.DeleteFunc(list, func(p *project) bool { return p.Archived != want })
	}
	desc := q.Get("sort") != "asc"
	if q.Get("pagination") == "keyset" && !s.opts.NoKeyset {
		if q.Get("order_by") != "id" {
			s.message(w, r, http.StatusMethodNotAllowed, "405 Method Not Allowed")
			return
		}
		if desc {
			slices.Reverse(list)
		}
		after, _ := strconv.ParseInt(cmp.Or(q.Get("id_after"), q.Get("id_before")), 10, 64)
		list = slices.DeleteFunc(list, func(p *project) bool { return after != 0 && (desc && p.id >= after || !desc && p.id <= after) })
		if per := s.perPage(r); len(list) > per {
			list = list[:per]
			s.keysetNext(w, r, map[bool]string{true: "id_before", false: "id_after"}[desc], strconv.FormatInt(list[per-1].id, 10))
		}
	} else {
		if q.Get("order_by") != "id" || desc {
			slices.Reverse(list)
		}
		start, end := s.offsetPage(w, r, len(list))
		list = list[start:end]
	}
	out := []any{}
	for _, pr := range list {
		out = append(out, answer(r, pr))
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// changesCount is the number of files that differ between the merge
// request's branches, as the string GitLab sends ("0" when either branch
// is gone).
func changesCount(pr *project, m *mergeRequest) string {
	sp := sourceOf(pr, m)
	src, dst := sp.repo.Commits[sp.repo.Branches[m.SourceBranch]], pr.repo.Commits[pr.repo.Branches[m.TargetBranch]]
	if src == nil || dst == nil {
		return "0"
	}
	return strconv.Itoa(len(repostore.Changed(src, dst)))
}

// fileInTheWay reports whether a parent directory of p is a file in
// files.
func fileInTheWay[V any](files map[string]V, p string) bool {
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		if _, ok := files[dir]; ok {
			return true
		}
	}
	return false
}
