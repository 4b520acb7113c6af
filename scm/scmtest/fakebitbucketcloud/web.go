package fakebitbucketcloud

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Server) webRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /{ws}/{slug}/get/{ref...}", s.archive)
	mux.HandleFunc("POST /site/oauth2/access_token", s.token)
}

func (s *Server) downloadHandler() http.Handler {
	return withHost(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r, "GET /{token}/{name}")
		if handled, _ := s.applyFault(w, r); handled {
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

	var buf bytes.Buffer
	if ext == ".zip" {
		err = writeZip(&buf, c, prefix)
	} else {
		gz := gzip.NewWriter(&buf)
		if err = writeTar(gz, c, prefix); err == nil {
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

func dirsOf(files []string) []string {
	seen := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f); d != "." && !seen[d]; d = path.Dir(d) {
			seen[d] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func writeTar(w io.Writer, c *commit, prefix string) error {
	tw := tar.NewWriter(w)
	mtime := c.when.Truncate(time.Second)
	files := slices.Sorted(maps.Keys(c.files))
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header",
		PAXRecords: map[string]string{"comment": c.id}, Format: tar.FormatPAX}); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: prefix, Mode: 0o755, ModTime: mtime}); err != nil {
		return err
	}
	for _, d := range dirsOf(files) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: prefix + d + "/", Mode: 0o755, ModTime: mtime}); err != nil {
			return err
		}
	}
	for _, f := range files {
		e := c.files[f]
		mode := int64(0o644)
		if e.exec {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: prefix + f, Mode: mode, Size: int64(len(e.content)),
			ModTime: mtime}); err != nil {
			return err
		}
		if _, err := tw.Write(e.content); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeZip(w io.Writer, c *commit, prefix string) error {
	zw := zip.NewWriter(w)
	for _, f := range slices.Sorted(maps.Keys(c.files)) {
		e := c.files[f]
		h := &zip.FileHeader{Name: prefix + f, Method: zip.Deflate, Modified: c.when}
		mode := fs.FileMode(0o644)
		if e.exec {
			mode = 0o755
		}
		h.SetMode(mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(e.content); err != nil {
			return err
		}
	}
	return zw.Close()
}

// token is the OAuth 2 token endpoint: the client-credentials grant of a
// consumer, authenticated with Basic (or client_id and client_secret in
// the form).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.record(r, "POST /site/oauth2/access_token")
	if handled, _ := s.applyFault(w, r); handled {
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
	s.logMu.Lock()
	s.stats.TokenGrants++
	s.logMu.Unlock()
	s.writeJSON(w, r, http.StatusOK, map[string]any{"access_token": tok, "scopes": "repository pullrequest",
		"expires_in": int(s.opts.TokenTTL / time.Second), "refresh_token": "fake-refresh-" + requestID(),
		"token_type": "bearer", "state": "client_credentials"})
}
