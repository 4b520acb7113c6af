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
	s.handle(mux, "GET /{ws}/{slug}/get/{ref...}", s.archive)
	s.route(mux, "POST /site/oauth2/access_token", s.token)
	s.route(mux, "GET /site/oauth2/authorize", s.oauthAuthorize) // oauth.go
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
	ref, ext := r.PathValue("ref"), ""
	for _, e := range []string{".tar.gz", ".zip"} {
		if strings.HasSuffix(ref, e) {
			ref, ext = strings.TrimSuffix(ref, e), e
			break
		}
	}
	s.st.Lock()
	var c *repostore.Commit
	rp, err := s.st.Repo(r.PathValue("ws"), r.PathValue("slug"))
	if err == nil {
		c = rp.Resolve(ref)
	}
	if c == nil || ext == "" {
		s.st.Unlock()
		s.notFoundPage(w, r)
		return
	}
	prefix := rp.Owner.Key + "-" + rp.Slug + "-" + c.ID[:12] + "/"
	redirect := s.redirect
	s.st.Unlock() // commits do not change

	b, err := repostore.Pack(c, strings.TrimPrefix(ext, "."), prefix, 0o755, false)
	if err != nil {
		s.writeError(w, r, http.StatusInternalServerError, err.Error(), "")
		return
	}
	name := strings.TrimSuffix(prefix, "/") + ext
	if redirect {
		p := "/" + requestID() + "/" + name
		s.st.Lock()
		s.downloads[p] = b
		s.st.Unlock()
		s.redirectTo(w, r, s.download.URL+p)
		return
	}
	s.commonHeaders(w, r)
	ct := "application/x-gzip"
	if ext == ".zip" {
		ct = "application/zip"
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	fake.Write(w, r, http.StatusOK, ct, b)
}
