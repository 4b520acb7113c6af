package fakebitbucketcloud

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// listCommits answers GET .../commits/{revision}?path=&pagelen=: the
// first-parent history of revision, newest first, keeping only the
// commits that changed something under path when it is given, as one page
// {"values", "pagelen"} (no "next": only the first page is served). A
// revision that names nothing is 404 "Commit not found".
func (s *Server) listCommits(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	c := rp.resolve(r.PathValue("revision"))
	if c == nil {
		s.writeError(w, r, http.StatusNotFound, "Commit not found", "")
		return
	}
	q := r.URL.Query()
	pagelen, err := strconv.Atoi(q.Get("pagelen"))
	if err != nil || pagelen <= 0 || pagelen > 100 {
		pagelen = 30
	}
	dir := strings.Trim(q.Get("path"), "/")
	values := []any{}
	for ; c != nil && len(values) < pagelen; c = rp.parent(c) {
		if dir == "" || touches(c, rp.parent(c), dir) {
			values = append(values, s.commitJSON(rp, c))
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"values": values, "pagelen": pagelen})
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
		pe, ok := parent.files[p]
		if !ok || pe.exec != e.exec || !bytes.Equal(pe.content, e.content) {
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
