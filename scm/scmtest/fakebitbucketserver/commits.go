package fakebitbucketserver

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// listCommits answers GET .../commits?until=&path=&limit=&start=: the
// history of until (the default branch when absent), newest first,
// keeping only the commits that changed something under path when it is
// given, as one page of Bitbucket's paged shape. An until that names
// nothing is 404 NoSuchCommitException.
func (s *Server) listCommits(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.lookup(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	until := q.Get("until")
	c := rp.resolve(until)
	if c == nil {
		if until == "" {
			until = rp.defaultBranch
		}
		s.writeError(w, r, http.StatusNotFound, exNoSuchCommit, fmt.Sprintf("Commit '%s' does not exist in repository '%s'.", until, rp.slug))
		return
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 || limit > 1000 {
		limit = 25
	}
	start, err := strconv.Atoi(q.Get("start"))
	if err != nil || start < 0 {
		start = 0
	}
	dir := strings.Trim(q.Get("path"), "/")
	var all []*commit
	for ; c != nil; c = rp.commits[c.parent] {
		if dir == "" || touches(c, rp.commits[c.parent], dir) {
			all = append(all, c)
		}
	}
	values := []any{}
	for i := start; i < len(all) && len(values) < limit; i++ {
		values = append(values, s.commitJSON(all[i]))
	}
	page := map[string]any{"size": len(values), "limit": limit, "start": start, "values": values,
		"isLastPage": start+len(values) >= len(all)}
	if start+len(values) < len(all) {
		page["nextPageStart"] = start + len(values)
	}
	s.writeJSON(w, r, http.StatusOK, page)
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
