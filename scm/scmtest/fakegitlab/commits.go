package fakegitlab

import (
	"net/http"
	"slices"
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
	for ; c != nil && len(out) < perPage; c = pr.parent(c) {
		if dir == "" || slices.ContainsFunc(changed(c, pr.parent(c)), func(p string) bool { return under(dir, p) }) {
			out = append(out, s.commitJSON(r, pr, c))
		}
	}
	w.Header().Set("X-Per-Page", strconv.Itoa(perPage))
	w.Header().Set("X-Page", "1")
	s.writeJSON(w, r, http.StatusOK, out)
}

// parent returns c's first parent, or nil.
func (pr *project) parent(c *commit) *commit {
	if len(c.parents) == 0 {
		return nil
	}
	return pr.commits[c.parents[0]]
}

// changed returns the paths whose files differ (added, removed or
// changed) between commits a and b; a nil commit has no files.
func changed(a, b *commit) []string {
	var fa, fb map[string]entry
	if a != nil {
		fa = a.files
	}
	if b != nil {
		fb = b.files
	}
	var out []string
	for p, e := range fa {
		if fb[p] != e {
			out = append(out, p)
		}
	}
	for p := range fb {
		if _, ok := fa[p]; !ok {
			out = append(out, p)
		}
	}
	return out
}

// under reports whether path p is dir or below it; every path is below "".
func under(dir, p string) bool { return dir == "" || p == dir || strings.HasPrefix(p, dir+"/") }
