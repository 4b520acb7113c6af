package fakegithub

import (
	"net/http"
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
