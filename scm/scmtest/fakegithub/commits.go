package fakegithub

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

const docListCommits = "https://docs.github.com/rest/commits/commits#list-commits"

// listCommits answers GET /repos/{o}/{r}/commits with sha, path and
// per_page: the first-parent history of sha (the default branch when
// absent), newest first, keeping only the commits that changed something
// under path when it is given. A sha that resolves to nothing is 404 "No
// commit found for SHA: ...", as GitHub answers. Only the first page is
// served.
func (s *Server) listCommits(w http.ResponseWriter, r *http.Request, rp *repo) {
	q := r.URL.Query()
	ref := q.Get("sha")
	id, ok := rp.resolve(ref)
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "No commit found for SHA: "+ref, docListCommits)
		return
	}
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage <= 0 || perPage > 100 {
		perPage = 30
	}
	dir := strings.Trim(q.Get("path"), "/")
	out := []any{}
	for id != "" && len(out) < perPage {
		c := rp.objs[id].Commit
		parent := ""
		if len(c.Parents) > 0 {
			parent = c.Parents[0]
		}
		if dir == "" || s.touches(rp, id, parent, dir) {
			out = append(out, s.commitListJSON(r, rp, id))
		}
		id = parent
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// touches reports whether commit id changed anything under dir compared
// with parent ("" = no parent).
func (s *Server) touches(rp *repo, id, parent, dir string) bool {
	under := func(m map[string]gitobj.FlatEntry) map[string]gitobj.FlatEntry {
		k := map[string]gitobj.FlatEntry{}
		for p, e := range m {
			if p == dir || strings.HasPrefix(p, dir+"/") {
				k[p] = e
			}
		}
		return k
	}
	a := under(rp.objs.Flatten(rp.objs[id].Commit.Tree))
	b := map[string]gitobj.FlatEntry{}
	if parent != "" {
		b = under(rp.objs.Flatten(rp.objs[parent].Commit.Tree))
	}
	if len(a) != len(b) {
		return true
	}
	for p, e := range a {
		if b[p] != e {
			return true
		}
	}
	return false
}

// commitListJSON is one entry of the commit listing: the REST commit
// object wrapping the git commit.
func (s *Server) commitListJSON(r *http.Request, rp *repo, id string) map[string]any {
	api := apiURL(r) + "/repos/" + rp.owner.login + "/" + rp.name
	web := "http://" + r.Host + "/" + rp.owner.login + "/" + rp.name
	gc := s.gitCommitJSON(r, rp, id)
	return map[string]any{
		"sha": id, "node_id": gc["node_id"], "commit": gc, "url": api + "/commits/" + id, "html_url": web + "/commit/" + id,
		"comments_url": api + "/commits/" + id + "/comments", "author": nil, "committer": nil, "parents": gc["parents"],
	}
}
