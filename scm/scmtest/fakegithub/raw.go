package fakegithub

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
)

// rawRoute is the route under which raw-content requests are counted in
// Stats.Routes.
const rawRoute = "GET /{owner}/{repo}/{ref}/{path...}"

// rawHandler serves GET /{owner}/{repo}/{ref}/{path...} as
// raw.githubusercontent.com does: the file's bytes as text/plain, with the
// blob id, quoted, as ETag and 304 Not Modified for a matching
// If-None-Match. The ref may contain slashes: the shortest leading part of
// the rest of the path that names a ref (a branch, tag, full ref name,
// commit id, or HEAD for the default branch) is taken as the ref. A
// symbolic link is served as its target path. A missing repository, ref or
// file, a directory, a submodule, and a private repository asked for
// without a credential that can see it all get 404 "404: Not Found" (so
// does a request with an Authorization header the fake does not accept).
func (s *Server) rawHandler() http.Handler {
	return s.hostHandler("raw", "GET /{owner}/{repo}/{rest...}", rawRoute, s.serveRaw)
}

// serveRaw answers a raw-content request.
func (s *Server) serveRaw(w http.ResponseWriter, r *http.Request) {
	r, good := s.authorize(r)
	blob, sha, ok := s.rawBlob(r)
	if !good || !ok {
		downloadNotFound(w)
		return
	}
	etag := `"` + sha + `"`
	h := w.Header()
	setHeaders(h, "Cache-Control", "max-age=300", "ETag", etag, "X-GitHub-Request-Id", requestID())
	if fake.ETagMatches(r.Header.Get("If-None-Match"), etag) {
		s.site.Core.Log().Count(func(st *Stats) { st.NotModified++ })
		w.WriteHeader(http.StatusNotModified)
		return
	}
	setHeaders(h,
		"Access-Control-Allow-Origin", "*", "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox",
		"Content-Type", "text/plain; charset=utf-8", "Cross-Origin-Resource-Policy", "cross-origin",
		"Strict-Transport-Security", "max-age=31536000", "X-Content-Type-Options", "nosniff", "X-Frame-Options", "deny",
		"X-XSS-Protection", "1; mode=block", "Content-Length", strconv.Itoa(len(blob)))
	w.WriteHeader(http.StatusOK)
	w.Write(blob)
}

// rawBlob finds the blob a raw-content request names, if the request may
// see it.
func (s *Server) rawBlob(r *http.Request) (blob []byte, sha string, ok bool) {
	s.site.Lock()
	defer s.site.Unlock()
	rp := s.visibleRepo(r)
	if rp == nil {
		return nil, "", false
	}
	parts := strings.Split(r.PathValue("rest"), "/")
	for n := 1; n < len(parts) && parts[0] != ""; n++ {
		c := rp.Resolve(strings.Join(parts[:n], "/"))
		if c == nil {
			continue
		}
		p := strings.Join(parts[n:], "/")
		e, ok := rp.Objects.Lookup(c.Git.Tree, p)
		if !cleanRel(p) || p == "" || !ok || (e.Mode != gitobj.ModeFile && e.Mode != gitobj.ModeExec && e.Mode != gitobj.ModeSymlink) {
			return nil, "", false
		}
		return rp.Objects[e.SHA].Blob, e.SHA, true
	}
	return nil, "", false
}
