package fakebitbucketcloud

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

const repoRoute = "/2.0/repositories/{ws}/{slug}"

func (s *Server) apiRoutes(mux *http.ServeMux) {
	s.oauthAPIRoutes(mux) // GET /2.0/user, /2.0/user/emails (oauth.go)
	s.handle(mux, "GET /2.0/repositories/{ws}", s.listRepos)
	s.handle(mux, "GET "+repoRoute, s.getRepo)
	s.handle(mux, "GET "+repoRoute+"/src", s.srcRoot)
	s.handle(mux, "GET "+repoRoute+"/src/{commit}", s.src)
	s.handle(mux, "GET "+repoRoute+"/src/{commit}/{path...}", s.src)
	s.handle(mux, "POST "+repoRoute+"/src", s.commitFiles)
	s.handle(mux, "GET "+repoRoute+"/refs/branches", s.listBranches)
	s.handle(mux, "GET "+repoRoute+"/refs/branches/{name...}", s.getBranch)
	s.handle(mux, "POST "+repoRoute+"/refs/branches", s.createBranch)
	s.handle(mux, "GET "+repoRoute+"/commit/{commit}", s.getCommit)
	s.handle(mux, "GET "+repoRoute+"/commits/{revision}", s.listCommits) // commits.go
	s.handle(mux, "GET "+repoRoute+"/pullrequests", s.listPulls)
	s.handle(mux, "POST "+repoRoute+"/pullrequests", s.createPull)
	// Bitbucket also answers with a trailing slash, which go-bitbucket
	// sends.
	s.handle(mux, "GET "+repoRoute+"/pullrequests/{$}", s.listPulls)
	s.handle(mux, "POST "+repoRoute+"/pullrequests/{$}", s.createPull)
	s.handle(mux, "GET "+repoRoute+"/pullrequests/{id}", s.getPull)
	s.handle(mux, "GET /2.0/workspaces/{ws}/search/code", s.searchCode)
	s.createRoutes(mux)
}

// ---- JSON shapes (from the recorded bodies) ----

type links map[string]any

func href(u string) map[string]string { return map[string]string{"href": u} }

func (s *Server) apiRepoURL(rp *repo) string {
	return s.api.URL + "/2.0/repositories/" + rp.ws.slug + "/" + rp.slug
}

func (s *Server) webRepoURL(rp *repo) string { return s.web.URL + "/" + rp.ws.slug + "/" + rp.slug }

func (s *Server) repoRef(rp *repo) map[string]any {
	return map[string]any{"type": "repository", "full_name": rp.ws.slug + "/" + rp.slug, "name": rp.name, "uuid": rp.uuid,
		"links": links{"self": href(s.apiRepoURL(rp)), "html": href(s.webRepoURL(rp)),
			"avatar": href(s.web.URL + "/ravatar/" + url.PathEscape(rp.uuid))}}
}

func (s *Server) workspaceRef(w *workspace) map[string]any {
	return map[string]any{"type": "workspace", "uuid": w.uuid, "name": w.slug, "slug": w.slug,
		"links": links{"avatar": href(s.web.URL + "/workspaces/" + w.slug + "/avatar"), "html": href(s.web.URL + "/" + w.slug + "/"),
			"self": href(s.api.URL + "/2.0/workspaces/" + w.slug)}}
}

func (s *Server) ownerJSON(w *workspace) map[string]any {
	return map[string]any{"display_name": w.slug, "type": "team", "uuid": w.uuid, "username": w.slug,
		"account_id": "557058:" + strings.Trim(w.uuid, "{}"), "nickname": w.slug,
		"links": links{"self": href(s.api.URL + "/2.0/workspaces/" + url.PathEscape(w.uuid)), "html": href(s.web.URL + "/" + w.slug + "/"),
			"avatar": href(s.web.URL + "/account/" + w.slug + "/avatar/")}}
}

func (s *Server) repoJSON(rp *repo) map[string]any {
	api := s.apiRepoURL(rp)
	web := s.webRepoURL(rp)
	host := strings.TrimPrefix(s.web.URL, "http://")
	m := map[string]any{
		"type": "repository", "full_name": rp.ws.slug + "/" + rp.slug, "name": rp.name, "slug": rp.slug,
		"description": rp.description, "scm": "git", "website": nil, "uuid": rp.uuid, "is_private": !rp.public,
		"fork_policy": "no_public_forks", "language": "", "has_issues": false, "has_wiki": false, "size": 1024,
		"created_on": bbTime(rp.created), "updated_on": bbTime(rp.created),
		"mainbranch": map[string]any{"name": rp.mainBranch, "type": "branch"},
		"owner":      s.ownerJSON(rp.ws), "workspace": s.workspaceRef(rp.ws),
		"enforced_signed_commits": false,
		"override_settings":       map[string]any{"default_merge_strategy": true, "branching_model": true},
		"project": map[string]any{"type": "project", "key": rp.projectKey, "uuid": uuid("project" + rp.projectKey), "name": rp.projectKey,
			"links": links{"self": href(s.api.URL + "/2.0/workspaces/" + rp.ws.slug + "/projects/" + rp.projectKey),
				"html":   href(s.web.URL + "/" + rp.ws.slug + "/workspace/projects/" + rp.projectKey),
				"avatar": href(s.web.URL + "/account/user/" + rp.ws.slug + "/projects/" + rp.projectKey + "/avatar/32")}},
		"links": links{
			"self": href(api), "html": href(web), "avatar": href(s.web.URL + "/ravatar/" + url.PathEscape(rp.uuid)),
			"pullrequests": href(api + "/pullrequests"), "commits": href(api + "/commits"), "forks": href(api + "/forks"),
			"watchers": href(api + "/watchers"), "branches": href(api + "/refs/branches"), "tags": href(api + "/refs/tags"),
			"downloads": href(api + "/downloads"), "source": href(api + "/src"), "hooks": href(api + "/hooks"),
			"issues": href(api + "/issues"),
			"clone": []map[string]string{
				{"name": "https", "href": "http://" + host + "/" + rp.ws.slug + "/" + rp.slug + ".git"},
				{"name": "ssh", "href": "git@" + strings.Split(host, ":")[0] + ":" + rp.ws.slug + "/" + rp.slug + ".git"},
			},
		},
	}
	return m
}

func (s *Server) commitRef(rp *repo, id string) map[string]any {
	return map[string]any{"hash": id, "type": "commit",
		"links": links{"self": href(s.apiRepoURL(rp) + "/commit/" + id), "html": href(s.webRepoURL(rp) + "/commits/" + id)}}
}

func (s *Server) commitJSON(rp *repo, c *commit) map[string]any {
	m := s.commitRef(rp, c.id)
	parents := []any{}
	for _, p := range c.parents {
		parents = append(parents, s.commitRef(rp, p))
	}
	m["parents"] = parents
	m["repository"] = s.repoRef(rp)
	m["author"] = map[string]any{"raw": c.author + " <fake@example.com>", "type": "author"}
	m["date"] = c.when.UTC().Format("2006-01-02T15:04:05+00:00")
	m["message"] = c.message
	l := m["links"].(links)
	l["comments"] = href(s.apiRepoURL(rp) + "/commit/" + c.id + "/comments")
	l["patch"] = href(s.apiRepoURL(rp) + "/patch/" + c.id)
	l["diff"] = href(s.apiRepoURL(rp) + "/diff/" + c.id)
	l["approve"] = href(s.apiRepoURL(rp) + "/commit/" + c.id + "/approve")
	l["statuses"] = href(s.apiRepoURL(rp) + "/commit/" + c.id + "/statuses")
	return m
}

func (s *Server) branchJSON(rp *repo, name string) map[string]any {
	return map[string]any{"name": name, "type": "branch",
		"links": links{"commits": href(s.apiRepoURL(rp) + "/commits/" + name), "self": href(s.apiRepoURL(rp) + "/refs/branches/" + name),
			"html": href(s.webRepoURL(rp) + "/branch/" + name)},
		"default_merge_strategy": "merge_commit", "merge_strategies": []string{"merge_commit", "squash", "fast_forward"},
		"target": s.commitJSON(rp, rp.commits[rp.branches[name]])}
}

func (s *Server) userJSON() map[string]any {
	return map[string]any{"display_name": s.opts.User, "type": "user", "uuid": uuid("user"), "account_id": "557058:fake",
		"nickname": s.opts.User, "links": links{"self": href(s.api.URL + "/2.0/users/" + url.PathEscape(uuid("user"))),
			"html": href(s.web.URL + "/" + url.PathEscape(uuid("user")) + "/"), "avatar": href(s.web.URL + "/avatar/fake")}}
}

func rendered(raw string) map[string]any {
	return map[string]any{"raw": raw, "markup": "markdown", "html": "<p>" + raw + "</p>", "type": "rendered"}
}

func (s *Server) pullJSON(rp *repo, p *pull) map[string]any {
	api := s.apiRepoURL(rp) + "/pullrequests/" + strconv.Itoa(p.id)
	end := func(branch string) map[string]any {
		// Pull requests name commits by a 12-hex abbreviation.
		id := rp.branches[branch]
		c := s.commitRef(rp, id[:12])
		return map[string]any{"branch": map[string]any{"name": branch}, "commit": c, "repository": s.repoRef(rp)}
	}
	ts := bbTime(p.created)
	return map[string]any{
		"type": "pullrequest", "id": p.id, "title": p.title, "description": p.description,
		"summary":  rendered(p.description),
		"rendered": map[string]any{"title": rendered(p.title), "description": rendered(p.description)},
		"state":    p.state, "draft": p.draft, "author": s.authorJSON(p.author), "source": end(p.source), "destination": end(p.dest),
		"merge_commit": nil, "comment_count": 0, "task_count": 0, "close_source_branch": p.closeSource, "closed_by": nil,
		"reason": "", "created_on": ts, "updated_on": ts, "reviewers": []any{}, "participants": []any{},
		"links": links{"self": href(api), "html": href(s.prWebURL(rp, p.id)), "commits": href(api + "/commits"),
			"approve": href(api + "/approve"), "request-changes": href(api + "/request-changes"), "diff": href(api + "/diff"),
			"diffstat": href(api + "/diffstat"), "comments": href(api + "/comments"), "activity": href(api + "/activity"),
			"merge": href(api + "/merge"), "decline": href(api + "/decline"), "statuses": href(api + "/statuses")},
	}
}

// bbTime formats a timestamp as Bitbucket does:
// "2020-11-03T12:09:39.418592+00:00".
func bbTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000+00:00") }

func etagOf(e entry) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00%v", e.blob, e.exec)
	return `"` + hex.EncodeToString(h.Sum(nil)) + `"`
}

func attributes(e entry) []string {
	if e.exec {
		return []string{"executable"}
	}
	return []string{}
}

func (s *Server) fileJSON(rp *repo, c *commit, p string) map[string]any {
	e := c.files[p]
	src := s.apiRepoURL(rp) + "/src/" + c.id + "/" + p
	mt := mime.TypeByExtension(path.Ext(p))
	var mimetype any
	if mt != "" {
		mimetype = strings.Split(mt, ";")[0]
	}
	return map[string]any{"path": p, "commit": s.commitRef(rp, c.id), "type": "commit_file", "attributes": attributes(e),
		"escaped_path": p, "size": len(e.content), "mimetype": mimetype,
		"links": links{"self": href(src), "meta": href(src + "?format=meta"),
			"history": href(s.apiRepoURL(rp) + "/filehistory/" + c.id + "/" + p)}}
}

func (s *Server) dirJSON(rp *repo, c *commit, p string) map[string]any {
	src := s.apiRepoURL(rp) + "/src/" + c.id + "/" + p + "/"
	return map[string]any{"path": p, "commit": s.commitRef(rp, c.id), "type": "commit_directory",
		"links": links{"self": href(src), "meta": href(src + "?format=meta")}}
}

// ---- lookups ----

// lookup finds the request's repository, answering 404 when missing. The
// caller holds s.mu.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *repo {
	ws, slug := r.PathValue("ws"), r.PathValue("slug")
	rp, err := s.repoLocked(ws, slug)
	if err != nil {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("Repository %s/%s not found", ws, slug), "")
		return nil
	}
	return rp
}

// ---- handlers ----

func (s *Server) listRepos(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, ok := s.workspaces[strings.ToLower(r.PathValue("ws"))]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("No workspace with identifier '%s'.", r.PathValue("ws")), "")
		return
	}
	repos := slices.SortedFunc(maps.Values(ws.repos), func(a, b *repo) int { return strings.Compare(a.slug, b.slug) })
	s.writeJSON(w, r, http.StatusOK, paginateFunc(r, len(repos), 100, func(i int) any { return s.repoJSON(repos[i]) }))
}

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rp := s.lookup(w, r); rp != nil {
		s.writeJSON(w, r, http.StatusOK, s.repoJSON(rp))
	}
}

// srcRoot redirects to the root directory on the main branch, as
// Bitbucket does.
func (s *Server) srcRoot(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	c := rp.resolve("")
	if c == nil {
		s.writeError(w, r, http.StatusNotFound, "This repository is empty.", "")
		return
	}
	s.commonHeaders(w, r)
	w.Header().Set("Location", s.apiRepoURL(rp)+"/src/"+c.id+"/")
	w.WriteHeader(http.StatusFound)
}

// resolveSrc splits the {commit}/{path} of a src URL: the commit segment
// may be a branch with an escaped "/", or the start of a branch name whose
// slashes were sent as they are.
func (rp *repo) resolveSrc(commitSeg, p string) (*commit, string) {
	if c := rp.resolve(commitSeg); c != nil {
		return c, p
	}
	segs := strings.Split(p, "/")
	for i := len(segs); i >= 1; i-- {
		if c := rp.resolve(commitSeg + "/" + strings.Join(segs[:i], "/")); c != nil {
			return c, strings.Join(segs[i:], "/")
		}
	}
	return nil, p
}

func (s *Server) src(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	c, p := rp.resolveSrc(r.PathValue("commit"), strings.Trim(r.PathValue("path"), "/"))
	if c == nil {
		s.writeError(w, r, http.StatusNotFound, "Commit not found", fmt.Sprintf("Commit %q does not exist", r.PathValue("commit")))
		return
	}
	q := r.URL.Query()
	if e, ok := c.files[p]; ok {
		if q.Get("format") == "meta" {
			s.writeJSON(w, r, http.StatusOK, s.fileJSON(rp, c, p))
			return
		}
		etag := etagOf(e)
		s.commonHeaders(w, r)
		w.Header().Set("ETag", etag)
		if fake.ETagMatches(r.Header.Get("If-None-Match"), etag) {
			s.log.Count(func(st *Stats) { st.NotModified++ })
			w.WriteHeader(http.StatusNotModified)
			return
		}
		// Derived from the file name, not the content, as Bitbucket does.
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "text/plain"
			if !isText(e.content) {
				ct = "application/octet-stream"
			}
		}
		w.Header().Set("Content-Type", strings.Split(ct, ";")[0])
		w.Header().Set("Content-Disposition", `attachment; filename="`+path.Base(p)+`"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(e.content)))
		w.WriteHeader(http.StatusOK)
		w.Write(e.content)
		return
	}
	if !fake.IsDir(c.files, p) {
		s.writeError(w, r, http.StatusNotFound, "No such file or directory: "+p, "")
		return
	}
	if q.Get("format") == "meta" {
		s.writeJSON(w, r, http.StatusOK, s.dirJSON(rp, c, p))
		return
	}
	depth, err := strconv.Atoi(q.Get("max_depth"))
	if err != nil || depth <= 0 {
		depth = 1
	}
	onlyFiles := strings.Contains(strings.ReplaceAll(q.Get("q"), " ", ""), `type="commit_file"`)
	var items []any
	for _, e := range listDir(c.files, p, depth) {
		if e.dir {
			if !onlyFiles {
				items = append(items, s.dirJSON(rp, c, e.path))
			}
			continue
		}
		items = append(items, s.fileJSON(rp, c, e.path))
	}
	s.writeJSON(w, r, http.StatusOK, paginate(r, items, 100))
}

func isText(b []byte) bool {
	return !bytes.ContainsRune(b, 0) && json.Valid([]byte(strconv.Quote(string(b))))
}

type dirEntry struct {
	path string
	dir  bool
}

// listDir lists dir breadth-first down to depth levels, as Bitbucket's
// max_depth does: each level sorted, directories before files.
func listDir(files map[string]entry, dir string, depth int) []dirEntry {
	var out []dirEntry
	level := []string{dir}
	for d := 0; d < depth && len(level) > 0; d++ {
		var next []string
		for _, cur := range level {
			dirs, fs := map[string]bool{}, map[string]bool{}
			prefix := cur + "/"
			if cur == "" {
				prefix = ""
			}
			for p := range files {
				rest, ok := strings.CutPrefix(p, prefix)
				if !ok {
					continue
				}
				name, _, sub := strings.Cut(rest, "/")
				if sub {
					dirs[prefix+name] = true
				} else {
					fs[prefix+name] = true
				}
			}
			for _, p := range slices.Sorted(maps.Keys(dirs)) {
				out = append(out, dirEntry{path: p, dir: true})
				next = append(next, p)
			}
			for _, p := range slices.Sorted(maps.Keys(fs)) {
				out = append(out, dirEntry{path: p})
			}
		}
		level = next
	}
	return out
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

var metaFields = map[string]bool{"message": true, "author": true, "parents": true, "files": true, "branch": true}

// upload is one file of a POST src.
type upload struct {
	path    string
	content []byte
	exec    bool
}

// parseCommitForm reads a POST src body: uploads and metadata.
func parseCommitForm(r *http.Request) ([]upload, url.Values, error) {
	meta := url.Values{}
	var ups []upload
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, nil, err
		}
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, err
			}
			b, err := io.ReadAll(io.LimitReader(part, 100<<20))
			if err != nil {
				return nil, nil, err
			}
			cd := part.Header.Get("Content-Disposition")
			name := part.FormName()
			if name == "" {
				// "attachment" parts, or parameters written with ":" as in
				// Bitbucket's documentation: read name= by hand.
				if m := nameParamRE.FindStringSubmatch(cd); m != nil {
					name = m[1]
				}
			}
			if part.FileName() == "" && !strings.Contains(cd, "filename") {
				meta.Add(name, string(b))
				continue
			}
			if name == "" {
				name = strings.Trim(part.Header.Get("Content-ID"), `"`)
			}
			ups = append(ups, upload{path: strings.TrimPrefix(name, "/"), content: b, exec: hasExecutable(cd)})
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, nil, err
		}
		for k, vs := range r.PostForm {
			if metaFields[k] {
				meta[k] = vs
				continue
			}
			ups = append(ups, upload{path: strings.TrimPrefix(k, "/"), content: []byte(vs[len(vs)-1])})
		}
	default:
		return nil, nil, fmt.Errorf("unsupported content type %q", mt)
	}
	return ups, meta, nil
}

var nameParamRE = regexp.MustCompile(`(?:^|;)\s*name="([^"]*)"`)

var xattrRE = regexp.MustCompile(`(?i)x-attributes\s*[:=]\s*"?([a-z,]+)"?`)

func hasExecutable(cd string) bool {
	m := xattrRE.FindStringSubmatch(cd)
	return m != nil && slices.Contains(strings.Split(strings.ToLower(m[1]), ","), "executable")
}

func (s *Server) commitFiles(w http.ResponseWriter, r *http.Request) {
	ups, meta, err := parseCommitForm(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	branch := meta.Get("branch")
	if branch == "" {
		branch = rp.mainBranch
	}
	if !validBranchName(branch) {
		s.writeError(w, r, http.StatusBadRequest, "Invalid branch name: "+branch, "")
		return
	}
	var parents []string
	for _, p := range strings.Split(meta.Get("parents"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c := rp.resolve(p)
			if c == nil {
				s.writeError(w, r, http.StatusBadRequest, "Invalid parent: "+p, "")
				return
			}
			parents = append(parents, c.id)
		}
	}
	var base *commit
	if tip, ok := rp.branches[branch]; ok {
		if len(parents) > 0 && parents[0] != tip {
			s.writeError(w, r, http.StatusConflict, "Parent commit is not the tip of branch "+branch,
				fmt.Sprintf("The branch %s has moved to %s", branch, tip))
			return
		}
		base = rp.commits[tip]
	} else if len(parents) > 0 {
		base = rp.commits[parents[0]]
	} else {
		base = rp.resolve("")
	}
	var files map[string]entry
	var ps []string
	if base != nil {
		files, ps = base.files, []string{base.id}
	}
	var add []File
	for _, u := range ups {
		add = append(add, File{Path: u.path, Content: u.content, Executable: u.exec})
	}
	newFiles, err := applyFiles(files, add, meta["files"])
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error(), "")
		return
	}
	msg := meta.Get("message")
	if msg == "" {
		msg = "Committed via the API"
	}
	id := s.commitLocked(rp, ps, newFiles, msg)
	rp.branches[branch] = id
	s.commonHeaders(w, r)
	w.Header().Set("Location", s.apiRepoURL(rp)+"/commit/"+id)
	w.WriteHeader(http.StatusCreated)
}

// bbql parses the tiny subset of Bitbucket's query language the fake
// understands: field = "value" and field ~ "value" terms joined by one of
// AND or OR.
var termRE = regexp.MustCompile(`^\s*([a-z_.]+)\s*(=|~|!=)\s*"((?:[^"\\]|\\.)*)"\s*$`)

type term struct{ field, op, value string }

func bbql(q string) (terms []term, or bool, ok bool) {
	if strings.TrimSpace(q) == "" {
		return nil, false, true
	}
	sep := regexp.MustCompile(`\s+(?i:AND)\s+`)
	parts := sep.Split(q, -1)
	if len(parts) == 1 {
		parts = regexp.MustCompile(`\s+(?i:OR)\s+`).Split(q, -1)
		or = len(parts) > 1
	}
	for _, p := range parts {
		m := termRE.FindStringSubmatch(p)
		if m == nil {
			return nil, false, false
		}
		v, err := strconv.Unquote(`"` + m[3] + `"`)
		if err != nil {
			return nil, false, false
		}
		terms = append(terms, term{m[1], m[2], v})
	}
	return terms, or, true
}

func (t term) match(v string) bool {
	switch t.op {
	case "=":
		return v == t.value
	case "!=":
		return v != t.value
	}
	return strings.Contains(strings.ToLower(v), strings.ToLower(t.value))
}

func (s *Server) listBranches(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	terms, or, ok := bbql(r.URL.Query().Get("q"))
	if !ok {
		s.writeError(w, r, http.StatusBadRequest, "Invalid query", r.URL.Query().Get("q"))
		return
	}
	var items []any
	for _, name := range slices.Sorted(maps.Keys(rp.branches)) {
		keep := !or
		for _, t := range terms {
			if t.field != "name" {
				s.writeError(w, r, http.StatusBadRequest, "Invalid field: "+t.field, "")
				return
			}
			if or {
				keep = keep || t.match(name)
			} else {
				keep = keep && t.match(name)
			}
		}
		if len(terms) == 0 || keep {
			items = append(items, s.branchJSON(rp, name))
		}
	}
	s.writeJSON(w, r, http.StatusOK, paginate(r, items, 100))
}

func (s *Server) getBranch(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	name := r.PathValue("name")
	if _, ok := rp.branches[name]; !ok {
		s.writeError(w, r, http.StatusNotFound, "Branch not found", fmt.Sprintf("There is no branch named %q", name))
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.branchJSON(rp, name))
}

func (s *Server) createBranch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name   string `json:"name"`
		Target struct {
			Hash string `json:"hash"`
		} `json:"target"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	if !validBranchName(body.Name) {
		s.writeError(w, r, http.StatusBadRequest, "Invalid branch name: "+body.Name, "")
		return
	}
	if _, ok := rp.branches[body.Name]; ok {
		s.writeError(w, r, http.StatusBadRequest, "BRANCH_ALREADY_EXISTS", fmt.Sprintf("Branch %q already exists.", body.Name))
		return
	}
	c := rp.resolve(body.Target.Hash)
	if c == nil || body.Target.Hash == "" {
		s.writeError(w, r, http.StatusBadRequest, "Invalid target: "+body.Target.Hash, "")
		return
	}
	rp.branches[body.Name] = c.id
	s.writeJSON(w, r, http.StatusCreated, s.branchJSON(rp, body.Name))
}

func (s *Server) getCommit(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	c := rp.resolve(r.PathValue("commit"))
	if c == nil {
		s.writeError(w, r, http.StatusNotFound, "Commit not found", "")
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.commitJSON(rp, c))
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	terms, or, ok := bbql(q.Get("q"))
	if !ok || or {
		s.writeError(w, r, http.StatusBadRequest, "Invalid query", q.Get("q"))
		return
	}
	states := q["state"]
	if len(states) == 0 && !slices.ContainsFunc(terms, func(t term) bool { return t.field == "state" }) {
		states = []string{"OPEN"}
	}
	var items []any
	for _, p := range slices.Backward(rp.pulls) {
		if len(states) > 0 && !slices.ContainsFunc(states, func(st string) bool { return strings.EqualFold(st, p.state) }) {
			continue
		}
		keep := true
		for _, t := range terms {
			var v string
			switch t.field {
			case "source.branch.name":
				v = p.source
			case "destination.branch.name":
				v = p.dest
			case "state":
				v = p.state
			case "title":
				v = p.title
			default:
				s.writeError(w, r, http.StatusBadRequest, "Invalid field: "+t.field, "")
				return
			}
			keep = keep && t.match(v)
		}
		if keep {
			items = append(items, s.pullJSON(rp, p))
		}
	}
	s.writeJSON(w, r, http.StatusOK, paginate(r, items, 50))
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
	s.writeError(w, r, http.StatusNotFound, "Pull request not found", "")
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Draft       bool   `json:"draft"`
		CloseSource bool   `json:"close_source_branch"`
		Source      struct {
			Branch struct {
				Name string `json:"name"`
			} `json:"branch"`
		} `json:"source"`
		Destination *struct {
			Branch struct {
				Name string `json:"name"`
			} `json:"branch"`
		} `json:"destination"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	if strings.TrimSpace(body.Title) == "" {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"type": "error", "error": map[string]any{
			"message": "title: This field is required.", "fields": map[string]any{"title": []string{"This field is required."}}}})
		return
	}
	src := body.Source.Branch.Name
	dst := rp.mainBranch
	if body.Destination != nil && body.Destination.Branch.Name != "" {
		dst = body.Destination.Branch.Name
	}
	for _, b := range []string{src, dst} {
		if _, ok := rp.branches[b]; !ok || b == "" {
			s.writeError(w, r, http.StatusBadRequest, "Branch not found: "+b, "")
			return
		}
	}
	if src == dst {
		s.writeError(w, r, http.StatusBadRequest, "You can't merge a branch into itself.", "")
		return
	}
	for _, p := range rp.pulls {
		if p.state == "OPEN" && p.source == src && p.dest == dst {
			s.writeError(w, r, http.StatusBadRequest, fmt.Sprintf("There is already an open pull request from %s to %s.", src, dst), "")
			return
		}
	}
	if rp.isAncestor(rp.branches[src], rp.branches[dst]) {
		s.writeError(w, r, http.StatusBadRequest, "There are no changes to be pulled", "")
		return
	}
	p := &pull{id: len(rp.pulls) + 1, title: body.Title, description: body.Description, source: src, dest: dst,
		draft: body.Draft, state: "OPEN", created: s.now(), closeSource: body.CloseSource, author: s.actorName(r)}
	rp.pulls = append(rp.pulls, p)
	s.writeJSON(w, r, http.StatusCreated, s.pullJSON(rp, p))
}

var searchTokenRE = regexp.MustCompile(`([a-z]+):("[^"]*"|\S+)|"([^"]*)"|(\S+)`)

func (s *Server) searchCode(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ws, ok := s.workspaces[strings.ToLower(r.PathValue("ws"))]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("No workspace with identifier '%s'.", r.PathValue("ws")), "")
		return
	}
	if s.opts.SearchDisabled {
		s.writeError(w, r, http.StatusNotFound,
			"Search is not enabled for the requested workspace, navigate to https://bitbucket.org/search to turn it on", "")
		return
	}
	query := r.URL.Query().Get("search_query")
	if strings.TrimSpace(query) == "" {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"type": "error", "error": map[string]any{
			"message": "Search query is required", "data": map[string]any{"key": "search.empty-query"}}})
		return
	}
	var paths, repos, words []string
	for _, m := range searchTokenRE.FindAllStringSubmatch(query, -1) {
		switch {
		case m[1] == "path":
			paths = append(paths, strings.Trim(m[2], `"`))
		case m[1] == "repo":
			repos = append(repos, strings.Trim(m[2], `"`))
		case m[1] != "":
			// other modifiers (lang:, ext:) are ignored by the fake
		case m[3] != "":
			words = append(words, m[3])
		default:
			words = append(words, m[4])
		}
	}
	fields := r.URL.Query().Get("fields")
	var items []func() any
	for _, rp := range slices.SortedFunc(maps.Values(ws.repos), func(a, b *repo) int { return strings.Compare(a.slug, b.slug) }) {
		if len(repos) > 0 && !slices.Contains(repos, rp.slug) {
			continue
		}
		c := rp.resolve("")
		if c == nil {
			continue
		}
		for _, p := range slices.Sorted(maps.Keys(c.files)) {
			content := string(c.files[p].content)
			ok := true
			for _, want := range paths {
				ok = ok && (p == want || strings.HasSuffix(p, "/"+want) || strings.HasPrefix(p, want+"/"))
			}
			pathMatch := len(paths) > 0
			for _, wd := range words {
				inPath := strings.Contains(p, wd)
				pathMatch = pathMatch || inPath
				ok = ok && (inPath || strings.Contains(content, wd))
			}
			if !ok {
				continue
			}
			items = append(items, func() any { return s.searchResult(rp, c, p, pathMatch, fields) })
		}
	}
	page := paginateFunc(r, len(items), 100, func(i int) any { return items[i]() })
	page["query_substituted"] = false
	s.writeJSON(w, r, http.StatusOK, page)
}

// searchResult is one code_search_result.
func (s *Server) searchResult(rp *repo, c *commit, p string, pathMatch bool, fields string) any {
	repoRef := s.repoRef(rp)
	if strings.Contains(fields, "mainbranch") {
		repoRef["mainbranch"] = map[string]any{"name": rp.mainBranch, "type": "branch"}
	}
	if strings.Contains(fields, "is_private") {
		repoRef["is_private"] = !rp.public
	}
	commitRef := s.commitRef(rp, c.id)
	commitRef["repository"] = repoRef
	pm := map[string]any{"text": p}
	if pathMatch {
		pm["match"] = true
	}
	return map[string]any{"type": "code_search_result", "content_match_count": 0,
		"content_matches": []any{}, "path_matches": []any{pm},
		"file": map[string]any{"path": p, "type": "commit_file", "commit": commitRef,
			"links": links{"self": href(s.apiRepoURL(rp) + "/src/" + c.id + "/" + p)}}}
}
