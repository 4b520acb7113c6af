package fakebitbucketserver

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

func (s *Server) routes(mux *http.ServeMux) {
	s.st.HandleOwner(mux, "GET /projects/{key}/repos", s.listRepos)
	s.st.HandleOwner(mux, "POST /projects/{key}/repos", s.createRepo)
	s.st.HandleRepos(mux, "/projects/{key}/repos/{slug}", s.accessRoutes()) // access.go
	s.st.HandleRepos(mux, "/projects/{key}/repos/{slug}", map[string]func(http.ResponseWriter, *http.Request, *repostore.Repo){
		"GET ":                  s.getRepo,
		"GET /default-branch":   s.defaultBranch,
		"GET /branches":         s.listBranches,
		"POST /branches":        s.createBranch,
		"GET /raw/{path...}":    s.raw,
		"GET /browse":           s.browse,
		"GET /browse/{path...}": s.browse,
		"PUT /browse/{path...}": s.editFile,
		"GET /files":            s.files,
		"GET /files/{path...}":  s.files,
		"GET /archive":          s.archive,
		"GET /commits":          s.listCommits,
		"GET /pull-requests":    s.listPulls,
		"POST /pull-requests":   s.createPull,
	})
}

// ---- JSON shapes (from the recorded bodies) ----

func link(href string) []map[string]string { return []map[string]string{{"href": href}} }

func (s *Server) projectJSON(p *repostore.Owner) map[string]any {
	m := map[string]any{"key": p.Key, "id": p.ID, "name": p.Name, "description": p.Description, "public": false, "type": "NORMAL",
		"links": map[string]any{"self": link(s.URL() + "/projects/" + p.Key)}}
	if user, ok := strings.CutPrefix(p.Key, "~"); ok {
		m["type"] = "PERSONAL"
		m["links"] = map[string]any{"self": link(s.URL() + "/users/" + user)}
	}
	return m
}

func (s *Server) repoJSON(rp *repostore.Repo) map[string]any {
	keyPath := strings.ToLower(rp.Owner.Key)
	m := map[string]any{
		"slug": rp.Slug, "id": rp.ID, "name": rp.Name, "hierarchyId": fmt.Sprintf("%020x", rp.ID),
		"scmId": "git", "state": "AVAILABLE", "statusMessage": "Available", "forkable": true,
		"defaultBranch": rp.DefaultBranch, "archived": rp.Archived,
		"project": s.projectJSON(rp.Owner), "public": rp.Public,
		"links": map[string]any{
			"clone": []map[string]string{
				// Bitbucket names the caller in the HTTP clone URL
				// (http://admin@host/scm/...; the cdancy and Jenkins
				// recordings in fixtures/).
				{"href": strings.Replace(s.URL(), "://", "://"+url.PathEscape(s.opts.User)+"@", 1) + "/scm/" + keyPath + "/" + rp.Slug + ".git", "name": "http"},
				{"href": "ssh://git@" + strings.Split(s.Host(), ":")[0] + ":7999/" + keyPath + "/" + rp.Slug + ".git", "name": "ssh"},
			},
			"self": link(s.URL() + "/projects/" + rp.Owner.Key + "/repos/" + rp.Slug + "/browse"),
		},
	}
	if rp.Description != "" {
		m["description"] = rp.Description
	}
	return m
}

func branchJSON(rp *repostore.Repo, name string) map[string]any {
	id := rp.Branches[name]
	return map[string]any{"id": "refs/heads/" + name, "displayId": name, "type": "BRANCH", "latestCommit": id,
		"latestChangeset": id, "isDefault": name == rp.DefaultBranch}
}

func commitJSON(c *repostore.Commit) map[string]any {
	person := map[string]any{"name": c.Author, "emailAddress": c.Author + "@example.com"}
	parents := []any{}
	for _, p := range c.Parents {
		parents = append(parents, map[string]any{"id": p, "displayId": p[:11]})
	}
	ms := c.When.UnixMilli()
	return map[string]any{"id": c.ID, "displayId": c.ID[:11], "author": person, "authorTimestamp": ms,
		"committer": person, "committerTimestamp": ms, "message": c.Message, "parents": parents}
}

func (s *Server) pullJSON(rp *repostore.Repo, p *repostore.Pull) map[string]any {
	ref := func(b string) map[string]any {
		return map[string]any{"id": "refs/heads/" + b, "displayId": b, "latestCommit": rp.Branches[b], "type": "BRANCH",
			"repository": s.repoJSON(rp)}
	}
	user := s.opts.User
	ms := p.Created.UnixMilli()
	return map[string]any{
		"id": p.ID, "version": 0, "title": p.Title, "description": p.Description, "state": p.State,
		"open": p.State == "OPEN", "closed": p.State != "OPEN", "draft": p.Draft, "createdDate": ms, "updatedDate": ms,
		"fromRef": ref(p.From), "toRef": ref(p.To), "locked": false,
		"author": map[string]any{"role": "AUTHOR", "approved": false, "status": "UNAPPROVED", "user": map[string]any{
			"name": user, "emailAddress": user + "@example.com", "id": 1, "displayName": user, "active": true, "slug": user,
			"type": "NORMAL", "links": map[string]any{"self": link(s.URL() + "/users/" + user)}}},
		"reviewers":    []any{},
		"participants": []any{},
		"links":        map[string]any{"self": link(s.prWebURL(rp, p.ID))},
	}
}

// ---- lookups ----

// commitAt resolves the request's at= parameter, answering 404 when it
// names nothing.
func (s *Server) commitAt(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, param string) *repostore.Commit {
	at := r.URL.Query().Get(param)
	c := rp.Resolve(at)
	if c == nil {
		s.writeError(w, r, http.StatusNotFound, exNoSuchCommit,
			fmt.Sprintf("Commit '%s' does not exist in repository '%s'.", cmp.Or(at, rp.DefaultBranch), rp.Slug))
	}
	return c
}

// pathAt resolves the request's {path} and at=, answering 400 or 404 when
// they do not name something that exists: file reports whether p is a
// file (else a directory; root allows "" for the root).
func (s *Server) pathAt(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, root bool) (c *repostore.Commit, p string, file bool) {
	p, ok := cleanPath(r.PathValue("path"))
	if !ok || !root && p == "" {
		msg := "The path parameter was not supplied."
		if root {
			msg = "Invalid path"
		}
		s.writeError(w, r, http.StatusBadRequest, "", msg)
		return nil, "", false
	}
	if c = s.commitAt(w, r, rp, "at"); c == nil {
		return nil, "", false
	}
	if _, file = c.Files[p]; !file && !fake.IsDir(c.Files, p) {
		s.noSuchPath(w, r, p, c)
		return nil, "", false
	}
	return c, p, file
}

func (s *Server) noSuchPath(w http.ResponseWriter, r *http.Request, p string, c *repostore.Commit) {
	s.writeError(w, r, http.StatusNotFound, exNoSuchPath, fmt.Sprintf("The path \"%s\" does not exist at revision \"%s\"", p, c.ID))
}

// cleanPath turns a request path into a repository path: "" for the root.
func cleanPath(p string) (string, bool) {
	if p = strings.Trim(p, "/"); p == "" {
		return "", true
	}
	return path.Clean(p), fs.ValidPath(p)
}

// ---- handlers ----

func (s *Server) listRepos(w http.ResponseWriter, r *http.Request, p *repostore.Owner) {
	repos := slices.SortedFunc(maps.Values(p.Repos), func(a, b *repostore.Repo) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	s.writeJSON(w, r, http.StatusOK, paginate(r, len(repos), 1000, func(i int) any { return s.repoJSON(repos[i]) }))
}

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	s.writeJSON(w, r, http.StatusOK, s.repoJSON(rp))
}

func (s *Server) defaultBranch(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	s.writeJSON(w, r, http.StatusOK, map[string]any{"id": "refs/heads/" + rp.DefaultBranch, "displayId": rp.DefaultBranch, "type": "BRANCH"})
}

func (s *Server) listBranches(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	q := r.URL.Query()
	filter := strings.ToLower(q.Get("filterText"))
	rank := func(n string) int {
		if l := strings.ToLower(n); q.Get("boostMatches") != "true" || l == filter {
			return 0
		} else if strings.HasPrefix(l, filter) {
			return 1
		}
		return 2
	}
	var items []any
	for _, n := range slices.SortedFunc(maps.Keys(rp.Branches), func(a, b string) int { return cmp.Or(rank(a)-rank(b), strings.Compare(a, b)) }) {
		if strings.Contains(strings.ToLower(n), filter) {
			items = append(items, branchJSON(rp, n))
		}
	}
	s.writeJSON(w, r, http.StatusOK, values(r, items, 1000))
}

// decode reads a JSON body into v, answering 400 when it cannot.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(v); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "", "Unexpected character in request body: "+err.Error())
		return false
	}
	return true
}

func (s *Server) createBranch(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	var body struct {
		Name       string `json:"name"`
		StartPoint string `json:"startPoint"`
	}
	if !s.decode(w, r, &body) {
		return
	}
	name := strings.TrimPrefix(body.Name, "refs/heads/")
	c := rp.Resolve(body.StartPoint)
	if _, exists := rp.Branches[name]; !repostore.ValidBranchName(name) {
		s.writeError(w, r, http.StatusBadRequest, exInvalidRef, fmt.Sprintf("'%s' is an invalid ref name.", body.Name))
	} else if exists {
		s.writeError(w, r, http.StatusConflict, exPrefix+"repository.DuplicateRefException",
			fmt.Sprintf("Branch '%s' already exists in repository '%s'.", name, rp.Slug))
	} else if c == nil || body.StartPoint == "" {
		s.writeError(w, r, http.StatusNotFound, exNoSuchCommit, fmt.Sprintf("Commit '%s' does not exist in repository '%s'.", body.StartPoint, rp.Slug))
	} else {
		rp.Branches[name] = c.ID
		s.writeJSON(w, r, http.StatusOK, branchJSON(rp, name))
	}
}

func (s *Server) raw(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	c, p, file := s.pathAt(w, r, rp, false)
	if c == nil {
		return
	} else if !file {
		s.noSuchPath(w, r, p, c)
		return
	}
	e := c.Files[p]
	s.commonHeaders(w)
	if repostore.NotModified(w, r, `"`+e.Blob+`"`) {
		s.st.Core.Log().Count(func(st *Stats) { st.NotModified++ })
		return
	}
	ct := "text/plain;charset=UTF-8"
	if !utf8.Valid(e.Content) || bytes.IndexByte(e.Content, 0) >= 0 {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Disposition", "inline; filename=\""+path.Base(p)+"\"; filename*=UTF-8''"+url.PathEscape(path.Base(p)))
	fake.Write(w, r, http.StatusOK, ct, e.Content)
}

// browse answers GET .../browse/{path}?type=true with the path's type,
// and GET .../browse/{dir} (the root without a path) with a page of the
// directory's own entries, directories first, each by name, in
// "children"; the fake does not page a file's lines.
func (s *Server) browse(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	c, p, file := s.pathAt(w, r, rp, true)
	switch {
	case c == nil:
	case r.URL.Query().Get("type") == "true":
		t := "DIRECTORY"
		if file {
			t = "FILE"
		}
		s.writeJSON(w, r, http.StatusOK, map[string]any{"type": t})
	case file:
		s.writeError(w, r, http.StatusNotImplemented, "", "The fake does not page a file's lines.")
	default:
		s.writeJSON(w, r, http.StatusOK, map[string]any{"path": pathJSON(p), "revision": r.URL.Query().Get("at"),
			"children": values(r, children(c, p), 1000)})
	}
}

// pathJSON is Bitbucket's path object.
func pathJSON(p string) map[string]any {
	comps := []string{}
	if p != "" {
		comps = strings.Split(p, "/")
	}
	name := ""
	if len(comps) > 0 {
		name = comps[len(comps)-1]
	}
	return map[string]any{"components": comps, "parent": strings.Join(comps[:max(len(comps)-1, 0)], "/"), "name": name,
		"toString": p}
}

// children lists dir's own entries at c: directories first, then files
// and submodules (their type), each named relative to dir.
func children(c *repostore.Commit, dir string) []map[string]any {
	dirs, files := map[string]bool{}, map[string]repostore.Entry{}
	for _, fp := range repostore.Under(c.Files, dir) {
		if dir != "" {
			fp = strings.TrimPrefix(fp, dir+"/")
		}
		if first, _, ok := strings.Cut(fp, "/"); ok {
			dirs[first] = true
		} else {
			files[fp] = c.Files[path.Join(dir, fp)]
		}
	}
	var out []map[string]any
	for _, n := range slices.Sorted(maps.Keys(dirs)) {
		out = append(out, map[string]any{"path": pathJSON(n), "type": "DIRECTORY"})
	}
	for _, n := range slices.Sorted(maps.Keys(files)) {
		e, t := files[n], "FILE"
		if e.Special == gitobj.ModeCommit {
			t = "SUBMODULE"
		}
		out = append(out, map[string]any{"path": pathJSON(n), "contentId": e.Blob, "type": t, "size": len(e.Content)})
	}
	return out
}

func (s *Server) files(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	c, p, file := s.pathAt(w, r, rp, true)
	if c == nil {
		return
	} else if file {
		s.writeError(w, r, http.StatusBadRequest, "", fmt.Sprintf("The path \"%s\" is not a directory at revision \"%s\"", p, c.ID))
		return
	}
	var items []any
	for _, fp := range repostore.Under(c.Files, p) {
		if p != "" {
			fp = strings.TrimPrefix(fp, p+"/")
		}
		items = append(items, fp)
	}
	s.writeJSON(w, r, http.StatusOK, values(r, items, 100000))
}

func (s *Server) archive(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	c := s.commitAt(w, r, rp, "at")
	if c == nil {
		return
	}
	q := r.URL.Query()
	format := cmp.Or(q.Get("format"), "zip")
	ext := map[string]string{"zip": "zip", "tar": "tar", "tgz": "tar.gz", "tar.gz": "tar.gz"}[format]
	if ext == "" {
		s.writeError(w, r, http.StatusBadRequest, "", fmt.Sprintf("The requested format, %s, is not supported.", format))
		return
	}
	var paths []string
	for _, raw := range q["path"] {
		p, ok := cleanPath(raw)
		if !ok {
			s.writeError(w, r, http.StatusBadRequest, "", "Invalid path "+raw)
			return
		}
		if _, isFile := c.Files[p]; !isFile && !fake.IsDir(c.Files, p) {
			s.noSuchPath(w, r, p, c)
			return
		}
		paths = append(paths, p)
	}
	prefix := q.Get("prefix")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	perm := fs.FileMode(0o775) // Bitbucket's tar entries are group-writable
	if ext == "zip" {
		perm = 0o755
	}
	b, err := repostore.Pack(c, ext, prefix, perm, true, paths...)
	if err != nil {
		s.writeError(w, r, http.StatusInternalServerError, exServer, err.Error())
		return
	}
	at := q.Get("at")
	name := rp.Slug + "-" + strings.ReplaceAll(strings.TrimPrefix(cmp.Or(at, rp.DefaultBranch), "refs/heads/"), "/", "-") + "@" + c.ID[:11] + "." + ext
	if at == c.ID {
		name = rp.Slug + "-" + c.ID + "." + ext
	}
	s.commonHeaders(w)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	fake.Write(w, r, http.StatusOK, "application/octet-stream", b)
}

// listCommits answers GET .../commits?until=&path=&limit=&start=: the
// history of until (the default branch when absent), newest first,
// keeping only the commits that changed something under path when it is
// given, paged.
func (s *Server) listCommits(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	c := s.commitAt(w, r, rp, "until")
	if c == nil {
		return
	}
	all := rp.History(c, strings.Trim(r.URL.Query().Get("path"), "/"))
	s.writeJSON(w, r, http.StatusOK, paginate(r, len(all), 1000, func(i int) any { return commitJSON(all[i]) }))
}

// editFile answers PUT .../browse/{path}: one file committed on branch,
// created from sourceBranch when it does not exist yet.
func (s *Server) editFile(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	if !strings.EqualFold(r.Header.Get("X-Atlassian-Token"), "no-check") {
		s.writeError(w, r, http.StatusForbidden, exPrefix+"rest.XsrfCheckFailedException", "XSRF check failed")
		return
	}
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "", "The request is not valid multipart form data: "+err.Error())
		return
	}
	content, haveContent := []byte(r.PostFormValue("content")), r.PostForm.Has("content")
	if f, _, err := r.FormFile("content"); err == nil {
		content, err = io.ReadAll(f)
		f.Close()
		if err != nil {
			s.writeError(w, r, http.StatusBadRequest, "", "Reading the content: "+err.Error())
			return
		}
		haveContent = true
	}
	branch := strings.TrimPrefix(r.PostFormValue("branch"), "refs/heads/")
	var verrs []errorMessage
	if branch == "" {
		verrs = append(verrs, errorMessage{Context: strp("branch"), Message: "A branch is required.", ExceptionName: strp(exValidation)})
	}
	if !haveContent {
		verrs = append(verrs, errorMessage{Context: strp("content"), Message: "The content is required.", ExceptionName: strp(exValidation)})
	}
	p, ok := cleanPath(r.PathValue("path"))
	switch {
	case len(verrs) > 0:
		s.writeErrors(w, r, http.StatusBadRequest, verrs...)
		return
	case !ok || p == "":
		s.writeError(w, r, http.StatusBadRequest, "", "Invalid path")
		return
	case rp.Archived:
		s.writeError(w, r, http.StatusConflict, exPrefix+"repository.ArchivedRepositoryException",
			fmt.Sprintf("Repository '%s' is archived and cannot be modified.", rp.Slug))
		return
	}
	var base *repostore.Commit // nil: the first file of an empty repository, which creates the branch
	src := strings.TrimPrefix(r.PostFormValue("sourceBranch"), "refs/heads/")
	if id, ok := rp.Branches[branch]; ok {
		base = rp.Commits[id]
	} else if !repostore.ValidBranchName(branch) && src != "" {
		s.writeError(w, r, http.StatusBadRequest, exInvalidRef, fmt.Sprintf("'%s' is an invalid ref name.", branch))
		return
	} else if len(rp.Branches) > 0 || src != "" || !repostore.ValidBranchName(branch) {
		if base = rp.Resolve(src); base == nil || src == "" {
			s.writeError(w, r, http.StatusNotFound, exNoSuchBranch, fmt.Sprintf("Branch '%s' does not exist in repository '%s'.", cmp.Or(src, branch), rp.Slug))
			return
		}
	}
	files := map[string]repostore.Entry{}
	if base != nil {
		files = base.Files
	}
	old, exists := files[p]
	sid := r.PostFormValue("sourceCommitId")
	sc := rp.Resolve(sid)
	modified := func() bool { // since sc
		then, had := sc.Files[p]
		return had != exists || had && then.Blob != old.Blob
	}
	switch {
	case fake.IsDir(files, p):
		s.writeError(w, r, http.StatusConflict, exFileExists, fmt.Sprintf("'%s' is a directory.", p))
	case sid == "" && exists:
		s.writeError(w, r, http.StatusConflict, exFileExists,
			fmt.Sprintf("The file '%s' already exists. Provide the sourceCommitId of the file to update it.", p))
	case sid != "" && sc == nil:
		s.writeError(w, r, http.StatusNotFound, exNoSuchCommit, fmt.Sprintf("Commit '%s' does not exist in repository '%s'.", sid, rp.Slug))
	case sid != "" && modified():
		s.writeError(w, r, http.StatusConflict, exPrefix+"content.FileContentModifiedException",
			fmt.Sprintf("The file '%s' has been modified since commit %s.", p, sc.ID[:11]))
	case exists && bytes.Equal(old.Content, content):
		s.writeError(w, r, http.StatusConflict, exPrefix+"content.EditNoChangeException", fmt.Sprintf("The file '%s' was not changed: the content is the same.", p))
	default:
		msg := cmp.Or(r.PostFormValue("message"), "Edited "+p+" online with Bitbucket")
		id, _ := s.st.Write(rp, branch, base, []fake.File{{Path: p, Content: content, Executable: old.Exec}}, nil, msg)
		s.writeJSON(w, r, http.StatusOK, commitJSON(rp.Commits[id]))
	}
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	q := r.URL.Query()
	state := strings.ToUpper(cmp.Or(q.Get("state"), "OPEN"))
	at := q.Get("at")
	if at != "" && !strings.HasPrefix(at, "refs/") {
		at = "refs/heads/" + at
	}
	var items []any
	for _, p := range slices.Backward(rp.Pulls) {
		ref := "refs/heads/" + p.To
		if strings.EqualFold(q.Get("direction"), "OUTGOING") {
			ref = "refs/heads/" + p.From
		}
		if (state == "ALL" || p.State == state) && (at == "" || ref == at) {
			items = append(items, s.pullJSON(rp, p))
		}
	}
	s.writeJSON(w, r, http.StatusOK, values(r, items, 1000))
}

type refBody struct {
	ID         string `json:"id"`
	Repository *struct {
		Slug string `json:"slug"`
	} `json:"repository"`
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	var body struct {
		Title       string  `json:"title"`
		Description string  `json:"description"`
		Draft       bool    `json:"draft"`
		FromRef     refBody `json:"fromRef"`
		ToRef       refBody `json:"toRef"`
	}
	if !s.decode(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.Title) == "" {
		s.writeError(w, r, http.StatusBadRequest, exValidation, "A title is required.", "title")
		return
	}
	for _, ref := range []refBody{body.FromRef, body.ToRef} {
		if ref.Repository != nil && ref.Repository.Slug != "" && !strings.EqualFold(ref.Repository.Slug, rp.Slug) {
			s.writeError(w, r, http.StatusBadRequest, "", "Pull requests between different repositories are not supported by this fake.")
			return
		}
	}
	from, to := strings.TrimPrefix(body.FromRef.ID, "refs/heads/"), strings.TrimPrefix(body.ToRef.ID, "refs/heads/")
	switch problem, branch, open := rp.CheckPull(from, to); problem {
	case repostore.PullNoBranch:
		s.writeError(w, r, http.StatusNotFound, exNoSuchBranch,
			fmt.Sprintf("Repository \"%s\" of project with key \"%s\" has no branch \"%s\"", rp.Slug, rp.Owner.Key, branch))
	case repostore.PullSameBranch:
		s.writeError(w, r, http.StatusConflict, exPrefix+"pull.InvalidPullRequestTargetException",
			"You are attempting to create a pull request where the source and target branch are the same.")
	case repostore.PullDuplicate:
		s.writeErrors(w, r, http.StatusConflict, errorMessage{ExistingPullRequest: s.pullJSON(rp, open),
			Message:       "Only one pull request may be open for a given source and target branch",
			ExceptionName: strp(exPrefix + "pull.DuplicatePullRequestException")})
	case repostore.PullNoChanges:
		s.writeError(w, r, http.StatusConflict, exPrefix+"pull.EmptyPullRequestException",
			fmt.Sprintf("Branch \"%s\" is already up-to-date with branch \"%s\" in repository \"%s\".", to, from, rp.Slug))
	default:
		p := s.st.Open(rp, repostore.Pull{Title: body.Title, Description: body.Description, From: from, To: to, Draft: body.Draft})
		s.writeJSON(w, r, http.StatusCreated, s.pullJSON(rp, p))
	}
}

// createRepo answers as Bitbucket Data Center does: 201 with the
// repository (empty: its first commit creates its branch); 409 when the
// project has a repository of that name (or slug); 404 for an unknown
// project; 400 for a name that is not valid.
func (s *Server) createRepo(w http.ResponseWriter, r *http.Request, p *repostore.Owner) {
	var body struct {
		Name          string `json:"name"`
		SCMID         string `json:"scmId"`
		Description   string `json:"description"`
		DefaultBranch string `json:"defaultBranch"`
		Public        bool   `json:"public"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		s.writeError(w, r, http.StatusBadRequest, exValidation, "The request body could not be parsed.")
		return
	}
	slug := Slugify(body.Name)
	switch {
	case body.Name == "" || slug == "" || len(body.Name) > 128:
		s.writeError(w, r, http.StatusBadRequest, exValidation, "Repository name must be between 1 and 128 characters and contain letters or digits.", "name")
		return
	case body.SCMID != "" && body.SCMID != "git":
		s.writeError(w, r, http.StatusBadRequest, exValidation, "The SCM "+body.SCMID+" is not available.", "scmId")
		return
	case body.DefaultBranch != "" && !repostore.ValidBranchName(body.DefaultBranch):
		s.writeError(w, r, http.StatusBadRequest, exInvalidRef, fmt.Sprintf("'%s' is an invalid ref name.", body.DefaultBranch))
		return
	}
	for _, rp := range p.Repos {
		if rp.Slug == slug || strings.EqualFold(rp.Name, body.Name) {
			s.writeError(w, r, http.StatusConflict, exPrefix+"repository.DuplicateRepositoryNameException", "This repository URL is already taken.", "name")
			return
		}
	}
	rp, _ := s.st.Create(p, repostore.Repo{Slug: slug, Name: body.Name, Description: body.Description, Public: body.Public, DefaultBranch: body.DefaultBranch})
	s.writeJSON(w, r, http.StatusCreated, s.repoJSON(rp))
}
