package fakegithub

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

// listCommits answers GET /repos/{o}/{r}/commits with sha, path and
// per_page: the first-parent history of sha (the default branch when
// absent), newest first, keeping only the commits that changed something
// under path when it is given. A sha that resolves to nothing is 404 "No
// commit found for SHA: ...", as GitHub answers. Only the first page is
// served.
func (s *Server) listCommits(w http.ResponseWriter, r *http.Request, rp *repo, doc string) {
	q := r.URL.Query()
	ref := q.Get("sha")
	id, ok := rp.resolve(ref)
	if !ok {
		s.writeError(w, r, http.StatusNotFound, "No commit found for SHA: "+ref, doc)
		return
	}
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage <= 0 || perPage > 100 {
		perPage = 30
	}
	dir := strings.Trim(q.Get("path"), "/")
	out := []any{}
	for id != "" && len(out) < perPage {
		parent := ""
		if ps := rp.objs[id].Commit.Parents; len(ps) > 0 {
			parent = ps[0]
		}
		if dir == "" || rp.changed(id, parent, dir) {
			out = append(out, s.commitJSON(r, rp, id))
		}
		id = parent
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// changed reports whether commit id changed anything at or under p
// compared with parent ("" = no parent): whether the tree entries there
// differ, as the ids of equal trees are equal.
func (rp *repo) changed(id, parent, p string) bool {
	at := func(c string) gitobj.TreeEntry {
		if c == "" {
			return gitobj.TreeEntry{}
		}
		e, _ := rp.objs.Lookup(rp.objs[c].Commit.Tree, p)
		return e
	}
	return at(id) != at(parent)
}
