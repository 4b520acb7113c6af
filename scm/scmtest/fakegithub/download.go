package fakegithub

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// downloadHandler serves GET /{owner}/{repo}/legacy.tar.gz/{ref...} as
// codeload.github.com does: a gzip-compressed tar whose pax global header
// carries the commit id (comment=<sha>) and whose entries sit under
// owner-repo-<7-char sha>/, directories 0775 and files 0664 (0775 when
// executable), as git archive writes them.
func (s *Server) downloadHandler() http.Handler {
	const pattern = "GET /{owner}/{repo}/legacy.tar.gz/{ref...}"
	return s.hostHandler("download", pattern, pattern, s.serveTarball)
}

// hostHandler serves the route pattern of the second host host
// ("download", "raw") with h, recorded under route and with its faults;
// other requests get 404 as codeload does.
func (s *Server) hostHandler(host, pattern, route string, h http.HandlerFunc) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.site.Record(r, host, route)
		s.site.Core.Serve(w, r, host, "api", h)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.site.Record(r, host, "")
		downloadNotFound(w)
	})
	return mux
}

// downloadNotFound answers 404 as codeload does.
func downloadNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte("404: Not Found"))
}

// serveTarball answers a tarball download, checking the temporary token
// of a private repository.
func (s *Server) serveTarball(w http.ResponseWriter, r *http.Request) {
	s.site.Lock()
	defer s.site.Unlock()
	k := key(r.PathValue("owner"), r.PathValue("repo"))
	rp, commit := s.repoLocked(r.PathValue("owner"), r.PathValue("repo")), (*repostore.Commit)(nil)
	if rp != nil && (rp.Public || s.downloadToken[r.URL.Query().Get("token")] == k) {
		commit = rp.Resolve(r.PathValue("ref"))
	}
	if commit == nil {
		downloadNotFound(w)
		return
	}
	id, c := commit.ID, commit.Git
	prefix := rp.Owner.Key + "-" + rp.Slug + "-" + id[:7]
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	errs := []error{tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header",
		PAXRecords: map[string]string{"comment": id}})}
	write := func(h *tar.Header, data []byte) {
		h.Name, h.Uname, h.Gname, h.ModTime, h.Format = prefix+"/"+h.Name, "root", "root", c.Committer.When, tar.FormatPAX
		errs = append(errs, tw.WriteHeader(h))
		_, err := tw.Write(data)
		errs = append(errs, err)
	}
	write(&tar.Header{Typeflag: tar.TypeDir, Mode: 0o775}, nil)
	rp.Objects.Walk(c.Tree, "", func(p string, e gitobj.TreeEntry) {
		switch e.Mode {
		case gitobj.ModeTree, gitobj.ModeCommit:
			write(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o775}, nil)
		case gitobj.ModeSymlink:
			write(&tar.Header{Typeflag: tar.TypeSymlink, Name: p, Linkname: string(rp.Objects[e.SHA].Blob), Mode: 0o777}, nil)
		case gitobj.ModeExec:
			write(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o775, Size: int64(len(rp.Objects[e.SHA].Blob))}, rp.Objects[e.SHA].Blob)
		default:
			write(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o664, Size: int64(len(rp.Objects[e.SHA].Blob))}, rp.Objects[e.SHA].Blob)
		}
	})
	if err := errors.Join(append(errs, tw.Close(), zw.Close())...); err != nil {
		panic("fakegithub: writing tarball: " + err.Error())
	}
	setHeaders(w.Header(),
		"Access-Control-Allow-Origin", "https://render.githubusercontent.com", "Content-Disposition", "attachment; filename="+prefix+".tar.gz",
		"Content-Type", "application/x-gzip", "Cross-Origin-Resource-Policy", "cross-origin", "ETag", `W/"`+id+strings.Repeat("0", 24)+`"`,
		"Vary", "Authorization,Accept-Encoding,Origin", "X-Content-Type-Options", "nosniff", "X-Frame-Options", "deny",
		"X-GitHub-Request-Id", requestID(), "Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
