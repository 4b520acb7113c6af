package fakebitbucketcloud

import (
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

func (s *Server) webRoutes(mux *http.ServeMux) {
	s.st.Handle(mux, "GET /{ws}/{slug}/get/{ref...}", s.archive)
	s.st.Route(mux, "POST /site/oauth2/access_token", s.oauth().Token) // oauth.go
	s.st.Route(mux, "GET /site/oauth2/authorize", s.oauth().Authorize) // oauth.go
}

// downloadHandler serves the download host: the archives the web host
// redirected to.
func (s *Server) downloadHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.st.Record(r, "download", "GET /{token}/{name}")
		s.core.Serve(w, r, "download", "api", func(w http.ResponseWriter, r *http.Request) {
			s.st.Lock()
			b, ok := s.downloads[r.URL.Path]
			s.st.Unlock()
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			fake.Write(w, r, http.StatusOK, "application/x-gzip", b)
		})
	})
}

// archive serves /{ws}/{slug}/get/{ref}.tar.gz (or .zip): the tree at ref
// under "{ws}-{slug}-{12-hex commit}/".
func (s *Server) archive(w http.ResponseWriter, r *http.Request) {
	if s.opts.ArchiveRefusesBearer && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		s.commonHeaders(w, r)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "Access tokens are not supported for this resource.\n")
		return
	}
	types := map[string]string{".tar.gz": "application/x-gzip", ".zip": "application/zip"}
	ref, ext := r.PathValue("ref"), ""
	for e := range types {
		if strings.HasSuffix(ref, e) {
			ref, ext = strings.TrimSuffix(ref, e), e
		}
	}
	s.st.Lock()
	defer s.st.Unlock()
	var c *repostore.Commit
	rp, err := s.st.Repo(r.PathValue("ws"), r.PathValue("slug"))
	if err == nil {
		c = rp.Resolve(ref)
	}
	if c == nil || ext == "" {
		s.notFoundPage(w, r)
		return
	}
	name := rp.Owner.Key + "-" + rp.Slug + "-" + c.ID[:12]
	b, err := repostore.Pack(c, strings.TrimPrefix(ext, "."), name+"/", 0o755, false)
	if err != nil {
		s.writeError(w, r, http.StatusInternalServerError, err.Error(), "")
		return
	}
	s.commonHeaders(w, r)
	if s.redirect {
		p := "/" + requestID() + "/" + name + ext
		s.downloads[p] = b
		w.Header().Set("Location", s.download.URL+p)
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + ext}))
	fake.Write(w, r, http.StatusOK, types[ext], b)
}
