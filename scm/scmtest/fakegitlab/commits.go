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
	c := pr.resolve(q.Get("ref_name"))
	if c == nil {
		s.notFound(w, r, "Commit")
		return
	}
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage <= 0 || perPage > 100 {
		perPage = 20
	}
	dir := strings.Trim(q.Get("path"), "/")
	out := []any{}
	for c != nil && len(out) < perPage {
		var parent *commit
		if len(c.parents) > 0 {
			parent = pr.commits[c.parents[0]]
		}
		if dir == "" || touches(c, parent, dir) {
			out = append(out, s.commitJSON(r, pr, c))
		}
		c = parent
	}
	w.Header().Set("X-Per-Page", strconv.Itoa(perPage))
	w.Header().Set("X-Page", "1")
	s.writeJSON(w, r, http.StatusOK, out)
}

// touches reports whether c changed anything under dir compared with
// parent (nil = none).
func touches(c, parent *commit, dir string) bool {
	in := func(p string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	n := 0
	for p, e := range c.files {
		if !in(p) {
			continue
		}
		n++
		if parent == nil {
			return true
		}
		if pe, ok := parent.files[p]; !ok || pe != e {
			return true
		}
	}
	if parent != nil {
		for p := range parent.files {
			if in(p) {
				n--
			}
		}
	}
	return n != 0
}
