package fakegitlab

import (
	"net/http"
	"strconv"
	"strings"
)

// listCommits answers GET /projects/:id/repository/commits with ref_name,
// path and per_page: the first-parent history of ref_name (the default
// branch when absent), newest first, keeping only the commits that changed
// something under path when it is given. Only the first page is served; a
// ref that names nothing is 404 "404 Commit Not Found".
func (s *Server) listCommits(w http.ResponseWriter, r *http.Request, pr *project) {
	q := r.URL.Query()
	c := pr.repo.Resolve(q.Get("ref_name"))
	if c == nil {
		s.notFound(w, r, "Commit")
		return
	}
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage <= 0 || perPage > 100 {
		perPage = 20
	}
	history := pr.repo.History(c, strings.Trim(q.Get("path"), "/"))
	out := []any{}
	for _, c := range history[:min(len(history), perPage)] {
		out = append(out, s.commitJSON(r, pr, c))
	}
	w.Header().Set("X-Per-Page", strconv.Itoa(perPage))
	w.Header().Set("X-Page", "1")
	s.writeJSON(w, r, http.StatusOK, out)
}
