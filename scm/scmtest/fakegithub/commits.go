package fakegithub

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// listCommits answers GET /repos/{o}/{r}/commits with sha, path and
// per_page: the first-parent history of sha (the default branch when
// absent), newest first, keeping only the commits that changed something
// under path when it is given. A sha that resolves to nothing is 404 "No
// commit found for SHA: ...", as GitHub answers. Only the first page is
// served.
func (s *Server) listCommits(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, doc string) {
	q := r.URL.Query()
	ref := q.Get("sha")
	c := rp.Resolve(ref)
	if c == nil {
		s.writeError(w, r, http.StatusNotFound, "No commit found for SHA: "+ref, doc)
		return
	}
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage <= 0 || perPage > 100 {
		perPage = 30
	}
	list := rp.History(c, strings.Trim(q.Get("path"), "/"))
	s.writeJSON(w, r, http.StatusOK, listJSON(list[:min(perPage, len(list))], func(c *repostore.Commit) any { return s.commitJSON(r, rp, c.ID) }))
}

// lastChange returns the newest commit of c's first-parent history that
// changed something at or under p (c itself when p is "" or none did).
func lastChange(rp *repostore.Repo, c *repostore.Commit, p string) *repostore.Commit {
	for at := c; at != nil; at = rp.Parent(at) {
		if p == "" || slices.ContainsFunc(repostore.Changed(at, rp.Parent(at)), func(q string) bool { return repostore.Within(q, p) }) {
			return at
		}
	}
	return c
}
