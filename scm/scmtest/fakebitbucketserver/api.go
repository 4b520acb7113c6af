package fakebitbucketserver

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

const repoRoute = "/projects/{key}/repos/{slug}"

func (s *Server) routes(mux *http.ServeMux) {
	s.handle(mux, "GET /projects/{key}/repos", s.listRepos)
	s.handle(mux, "GET "+repoRoute, s.getRepo)
	s.handle(mux, "GET "+repoRoute+"/default-branch", s.defaultBranch)
	s.handle(mux, "GET "+repoRoute+"/branches/default", s.defaultBranchFull)
	s.handle(mux, "GET "+repoRoute+"/branches", s.listBranches)
	s.handle(mux, "POST "+repoRoute+"/branches", s.createBranch)
	s.handle(mux, "GET "+repoRoute+"/raw/{path...}", s.raw)
	s.handle(mux, "GET "+repoRoute+"/browse", s.browse)
	s.handle(mux, "GET "+repoRoute+"/browse/{path...}", s.browse)
	s.handle(mux, "PUT "+repoRoute+"/browse/{path...}", s.editFile)
	s.handle(mux, "GET "+repoRoute+"/files", s.files)
	s.handle(mux, "GET "+repoRoute+"/files/{path...}", s.files)
	s.handle(mux, "GET "+repoRoute+"/archive", s.archive)
	s.handle(mux, "GET "+repoRoute+"/commits", s.listCommits) // commits.go
	s.handle(mux, "GET "+repoRoute+"/pull-requests", s.listPulls)
	s.handle(mux, "POST "+repoRoute+"/pull-requests", s.createPull)
	s.handle(mux, "GET "+repoRoute+"/pull-requests/{id}", s.getPull)
	s.createRoutes(mux)
}

// ---- JSON shapes (from the recorded bodies) ----

func link(href string) []map[string]string { return []map[string]string{{"href": href}} }

func (s *Server) projectJSON(p *project) map[string]any {
	m := map[string]any{"key": p.key, "id": p.id, "name": p.name, "description": p.description, "public": false, "type": "NORMAL",
		"links": map[string]any{"self": link(s.URL() + "/projects/" + p.key)}}
	if strings.HasPrefix(p.key, "~") {
		m["type"] = "PERSONAL"
		m["links"] = map[string]any{"self": link(s.URL() + "/users/" + strings.TrimPrefix(p.key, "~"))}
	}
	return m
}

func (s *Server) repoJSON(rp *repo) map[string]any {
	keyPath := strings.ToLower(rp.proj.key)
	m := map[string]any{
		"slug": rp.slug, "id": rp.id, "name": rp.name, "hierarchyId": fmt.Sprintf("%020x", rp.id)[:20],
		"scmId": "git", "state": "AVAILABLE", "statusMessage": "Available", "forkable": true,
		"defaultBranch": rp.defaultBranch, "archived": rp.archived,
		"project": s.projectJSON(rp.proj), "public": rp.public,
		"links": map[string]any{
			"clone": []map[string]string{
				{"href": s.URL() + "/scm/" + keyPath + "/" + rp.slug + ".git", "name": "http"},
				{"href": "ssh://git@" + strings.Split(s.Host(), ":")[0] + ":7999/" + keyPath + "/" + rp.slug + ".git", "name": "ssh"},
			},
			"self": link(s.URL() + "/projects/" + rp.proj.key + "/repos/" + rp.slug + "/browse"),
		},
	}
	if rp.description != "" {
		m["description"] = rp.description
	}
	return m
}

func (s *Server) userJSON() map[string]any {
	return map[string]any{"name": s.opts.User, "emailAddress": s.opts.User + "@example.com", "id": 1,
		"displayName": s.opts.User, "active": true, "slug": s.opts.User, "type": "NORMAL",
		"links": map[string]any{"self": link(s.URL() + "/users/" + s.opts.User)}}
}

func branchJSON(rp *repo, name string) map[string]any {
	id := rp.branches[name]
	return map[string]any{"id": "refs/heads/" + name, "displayId": name, "type": "BRANCH", "latestCommit": id,
		"latestChangeset": id, "isDefault": name == rp.defaultBranch}
}

func (s *Server) commitJSON(c *commit) map[string]any {
	person := map[string]any{"name": c.author, "emailAddress": c.author + "@example.com"}
	parents := []any{}
	if c.parent != "" {
		parents = append(parents, map[string]any{"id": c.parent, "displayId": c.parent[:11]})
	}
	ms := c.when.UnixMilli()
	return map[string]any{"id": c.id, "displayId": c.id[:11], "author": person, "authorTimestamp": ms,
		"committer": person, "committerTimestamp": ms, "message": c.message, "parents": parents}
}

func (s *Server) pullJSON(rp *repo, p *pull) map[string]any {
	ref := func(b string) map[string]any {
		return map[string]any{"id": "refs/heads/" + b, "displayId": b, "latestCommit": rp.branches[b], "type": "BRANCH",
			"repository": s.repoJSON(rp)}
	}
	ms := p.created.UnixMilli()
	return map[string]any{
		"id": p.id, "version": 0, "title": p.title, "description": p.description, "state": p.state,
		"open": p.state == "OPEN", "closed": p.state != "OPEN", "draft": p.draft, "createdDate": ms, "updatedDate": ms,
		"fromRef": ref(p.from), "toRef": ref(p.to), "locked": false,
		"author":       map[string]any{"user": s.userJSON(), "role": "AUTHOR", "approved": false, "status": "UNAPPROVED"},
		"reviewers":    []any{},
		"participants": []any{},
		"links":        map[string]any{"self": link(s.prWebURL(rp, p.id))},
	}
}

// ---- lookups ----

// lookup finds the repository of the request, answering 404 when missing.
// The caller holds s.mu.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *repo {
	key := r.PathValue("key")
	p, ok := s.projects[projectKey(key)]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, exNoSuchProject, fmt.Sprintf("Project %s does not exist.", key))
		return nil
	}
	slug := r.PathValue("slug")
	rp, ok := p.repos[strings.ToLower(slug)]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, exNoSuchRepository, fmt.Sprintf("Repository %s/%s does not exist.", p.key, slug))
		return nil
	}
	return rp
}

// commitAt resolves the request's at= parameter, answering 404 when it
// names nothing.
func (s *Server) commitAt(w http.ResponseWriter, r *http.Request, rp *repo) *commit {
	at := r.URL.Query().Get("at")
	c := rp.resolve(at)
	if c == nil {
		if at == "" {
			at = rp.defaultBranch
		}
		s.writeError(w, r, http.StatusNotFound, exNoSuchCommit, fmt.Sprintf("Commit '%s' does not exist in repository '%s'.", at, rp.slug))
	}
	return c
}

func (s *Server) noSuchPath(w http.ResponseWriter, r *http.Request, p string, c *commit) {
	s.writeError(w, r, http.StatusNotFound, exNoSuchPath, fmt.Sprintf("The path \"%s\" does not exist at revision \"%s\"", p, c.id))
}

// ---- handlers ----

func (s *Server) listRepos(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.PathValue("key")
	p, ok := s.projects[projectKey(key)]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, exNoSuchProject, fmt.Sprintf("Project %s does not exist.", key))
		return
	}
	repos := slices.Collect(maps.Values(p.repos))
	slices.SortFunc(repos, func(a, b *repo) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	s.writeJSON(w, r, http.StatusOK, paginateFunc(r, len(repos), 1000, func(i int) any { return s.repoJSON(repos[i]) }))
}

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rp := s.lookup(w, r); rp != nil {
		s.writeJSON(w, r, http.StatusOK, s.repoJSON(rp))
	}
}

func (s *Server) defaultBranch(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rp := s.lookup(w, r); rp != nil {
		s.writeJSON(w, r, http.StatusOK, map[string]any{"id": "refs/heads/" + rp.defaultBranch,
			"displayId": rp.defaultBranch, "type": "BRANCH"})
	}
}

func (s *Server) defaultBranchFull(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	switch _, ok := rp.branches[rp.defaultBranch]; {
	case len(rp.branches) == 0:
		s.commonHeaders(w)
		w.WriteHeader(http.StatusNoContent)
	case !ok:
		s.writeError(w, r, http.StatusNotFound, exNoSuchBranch, fmt.Sprintf("The default branch '%s' does not exist.", rp.defaultBranch))
	default:
		s.writeJSON(w, r, http.StatusOK, branchJSON(rp, rp.defaultBranch))
	}
}

func (s *Server) listBranches(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	filter := strings.ToLower(q.Get("filterText"))
	var names []string
	for name := range rp.branches {
		if strings.Contains(strings.ToLower(name), filter) {
			names = append(names, name)
		}
	}
	rank := func(n string) int {
		if q.Get("boostMatches") != "true" || filter == "" {
			return 0
		}
		switch l := strings.ToLower(n); {
		case l == filter:
			return 0
		case strings.HasPrefix(l, filter):
			return 1
		}
		return 2
	}
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	items := make([]any, len(names))
	for i, n := range names {
		items[i] = branchJSON(rp, n)
	}
	s.writeJSON(w, r, http.StatusOK, paginate(r, items, 1000))
}

// validBranchName is a simplified git check-ref-format.
func validBranchName(n string) bool {
	if n == "" || strings.HasPrefix(n, "-") || strings.HasPrefix(n, "/") || strings.HasSuffix(n, "/") ||
		strings.HasSuffix(n, ".lock") || strings.HasSuffix(n, ".") || strings.Contains(n, "..") ||
		strings.Contains(n, "//") || strings.Contains(n, "@{") || n == "@" {
		return false
	}
	for _, c := range n {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(" ~^:?*[\\", c) {
			return false
		}
	}
	return true
}

func (s *Server) createBranch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name       string `json:"name"`
		StartPoint string `json:"startPoint"`
		Message    string `json:"message"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "", "Unexpected character in request body: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	name := strings.TrimPrefix(body.Name, "refs/heads/")
	if !validBranchName(name) {
		s.writeError(w, r, http.StatusBadRequest, exInvalidRef, fmt.Sprintf("'%s' is an invalid ref name.", body.Name))
		return
	}
	if _, ok := rp.branches[name]; ok {
		s.writeError(w, r, http.StatusConflict, exDuplicateRef, fmt.Sprintf("Branch '%s' already exists in repository '%s'.", name, rp.slug))
		return
	}
	c := rp.resolve(body.StartPoint)
	if c == nil || body.StartPoint == "" {
		s.writeError(w, r, http.StatusNotFound, exNoSuchCommit, fmt.Sprintf("Commit '%s' does not exist in repository '%s'.", body.StartPoint, rp.slug))
		return
	}
	rp.branches[name] = c.id
	s.writeJSON(w, r, http.StatusOK, branchJSON(rp, name))
}

func etagOf(blob string) string { return `"` + blob + `"` }

func (s *Server) raw(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	p, ok := cleanPath(r.PathValue("path"))
	if !ok || p == "" {
		s.writeError(w, r, http.StatusBadRequest, "", "The path parameter was not supplied.")
		return
	}
	c := s.commitAt(w, r, rp)
	if c == nil {
		return
	}
	e, ok := c.files[p]
	if !ok {
		s.noSuchPath(w, r, p, c)
		return
	}
	etag := etagOf(e.blob)
	s.commonHeaders(w)
	w.Header().Set("ETag", etag)
	if fake.ETagMatches(r.Header.Get("If-None-Match"), etag) {
		s.log.Count(func(st *Stats) { st.NotModified++ })
		w.WriteHeader(http.StatusNotModified)
		return
	}
	ct := "text/plain;charset=UTF-8"
	if !utf8.Valid(e.content) || bytes.IndexByte(e.content, 0) >= 0 {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(e.content)))
	w.Header().Set("Content-Disposition", "inline; filename=\""+path.Base(p)+"\"; filename*=UTF-8''"+url.PathEscape(path.Base(p)))
	w.WriteHeader(http.StatusOK)
	w.Write(e.content)
}

func pathJSON(p string) map[string]any {
	comps := strings.Split(p, "/")
	if p == "" {
		comps = []string{}
	}
	m := map[string]any{"components": comps, "name": path.Base(p), "toString": p}
	if p == "" {
		m["name"] = ""
	}
	if ext := path.Ext(p); ext != "" {
		m["extension"] = strings.TrimPrefix(ext, ".")
	}
	if dir := path.Dir(p); dir != "." && dir != "" {
		m["parent"] = dir
	} else {
		m["parent"] = ""
	}
	return m
}

func (s *Server) browse(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	p, ok := cleanPath(r.PathValue("path"))
	if !ok {
		s.writeError(w, r, http.StatusBadRequest, "", "Invalid path")
		return
	}
	c := s.commitAt(w, r, rp)
	if c == nil {
		return
	}
	q := r.URL.Query()
	e, isFile := c.files[p]
	dir := !isFile && fake.IsDir(c.files, p)
	if !isFile && !dir {
		s.noSuchPath(w, r, p, c)
		return
	}
	switch {
	case q.Get("size") == "true":
		size := 0
		if isFile {
			size = len(e.content)
		}
		s.writeJSON(w, r, http.StatusOK, map[string]any{"size": size})
		return
	case q.Get("type") == "true":
		t := "FILE"
		if dir {
			t = "DIRECTORY"
		}
		s.writeJSON(w, r, http.StatusOK, map[string]any{"type": t})
		return
	}
	if isFile {
		var lines []any
		for l := range strings.Lines(string(e.content)) {
			lines = append(lines, map[string]any{"text": strings.TrimSuffix(l, "\n")})
		}
		items := paginate(r, lines, 5000)
		s.writeJSON(w, r, http.StatusOK, map[string]any{"lines": items.Values, "start": items.Start, "size": items.Size,
			"isLastPage": items.IsLastPage})
		return
	}
	children := map[string]any{}
	for _, fp := range under(c.files, p) {
		rel := strings.TrimPrefix(fp, p+"/")
		if p == "" {
			rel = fp
		}
		name, rest, sub := strings.Cut(rel, "/")
		if _, seen := children[name]; seen {
			continue
		}
		if sub && rest != "" {
			children[name] = map[string]any{"path": pathJSON(name), "node": c.id, "type": "DIRECTORY"}
			continue
		}
		fe := c.files[fp]
		children[name] = map[string]any{"path": pathJSON(name), "contentId": fe.blob, "type": "FILE", "size": len(fe.content)}
	}
	items := make([]any, 0, len(children))
	for _, n := range slices.Sorted(maps.Keys(children)) {
		items = append(items, children[n])
	}
	revision := q.Get("at")
	if revision == "" {
		revision = "refs/heads/" + rp.defaultBranch
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"path": pathJSON(p), "revision": revision,
		"children": paginate(r, items, 500)})
}

func (s *Server) files(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	p, ok := cleanPath(r.PathValue("path"))
	if !ok {
		s.writeError(w, r, http.StatusBadRequest, "", "Invalid path")
		return
	}
	c := s.commitAt(w, r, rp)
	if c == nil {
		return
	}
	if _, isFile := c.files[p]; isFile {
		s.writeError(w, r, http.StatusBadRequest, "", fmt.Sprintf("The path \"%s\" is not a directory at revision \"%s\"", p, c.id))
		return
	}
	if !fake.IsDir(c.files, p) {
		s.noSuchPath(w, r, p, c)
		return
	}
	var items []any
	for _, fp := range under(c.files, p) {
		if p != "" {
			fp = strings.TrimPrefix(fp, p+"/")
		}
		items = append(items, fp)
	}
	s.writeJSON(w, r, http.StatusOK, paginate(r, items, 100000))
}

func (s *Server) archive(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rp := s.lookup(w, r)
	if rp == nil {
		s.mu.Unlock()
		return
	}
	c := s.commitAt(w, r, rp)
	if c == nil {
		s.mu.Unlock()
		return
	}
	slug, defaultBranch := rp.slug, rp.defaultBranch
	s.mu.Unlock() // commits are immutable

	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "zip"
	}
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
		if _, isFile := c.files[p]; !isFile && !fake.IsDir(c.files, p) {
			s.noSuchPath(w, r, p, c)
			return
		}
		paths = append(paths, p)
	}
	prefix := q.Get("prefix")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	a := &fake.Archive{Commit: c.id, Prefix: prefix, ModTime: c.when}
	for _, fp := range under(c.files, "") {
		if len(paths) == 0 || slices.ContainsFunc(paths, func(p string) bool { return p == "" || fp == p || strings.HasPrefix(fp, p+"/") }) {
			a.Files = append(a.Files, fake.File{Path: fp, Content: c.files[fp].content, Executable: c.files[fp].exec})
		}
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case "zip":
		err = a.WriteZip(&buf, 0o755, true)
	case "tar":
		err = a.WriteTar(&buf, 0o775)
	default:
		gz := gzip.NewWriter(&buf)
		if err = a.WriteTar(gz, 0o775); err == nil {
			err = gz.Close()
		}
	}
	if err != nil {
		s.writeError(w, r, http.StatusInternalServerError, exServer, err.Error())
		return
	}
	at := q.Get("at")
	name := slug + "-" + strings.ReplaceAll(strings.TrimPrefix(cmpOr(at, defaultBranch), "refs/heads/"), "/", "-") + "@" + c.id[:11] + "." + ext
	if at == c.id {
		name = slug + "-" + c.id + "." + ext
	}
	s.commonHeaders(w)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) editFile(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("X-Atlassian-Token"), "no-check") {
		s.writeError(w, r, http.StatusForbidden, exXSRF, "XSRF check failed")
		return
	}
	if err := r.ParseMultipartForm(64 << 20); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "", "The request is not valid multipart form data: "+err.Error())
		return
	}
	form := r.MultipartForm
	value := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var content []byte
	var haveContent bool
	if fhs := form.File["content"]; len(fhs) > 0 {
		f, err := fhs[0].Open()
		if err == nil {
			content, err = io.ReadAll(f)
			f.Close()
		}
		if err != nil {
			s.writeError(w, r, http.StatusBadRequest, "", "Reading the content: "+err.Error())
			return
		}
		haveContent = true
	} else if v, ok := form.Value["content"]; ok && len(v) > 0 {
		content, haveContent = []byte(v[0]), true
	}
	branch := strings.TrimPrefix(value("branch"), "refs/heads/")
	var verrs []errorMessage
	if branch == "" {
		verrs = append(verrs, errorMessage{Context: strp("branch"), Message: "A branch is required.", ExceptionName: strp(exValidation)})
	}
	if !haveContent {
		verrs = append(verrs, errorMessage{Context: strp("content"), Message: "The content is required.", ExceptionName: strp(exValidation)})
	}
	if len(verrs) > 0 {
		s.writeErrors(w, r, http.StatusBadRequest, verrs...)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	p, ok := cleanPath(r.PathValue("path"))
	if !ok || p == "" {
		s.writeError(w, r, http.StatusBadRequest, "", "Invalid path")
		return
	}
	if rp.archived {
		s.writeError(w, r, http.StatusConflict, "com.atlassian.bitbucket.repository.ArchivedRepositoryException",
			fmt.Sprintf("Repository '%s' is archived and cannot be modified.", rp.slug))
		return
	}
	var base *commit
	if id, ok := rp.branches[branch]; ok {
		base = rp.commits[id]
	} else if len(rp.branches) == 0 && value("sourceBranch") == "" && validBranchName(branch) {
		base = emptyBase() // create.go
	} else {
		src := strings.TrimPrefix(value("sourceBranch"), "refs/heads/")
		if src == "" {
			s.writeError(w, r, http.StatusNotFound, exNoSuchBranch, fmt.Sprintf("Branch '%s' does not exist in repository '%s'.", branch, rp.slug))
			return
		}
		if !validBranchName(branch) {
			s.writeError(w, r, http.StatusBadRequest, exInvalidRef, fmt.Sprintf("'%s' is an invalid ref name.", branch))
			return
		}
		if base = rp.resolve(src); base == nil {
			s.writeError(w, r, http.StatusNotFound, exNoSuchBranch, fmt.Sprintf("Branch '%s' does not exist in repository '%s'.", src, rp.slug))
			return
		}
	}
	if fake.IsDir(base.files, p) {
		s.writeError(w, r, http.StatusConflict, exFileExists, fmt.Sprintf("'%s' is a directory.", p))
		return
	}
	old, exists := base.files[p]
	if src := value("sourceCommitId"); src == "" {
		if exists {
			s.writeError(w, r, http.StatusConflict, exFileExists,
				fmt.Sprintf("The file '%s' already exists. Provide the sourceCommitId of the file to update it.", p))
			return
		}
	} else {
		sc := rp.resolve(src)
		if sc == nil {
			s.writeError(w, r, http.StatusNotFound, exNoSuchCommit, fmt.Sprintf("Commit '%s' does not exist in repository '%s'.", src, rp.slug))
			return
		}
		then, had := sc.files[p]
		if had != exists || (had && then.blob != old.blob) {
			s.writeError(w, r, http.StatusConflict, exFileChanged,
				fmt.Sprintf("The file '%s' has been modified since commit %s.", p, sc.id[:11]))
			return
		}
	}
	if exists && bytes.Equal(old.content, content) {
		s.writeError(w, r, http.StatusConflict, exNoChange, fmt.Sprintf("The file '%s' was not changed: the content is the same.", p))
		return
	}
	msg := value("message")
	if msg == "" {
		msg = "Edited " + p + " online with Bitbucket"
	}
	files, _ := applyFiles(base.files, []File{{Path: p, Content: content, Executable: old.exec}}, nil)
	id := s.commitLocked(rp, base.id, files, msg)
	rp.branches[branch] = id
	s.writeJSON(w, r, http.StatusOK, s.commitJSON(rp.commits[id]))
}

// isAncestor reports whether commit a is reachable from commit b.
func (rp *repo) isAncestor(a, b string) bool {
	for c := rp.commits[b]; c != nil; c = rp.commits[c.parent] {
		if c.id == a {
			return true
		}
	}
	return false
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	state := strings.ToUpper(cmpOr(q.Get("state"), "OPEN"))
	at := q.Get("at")
	if at != "" && !strings.HasPrefix(at, "refs/") {
		at = "refs/heads/" + at
	}
	outgoing := strings.EqualFold(q.Get("direction"), "OUTGOING")
	var items []any
	pulls := slices.Clone(rp.pulls)
	if !strings.EqualFold(q.Get("order"), "OLDEST") {
		slices.Reverse(pulls)
	}
	for _, p := range pulls {
		if state != "ALL" && p.state != state {
			continue
		}
		ref := "refs/heads/" + p.to
		if outgoing {
			ref = "refs/heads/" + p.from
		}
		if at != "" && ref != at {
			continue
		}
		items = append(items, s.pullJSON(rp, p))
	}
	s.writeJSON(w, r, http.StatusOK, paginate(r, items, 1000))
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	id, _ := strconv.Atoi(r.PathValue("id"))
	for _, p := range rp.pulls {
		if p.id == id {
			s.writeJSON(w, r, http.StatusOK, s.pullJSON(rp, p))
			return
		}
	}
	s.writeError(w, r, http.StatusNotFound, exNoSuchPull, fmt.Sprintf("Pull request %s does not exist in %s/%s.", r.PathValue("id"), rp.proj.key, rp.slug))
}

type refBody struct {
	ID         string `json:"id"`
	Repository *struct {
		Slug    string `json:"slug"`
		Project *struct {
			Key string `json:"key"`
		} `json:"project"`
	} `json:"repository"`
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Title       string  `json:"title"`
		Description string  `json:"description"`
		State       string  `json:"state"`
		Draft       bool    `json:"draft"`
		FromRef     refBody `json:"fromRef"`
		ToRef       refBody `json:"toRef"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "", "Unexpected character in request body: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	if strings.TrimSpace(body.Title) == "" {
		s.writeErrors(w, r, http.StatusBadRequest, errorMessage{Context: strp("title"), Message: "A title is required.",
			ExceptionName: strp(exValidation)})
		return
	}
	for _, ref := range []refBody{body.FromRef, body.ToRef} {
		if ref.Repository != nil && ref.Repository.Slug != "" && !strings.EqualFold(ref.Repository.Slug, rp.slug) {
			s.writeError(w, r, http.StatusBadRequest, "", "Pull requests between different repositories are not supported by this fake.")
			return
		}
	}
	from := strings.TrimPrefix(body.FromRef.ID, "refs/heads/")
	to := strings.TrimPrefix(body.ToRef.ID, "refs/heads/")
	for _, b := range []string{from, to} {
		if _, ok := rp.branches[b]; !ok || b == "" {
			s.writeError(w, r, http.StatusNotFound, exNoSuchBranch,
				fmt.Sprintf("Repository \"%s\" of project with key \"%s\" has no branch \"%s\"", rp.slug, rp.proj.key, b))
			return
		}
	}
	if from == to {
		s.writeError(w, r, http.StatusConflict, exSameBranch,
			"You are attempting to create a pull request where the source and target branch are the same.")
		return
	}
	for _, p := range rp.pulls {
		if p.state == "OPEN" && p.from == from && p.to == to {
			s.writeErrors(w, r, http.StatusConflict, errorMessage{
				Message:             "Only one pull request may be open for a given source and target branch",
				ExceptionName:       strp(exDuplicatePull),
				ExistingPullRequest: s.pullJSON(rp, p),
			})
			return
		}
	}
	if rp.isAncestor(rp.branches[from], rp.branches[to]) {
		s.writeError(w, r, http.StatusConflict, exEmptyPull,
			fmt.Sprintf("Branch \"%s\" is already up-to-date with branch \"%s\" in repository \"%s\".", to, from, rp.slug))
		return
	}
	p := &pull{id: len(rp.pulls) + 1, title: body.Title, description: body.Description, from: from, to: to,
		draft: body.Draft, state: "OPEN", created: s.now(), author: s.opts.User}
	rp.pulls = append(rp.pulls, p)
	s.writeJSON(w, r, http.StatusCreated, s.pullJSON(rp, p))
}
