package fakebitbucketcloud

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

func (s *Server) webRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /{ws}/{slug}/get/{ref...}", s.archive)
	mux.HandleFunc("POST /site/oauth2/access_token", s.token)
	s.oauthWebRoutes(mux)
}

func (s *Server) downloadHandler() http.Handler {
	return withHost(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r, "GET /{token}/{name}")
		if s.applyFault(w, r) == fake.Answered {
			return
		}
		s.mu.Lock()
		b, ok := s.downloads[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b)
	}), "download")
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
	ref := r.PathValue("ref")
	var ext string
	for _, e := range []string{".tar.gz", ".zip", ".tar.bz2"} {
		if strings.HasSuffix(ref, e) {
			ref, ext = strings.TrimSuffix(ref, e), e
			break
		}
	}
	s.mu.Lock()
	rp, err := s.repoLocked(r.PathValue("ws"), r.PathValue("slug"))
	var c *commit
	if err == nil {
		c = rp.resolve(ref)
	}
	if c == nil || ext == "" || ext == ".tar.bz2" {
		s.mu.Unlock()
		s.notFoundPage(w, r)
		return
	}
	prefix := rp.ws.slug + "-" + rp.slug + "-" + c.id[:12] + "/"
	redirect := s.redirect
	s.mu.Unlock()

	a := &fake.Archive{Commit: c.id, Prefix: prefix, ModTime: c.when}
	for _, p := range slices.Sorted(maps.Keys(c.files)) {
		a.Files = append(a.Files, fake.File{Path: p, Content: c.files[p].content, Executable: c.files[p].exec})
	}
	var buf bytes.Buffer
	if ext == ".zip" {
		err = a.WriteZip(&buf, 0o755, false)
	} else {
		gz := gzip.NewWriter(&buf)
		if err = a.WriteTar(gz, 0o755); err == nil {
			err = gz.Close()
		}
	}
	if err != nil {
		s.writeError(w, r, http.StatusInternalServerError, err.Error(), "")
		return
	}
	name := strings.TrimSuffix(prefix, "/") + ext
	if redirect {
		p := "/" + requestID() + "/" + name
		s.mu.Lock()
		s.downloads[p] = buf.Bytes()
		s.mu.Unlock()
		s.commonHeaders(w, r)
		w.Header().Set("Location", s.download.URL+p)
		w.WriteHeader(http.StatusFound)
		return
	}
	s.commonHeaders(w, r)
	ct := "application/x-gzip"
	if ext == ".zip" {
		ct = "application/zip"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// token is the OAuth 2 token endpoint: the client-credentials grant of a
// consumer, authenticated with Basic (or client_id and client_secret in
// the form).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.record(r, "POST /site/oauth2/access_token")
	if s.applyFault(w, r) == fake.Answered {
		return
	}
	if s.oauthGrant(w, r) { // a sign-in consumer's code or refresh grant (oauth.go)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if want, known := s.opts.Consumers[id]; !known || want != secret || id == "" {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": "invalid_client", "error_description": "Invalid OAuth client credentials"})
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type", "error_description": "Unsupported grant type: " + gt})
		return
	}
	tok := "fake-oauth-" + requestID()
	s.mu.Lock()
	s.minted[tok] = s.now().Add(s.opts.TokenTTL)
	s.mu.Unlock()
	s.log.Count(func(st *Stats) { st.TokenGrants++ })
	s.writeJSON(w, r, http.StatusOK, map[string]any{"access_token": tok, "scopes": "repository pullrequest",
		"expires_in": int(s.opts.TokenTTL / time.Second), "refresh_token": "fake-refresh-" + requestID(),
		"token_type": "bearer", "state": "client_credentials"})
}
