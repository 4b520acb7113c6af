package fakebitbucketcloud

import (
	"bytes"
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	"unicode/utf8"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

const repoRoute = "/2.0/repositories/{ws}/{slug}"

func (s *Server) apiRoutes(mux *http.ServeMux) {
	s.st.Handle(mux, "GET /2.0/user", s.oauthUser)          // oauth.go
	s.st.Handle(mux, "GET /2.0/user/emails", s.oauthEmails) // oauth.go
	s.st.HandleOwner(mux, "GET /2.0/repositories/{ws}", s.listRepos)
	s.st.HandleOwner(mux, "GET /2.0/workspaces/{ws}/search/code", s.searchCode)
	s.st.HandleOwner(mux, "POST "+repoRoute, s.createRepo)
	s.st.HandleRepos(mux, repoRoute, s.accessRoutes()) // access.go
	s.st.HandleRepos(mux, repoRoute, map[string]func(http.ResponseWriter, *http.Request, *repostore.Repo){
		"GET ":                         s.getRepo,
		"GET /src/{commit}":            s.src,
		"GET /src/{commit}/{path...}":  s.src,
		"POST /src":                    s.commitFiles,
		"GET /refs/branches":           s.listBranches,
		"GET /refs/branches/{name...}": s.getBranch,
		"GET /commits/{revision}":      s.listCommits,
		"GET /pullrequests":            s.listPulls,
		"POST /pullrequests":           s.createPull,
		"GET /pullrequests/{$}":        s.listPulls,  // go-bitbucket sends the trailing slash,
		"POST /pullrequests/{$}":       s.createPull, // which Bitbucket accepts
		"GET /pullrequests/{id}":       s.getPull,
	})
}

// ---- JSON shapes (from the recorded bodies) ----

type links map[string]any

func href(u string) map[string]string { return map[string]string{"href": u} }

func (s *Server) apiRepoURL(rp *repostore.Repo) string {
	return s.api.URL + "/2.0/repositories/" + rp.Owner.Key + "/" + rp.Slug
}

func (s *Server) webRepoURL(rp *repostore.Repo) string {
	return s.api.URL + "/" + rp.Owner.Key + "/" + rp.Slug
}

func repoUUID(rp *repostore.Repo) string { return uuid("repo", rp.ID) }

func (s *Server) repoRef(rp *repostore.Repo) map[string]any {
	return map[string]any{"type": "repository", "full_name": rp.Owner.Key + "/" + rp.Slug, "name": rp.Name, "uuid": repoUUID(rp),
		"links": links{"self": href(s.apiRepoURL(rp)), "html": href(s.webRepoURL(rp)),
			"avatar": href(s.api.URL + "/ravatar/" + url.PathEscape(repoUUID(rp)))}}
}

func (s *Server) workspaceRef(w *repostore.Owner) map[string]any {
	return map[string]any{"type": "workspace", "uuid": uuid("ws", w.ID), "name": w.Key, "slug": w.Key,
		"links": links{"avatar": href(s.api.URL + "/workspaces/" + w.Key + "/avatar"), "html": href(s.api.URL + "/" + w.Key + "/"),
			"self": href(s.api.URL + "/2.0/workspaces/" + w.Key)}}
}

func (s *Server) ownerJSON(w *repostore.Owner) map[string]any {
	id := uuid("ws", w.ID)
	return map[string]any{"display_name": w.Key, "type": "team", "uuid": id, "username": w.Key,
		"account_id": "557058:" + strings.Trim(id, "{}"), "nickname": w.Key,
		"links": links{"self": href(s.api.URL + "/2.0/workspaces/" + url.PathEscape(id)), "html": href(s.api.URL + "/" + w.Key + "/"),
			"avatar": href(s.api.URL + "/account/" + w.Key + "/avatar/")}}
}

func (s *Server) repoJSON(rp *repostore.Repo) map[string]any {
	api, web, ws, pk := s.apiRepoURL(rp), s.webRepoURL(rp), rp.Owner.Key, rp.Project
	l := links{"self": href(api), "html": href(web), "avatar": href(s.api.URL + "/ravatar/" + url.PathEscape(repoUUID(rp))),
		"clone": []map[string]string{
			{"name": "https", "href": "http://" + s.Host() + "/" + ws + "/" + rp.Slug + ".git"},
			{"name": "ssh", "href": "git@" + strings.Split(s.Host(), ":")[0] + ":" + ws + "/" + rp.Slug + ".git"},
		}}
	for k, p := range map[string]string{"pullrequests": "/pullrequests", "commits": "/commits", "forks": "/forks", "watchers": "/watchers",
		"branches": "/refs/branches", "tags": "/refs/tags", "downloads": "/downloads", "source": "/src", "hooks": "/hooks", "issues": "/issues"} {
		l[k] = href(api + p)
	}
	return map[string]any{
		"type": "repository", "full_name": ws + "/" + rp.Slug, "name": rp.Name, "slug": rp.Slug,
		"description": rp.Description, "scm": "git", "website": nil, "uuid": repoUUID(rp), "is_private": !rp.Public,
		"fork_policy": "no_public_forks", "language": "", "has_issues": false, "has_wiki": false, "size": 1024,
		"created_on": bbTime(rp.Created), "updated_on": bbTime(rp.Created),
		"mainbranch": map[string]any{"name": rp.DefaultBranch, "type": "branch"},
		"owner":      s.ownerJSON(rp.Owner), "workspace": s.workspaceRef(rp.Owner),
		"enforced_signed_commits": false,
		"override_settings":       map[string]any{"default_merge_strategy": true, "branching_model": true},
		"project": map[string]any{"type": "project", "key": pk, "uuid": uuid("project" + pk), "name": pk,
			"links": links{"self": href(s.api.URL + "/2.0/workspaces/" + ws + "/projects/" + pk),
				"html":   href(s.api.URL + "/" + ws + "/workspace/projects/" + pk),
				"avatar": href(s.api.URL + "/account/user/" + ws + "/projects/" + pk + "/avatar/32")}},
		"links": l,
	}
}

func (s *Server) commitRef(rp *repostore.Repo, id string) map[string]any {
	return map[string]any{"hash": id, "type": "commit",
		"links": links{"self": href(s.apiRepoURL(rp) + "/commit/" + id), "html": href(s.webRepoURL(rp) + "/commits/" + id)}}
}

func (s *Server) commitJSON(rp *repostore.Repo, c *repostore.Commit) map[string]any {
	m := s.commitRef(rp, c.ID)
	parents := []any{}
	for _, p := range c.Parents {
		parents = append(parents, s.commitRef(rp, p))
	}
	m["parents"], m["repository"], m["message"] = parents, s.repoRef(rp), c.Message
	m["author"] = map[string]any{"raw": c.Author + " <fake@example.com>", "type": "author"}
	m["date"] = c.When.UTC().Format("2006-01-02T15:04:05+00:00")
	l, api := m["links"].(links), s.apiRepoURL(rp)
	l["comments"] = href(api + "/commit/" + c.ID + "/comments")
	l["patch"] = href(api + "/patch/" + c.ID)
	l["diff"] = href(api + "/diff/" + c.ID)
	l["approve"] = href(api + "/commit/" + c.ID + "/approve")
	l["statuses"] = href(api + "/commit/" + c.ID + "/statuses")
	return m
}

func (s *Server) branchJSON(rp *repostore.Repo, name string) map[string]any {
	return map[string]any{"name": name, "type": "branch",
		"links": links{"commits": href(s.apiRepoURL(rp) + "/commits/" + name), "self": href(s.apiRepoURL(rp) + "/refs/branches/" + name),
			"html": href(s.webRepoURL(rp) + "/branch/" + name)},
		"default_merge_strategy": "merge_commit", "merge_strategies": []string{"merge_commit", "squash", "fast_forward"},
		"target": s.commitJSON(rp, rp.Commits[rp.Branches[name]])}
}

func rendered(raw string) map[string]any {
	return map[string]any{"raw": raw, "markup": "markdown", "html": "<p>" + raw + "</p>", "type": "rendered"}
}

func (s *Server) pullJSON(rp *repostore.Repo, p *repostore.Pull) map[string]any {
	api := s.apiRepoURL(rp) + "/pullrequests/" + strconv.Itoa(p.ID)
	end := func(branch string) map[string]any {
		// Pull requests name commits by a 12-hex abbreviation.
		c := s.commitRef(rp, rp.Branches[branch][:12])
		return map[string]any{"branch": map[string]any{"name": branch}, "commit": c, "repository": s.repoRef(rp)}
	}
	l := links{"self": href(api), "html": href(s.prWebURL(rp, p.ID))}
	for _, k := range []string{"commits", "approve", "request-changes", "diff", "diffstat", "comments", "activity", "merge", "decline", "statuses"} {
		l[k] = href(api + "/" + k)
	}
	ts := bbTime(p.Created)
	return map[string]any{
		"type": "pullrequest", "id": p.ID, "title": p.Title, "description": p.Description,
		"summary":  rendered(p.Description),
		"rendered": map[string]any{"title": rendered(p.Title), "description": rendered(p.Description)},
		"state":    p.State, "draft": p.Draft, "author": s.authorJSON(p.Author), "source": end(p.From), "destination": end(p.To),
		"merge_commit": nil, "comment_count": 0, "task_count": 0, "close_source_branch": p.CloseSource, "closed_by": nil,
		"reason": "", "created_on": ts, "updated_on": ts, "reviewers": []any{}, "participants": []any{}, "links": l,
	}
}

// bbTime formats a timestamp as Bitbucket does:
// "2020-11-03T12:09:39.418592+00:00".
func bbTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000+00:00") }

func etagOf(e repostore.Entry) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00%v", e.Blob, e.Exec)
	return `"` + hex.EncodeToString(h.Sum(nil)) + `"`
}

func (s *Server) fileJSON(rp *repostore.Repo, c *repostore.Commit, p string) map[string]any {
	e := c.Files[p]
	src := s.apiRepoURL(rp) + "/src/" + c.ID + "/" + p
	var mimetype any
	if mt := mime.TypeByExtension(path.Ext(p)); mt != "" {
		mimetype = strings.Split(mt, ";")[0]
	}
	attrs := []string{}
	if e.Exec {
		attrs = append(attrs, "executable")
	}
	return map[string]any{"path": p, "commit": s.commitRef(rp, c.ID), "type": "commit_file", "attributes": attrs,
		"escaped_path": p, "size": len(e.Content), "mimetype": mimetype,
		"links": links{"self": href(src), "meta": href(src + "?format=meta"),
			"history": href(s.apiRepoURL(rp) + "/filehistory/" + c.ID + "/" + p)}}
}

func (s *Server) dirJSON(rp *repostore.Repo, c *repostore.Commit, p string) map[string]any {
	src := s.apiRepoURL(rp) + "/src/" + c.ID + "/" + p + "/"
	return map[string]any{"path": p, "commit": s.commitRef(rp, c.ID), "type": "commit_directory",
		"links": links{"self": href(src), "meta": href(src + "?format=meta")}}
}

// ---- handlers ----

// noWorkspace answers a request for a workspace that does not exist.
func (s *Server) noWorkspace(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("No workspace with identifier '%s'.", r.PathValue("ws")), "")
}

func (s *Server) listRepos(w http.ResponseWriter, r *http.Request, ws *repostore.Owner) {
	repos := ws.SortedRepos()
	s.writeJSON(w, r, http.StatusOK, paginate(r, len(repos), 100, func(i int) any { return s.repoJSON(repos[i]) }))
}

func (s *Server) getRepo(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	s.writeJSON(w, r, http.StatusOK, s.repoJSON(rp))
}

// resolveSrc splits the {commit}/{path} of a src URL: the commit segment
// may be a branch with an escaped "/", or the start of a branch name whose
// slashes were sent as they are.
func resolveSrc(rp *repostore.Repo, commitSeg, p string) (*repostore.Commit, string) {
	if c := rp.Resolve(commitSeg); c != nil {
		return c, p
	}
	segs := strings.Split(p, "/")
	for i := len(segs); i >= 1; i-- {
		if c := rp.Resolve(commitSeg + "/" + strings.Join(segs[:i], "/")); c != nil {
			return c, strings.Join(segs[i:], "/")
		}
	}
	return nil, p
}

func (s *Server) src(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	c, p := resolveSrc(rp, r.PathValue("commit"), strings.Trim(r.PathValue("path"), "/"))
	if c == nil {
		s.writeError(w, r, http.StatusNotFound, "Commit not found", fmt.Sprintf("Commit %q does not exist", r.PathValue("commit")))
		return
	}
	q := r.URL.Query()
	meta := q.Get("format") == "meta"
	if e, ok := c.Files[p]; ok && meta {
		s.writeJSON(w, r, http.StatusOK, s.fileJSON(rp, c, p))
	} else if ok {
		s.serveFile(w, r, p, e)
	} else if !fake.IsDir(c.Files, p) {
		s.writeError(w, r, http.StatusNotFound, "No such file or directory: "+p, "")
	} else if meta {
		s.writeJSON(w, r, http.StatusOK, s.dirJSON(rp, c, p))
	} else {
		// q filters the listing (every level of it) before it is paged.
		terms, or, err := bbql(q.Get("q"), "path", "type")
		if err != nil {
			s.writeError(w, r, http.StatusBadRequest, err.Error(), q.Get("q"))
			return
		}
		// max_depth lists breadth-first, each level sorted, directories
		// before files.
		var items []any
		level := []string{p}
		for d := 0; d < intParam(q, "max_depth", 1) && len(level) > 0; d++ {
			var next []string
			for _, dir := range level {
				dirs, files := repostore.Children(c.Files, dir)
				for _, sub := range dirs {
					if match(terms, or, map[string]string{"path": sub, "type": "commit_directory"}) {
						items = append(items, s.dirJSON(rp, c, sub))
					}
				}
				for _, f := range files {
					if match(terms, or, map[string]string{"path": f, "type": "commit_file"}) {
						items = append(items, s.fileJSON(rp, c, f))
					}
				}
				next = append(next, dirs...)
			}
			level = next
		}
		s.writeJSON(w, r, http.StatusOK, values(r, items, 100))
	}
}

// serveFile answers a file's raw content, with an ETag of its content and
// attributes.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, p string, e repostore.Entry) {
	s.commonHeaders(w, r)
	if repostore.NotModified(w, r, etagOf(e)) {
		s.core.Log().Count(func(st *Stats) { st.NotModified++ })
		return
	}
	// Derived from the file name, not the content, as Bitbucket does.
	ct := mime.TypeByExtension(path.Ext(p))
	if ct == "" {
		ct = "text/plain"
		if !utf8.Valid(e.Content) || bytes.ContainsFunc(e.Content, func(c rune) bool {
			return c == 0x7f || c < 0x20 && !strings.ContainsRune("\b\f\n\r\t", c)
		}) {
			ct = "application/octet-stream"
		}
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+path.Base(p)+`"`)
	fake.Write(w, r, http.StatusOK, strings.Split(ct, ";")[0], e.Content)
}

var metaFields = map[string]bool{"message": true, "author": true, "parents": true, "files": true, "branch": true}

var nameParamRE = regexp.MustCompile(`(?:^|;)\s*name="([^"]*)"`)

var xattrRE = regexp.MustCompile(`(?i)x-attributes\s*[:=]\s*"?([a-z,]+)"?`)

// parseCommitForm reads a POST src body: uploads and metadata.
func parseCommitForm(r *http.Request) ([]fake.File, url.Values, error) {
	meta := url.Values{}
	var ups []fake.File
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
			if m := nameParamRE.FindStringSubmatch(cd); name == "" && m != nil {
				// "attachment" parts, or parameters written with ":" as in
				// Bitbucket's documentation: read name= by hand.
				name = m[1]
			}
			if part.FileName() == "" && !strings.Contains(cd, "filename") {
				meta.Add(name, string(b))
				continue
			}
			if name == "" {
				name = strings.Trim(part.Header.Get("Content-ID"), `"`)
			}
			m := xattrRE.FindStringSubmatch(cd)
			exec := m != nil && slices.Contains(strings.Split(strings.ToLower(m[1]), ","), "executable")
			ups = append(ups, fake.File{Path: strings.TrimPrefix(name, "/"), Content: b, Executable: exec})
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
			ups = append(ups, fake.File{Path: strings.TrimPrefix(k, "/"), Content: []byte(vs[len(vs)-1])})
		}
	default:
		return nil, nil, fmt.Errorf("unsupported content type %q", mt)
	}
	return ups, meta, nil
}

func (s *Server) commitFiles(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	ups, meta, err := parseCommitForm(r)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	branch := cmp.Or(meta.Get("branch"), rp.DefaultBranch)
	if !repostore.ValidBranchName(branch) {
		s.writeError(w, r, http.StatusBadRequest, "Invalid branch name: "+branch, "")
		return
	}
	var parents []string
	for _, p := range strings.Split(meta.Get("parents"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c := rp.Resolve(p)
			if c == nil {
				s.writeError(w, r, http.StatusBadRequest, "Invalid parent: "+p, "")
				return
			}
			parents = append(parents, c.ID)
		}
	}
	base := rp.Resolve("")
	if tip, ok := rp.Branches[branch]; ok {
		if len(parents) > 0 && parents[0] != tip {
			s.writeError(w, r, http.StatusConflict, "Parent commit is not the tip of branch "+branch,
				fmt.Sprintf("The branch %s has moved to %s", branch, tip))
			return
		}
		base = rp.Commits[tip]
	} else if len(parents) > 0 {
		base = rp.Commits[parents[0]]
	}
	id, err := s.st.Write(rp, branch, base, ups, meta["files"], cmp.Or(meta.Get("message"), "Committed via the API"))
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error(), "")
		return
	}
	s.commonHeaders(w, r)
	w.Header().Set("Location", s.apiRepoURL(rp)+"/commit/"+id)
	w.WriteHeader(http.StatusCreated)
}

// bbql parses the tiny subset of Bitbucket's query language the fake
// understands: field = "value" terms (the value a double-quoted string in
// which \" and \\ stand for " and \) joined by one of AND or OR, in any
// case. A value may hold " AND " or " OR ": the query is read term by
// term, not split.
var fieldRE = regexp.MustCompile(`^\s*([a-z_.]+)\s*=\s*"`)

type term struct{ field, value string }

// bbql returns the terms of q, which may name only the given fields, and
// whether they are joined by OR; its error is Bitbucket's message.
func bbql(q string, fields ...string) (terms []term, or bool, err error) {
	invalid := errors.New("Invalid query")
	rest := q
	if strings.TrimSpace(rest) == "" {
		return nil, false, nil
	}
	joiner := ""
	for {
		m := fieldRE.FindStringSubmatchIndex(rest)
		if m == nil {
			return nil, false, invalid
		}
		field := rest[m[2]:m[3]]
		var v strings.Builder
		i, closed := m[1], false
		for i < len(rest) && !closed {
			switch c := rest[i]; {
			case c == '\\' && i+1 < len(rest) && (rest[i+1] == '"' || rest[i+1] == '\\'):
				v.WriteByte(rest[i+1])
				i += 2
			case c == '\\':
				return nil, false, invalid
			case c == '"':
				closed = true
				i++
			default:
				v.WriteByte(c)
				i++
			}
		}
		if !closed {
			return nil, false, invalid
		}
		if !slices.Contains(fields, field) {
			return nil, false, errors.New("Invalid field: " + field)
		}
		terms = append(terms, term{field, v.String()})
		rest = rest[i:]
		if strings.TrimSpace(rest) == "" {
			return terms, joiner == "OR", nil
		}
		word, after, ok := strings.Cut(strings.TrimLeft(rest, " \t"), " ")
		word = strings.ToUpper(word)
		if !ok || (word != "AND" && word != "OR") || (joiner != "" && word != joiner) || rest[0] != ' ' && rest[0] != '\t' {
			return nil, false, invalid
		}
		joiner, rest = word, after
	}
}

// match reports whether the terms accept an object with fields.
func match(terms []term, or bool, fields map[string]string) bool {
	keep := len(terms) == 0 || !or
	for _, t := range terms {
		if or {
			keep = keep || fields[t.field] == t.value
		} else {
			keep = keep && fields[t.field] == t.value
		}
	}
	return keep
}

func (s *Server) listBranches(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	terms, or, err := bbql(r.URL.Query().Get("q"), "name")
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error(), r.URL.Query().Get("q"))
		return
	}
	var items []any
	for _, name := range slices.Sorted(maps.Keys(rp.Branches)) {
		if match(terms, or, map[string]string{"name": name}) {
			items = append(items, s.branchJSON(rp, name))
		}
	}
	s.writeJSON(w, r, http.StatusOK, values(r, items, 100))
}

func (s *Server) getBranch(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	name := r.PathValue("name")
	if _, ok := rp.Branches[name]; !ok {
		s.writeError(w, r, http.StatusNotFound, "Branch not found", fmt.Sprintf("There is no branch named %q", name))
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.branchJSON(rp, name))
}

// decode reads a JSON body into v, answering 400 when it cannot.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(v); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "Bad request", err.Error())
		return false
	}
	return true
}

type named struct {
	Name string `json:"name"`
}

type branchRef struct {
	Branch named `json:"branch"`
}

// listCommits answers GET .../commits/{revision}?path=&pagelen=: the
// first-parent history of revision, newest first, keeping only the
// commits that changed something under path when it is given, as one page
// {"values", "pagelen"} (no "next": only the first page is served).
func (s *Server) listCommits(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	c := rp.Resolve(r.PathValue("revision"))
	if c == nil {
		s.writeError(w, r, http.StatusNotFound, "Commit not found", "")
		return
	}
	pagelen := intParam(r.URL.Query(), "pagelen", 30)
	if pagelen > 100 {
		pagelen = 30
	}
	values := []any{}
	for _, c := range rp.History(c, strings.Trim(r.URL.Query().Get("path"), "/")) {
		if len(values) < pagelen {
			values = append(values, s.commitJSON(rp, c))
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"values": values, "pagelen": pagelen})
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	q := r.URL.Query()
	terms, or, err := bbql(q.Get("q"), "source.branch.name", "destination.branch.name", "state", "title")
	if err == nil && or {
		err = errors.New("Invalid query") // terms of pull requests take AND only
	}
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, err.Error(), q.Get("q"))
		return
	}
	states := q["state"]
	if len(states) == 0 && !slices.ContainsFunc(terms, func(t term) bool { return t.field == "state" }) {
		states = []string{"OPEN"}
	}
	var items []any
	for _, p := range slices.Backward(rp.Pulls) {
		if len(states) > 0 && !slices.ContainsFunc(states, func(st string) bool { return strings.EqualFold(st, p.State) }) {
			continue
		}
		if match(terms, false, map[string]string{"source.branch.name": p.From, "destination.branch.name": p.To, "state": p.State, "title": p.Title}) {
			items = append(items, s.pullJSON(rp, p))
		}
	}
	s.writeJSON(w, r, http.StatusOK, values(r, items, 50))
}

func (s *Server) getPull(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	if p := rp.Pull(id); p != nil {
		s.writeJSON(w, r, http.StatusOK, s.pullJSON(rp, p))
		return
	}
	s.writeError(w, r, http.StatusNotFound, "Pull request not found", "")
}

func (s *Server) createPull(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	var body struct {
		Title       string     `json:"title"`
		Description string     `json:"description"`
		Draft       bool       `json:"draft"`
		CloseSource bool       `json:"close_source_branch"`
		Source      branchRef  `json:"source"`
		Destination *branchRef `json:"destination"`
	}
	if !s.decode(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.Title) == "" {
		s.writeFields(w, r, "title: This field is required.", "title", "This field is required.")
		return
	}
	src, dst := body.Source.Branch.Name, rp.DefaultBranch
	if body.Destination != nil && body.Destination.Branch.Name != "" {
		dst = body.Destination.Branch.Name
	}
	switch problem, branch, _ := rp.CheckPull(src, dst); problem {
	case repostore.PullNoBranch:
		s.writeError(w, r, http.StatusBadRequest, "Branch not found: "+branch, "")
	case repostore.PullSameBranch:
		s.writeError(w, r, http.StatusBadRequest, "You can't merge a branch into itself.", "")
	case repostore.PullDuplicate:
		s.writeError(w, r, http.StatusBadRequest, fmt.Sprintf("There is already an open pull request from %s to %s.", src, dst), "")
	case repostore.PullNoChanges:
		s.writeError(w, r, http.StatusBadRequest, "There are no changes to be pulled", "")
	default:
		p := s.st.Open(rp, repostore.Pull{Title: body.Title, Description: body.Description, From: src, To: dst,
			Draft: body.Draft, CloseSource: body.CloseSource, Author: s.actorName(r)})
		s.writeJSON(w, r, http.StatusCreated, s.pullJSON(rp, p))
	}
}

// slugRE is the slug rule the fake enforces (Bitbucket lower-cases a
// name into its slug; the fake refuses anything else so tests notice).
var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,61}$`)

// createRepo answers POST /2.0/repositories/{workspace}/{repo_slug} as
// Bitbucket Cloud does: 200 with the repository (empty: no branch until
// the first commit); 400 "Repository with this Slug and Owner already
// exists." for a taken slug; 404 for an unknown workspace.
func (s *Server) createRepo(w http.ResponseWriter, r *http.Request, ws *repostore.Owner) {
	var body struct {
		SCM         string `json:"scm"`
		IsPrivate   *bool  `json:"is_private"`
		Description string `json:"description"`
		Name        string `json:"name"`
		Mainbranch  *named `json:"mainbranch"`
		Project     *struct {
			Key string `json:"key"`
		} `json:"project"`
	}
	if r.ContentLength != 0 && !s.decode(w, r, &body) {
		return
	}
	if body.SCM != "" && body.SCM != "git" {
		s.writeError(w, r, http.StatusBadRequest, "scm: Select a valid choice. "+body.SCM+" is not one of the available choices.", "")
		return
	}
	slug := r.PathValue("slug")
	if !slugRE.MatchString(slug) {
		s.writeError(w, r, http.StatusBadRequest, "Invalid slug", "")
		return
	}
	n := repostore.Repo{Slug: slug, Name: body.Name, Description: body.Description, Public: body.IsPrivate != nil && !*body.IsPrivate, Project: "PROJ"}
	if body.Mainbranch != nil {
		n.DefaultBranch = body.Mainbranch.Name
	}
	if body.Project != nil {
		n.Project = cmp.Or(body.Project.Key, n.Project)
	}
	rp, err := s.st.Create(ws, n)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, "Repository with this Slug and Owner already exists.", "")
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.repoJSON(rp))
}

var searchTokenRE = regexp.MustCompile(`([a-z]+):("[^"]*"|\S+)|"([^"]*)"|(\S+)`)

func (s *Server) searchCode(w http.ResponseWriter, r *http.Request, ws *repostore.Owner) {
	query := r.URL.Query().Get("search_query")
	switch {
	case s.opts.SearchDisabled:
		s.writeError(w, r, http.StatusNotFound,
			"Search is not enabled for the requested workspace, navigate to https://bitbucket.org/search to turn it on", "")
		return
	case strings.TrimSpace(query) == "":
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
		default:
			words = append(words, m[3]+m[4])
		}
	}
	fields := r.URL.Query().Get("fields")
	var items []func() any
	for _, rp := range ws.SortedRepos() {
		c := rp.Resolve("")
		if c == nil || len(repos) > 0 && !slices.Contains(repos, rp.Slug) {
			continue
		}
		for _, p := range repostore.Under(c.Files, "") {
			ok, pathMatch := true, len(paths) > 0
			for _, want := range paths {
				ok = ok && (p == want || strings.HasSuffix(p, "/"+want) || strings.HasPrefix(p, want+"/"))
			}
			for _, wd := range words {
				inPath := strings.Contains(p, wd)
				pathMatch = pathMatch || inPath
				ok = ok && (inPath || bytes.Contains(c.Files[p].Content, []byte(wd)))
			}
			if ok {
				items = append(items, func() any { return s.searchResult(rp, c, p, pathMatch, fields) })
			}
		}
	}
	page := paginate(r, len(items), 100, func(i int) any { return items[i]() })
	page["query_substituted"] = false
	s.writeJSON(w, r, http.StatusOK, page)
}

// searchResult is one code_search_result.
func (s *Server) searchResult(rp *repostore.Repo, c *repostore.Commit, p string, pathMatch bool, fields string) any {
	repoRef := s.repoRef(rp)
	if strings.Contains(fields, "mainbranch") {
		repoRef["mainbranch"] = map[string]any{"name": rp.DefaultBranch, "type": "branch"}
	}
	if strings.Contains(fields, "is_private") {
		repoRef["is_private"] = !rp.Public
	}
	commitRef := s.commitRef(rp, c.ID)
	commitRef["repository"] = repoRef
	pm := map[string]any{"text": p}
	if pathMatch {
		pm["match"] = true
	}
	return map[string]any{"type": "code_search_result", "content_match_count": 0,
		"content_matches": []any{}, "path_matches": []any{pm},
		"file": map[string]any{"path": p, "type": "commit_file", "commit": commitRef,
			"links": links{"self": href(s.apiRepoURL(rp) + "/src/" + c.ID + "/" + p)}}}
}
