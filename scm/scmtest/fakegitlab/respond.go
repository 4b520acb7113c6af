package fakegitlab

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

// commonHeaders sets the headers GitLab.com sends on every API answer:
// request id, security headers, and the RateLimit-* headers of the
// authenticated API throttle (informational: the fake enforces no limit;
// inject FaultRateLimit for that).
func (s *Server) commonHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Request-Id", requestID())
	h.Set("X-Runtime", "0.042")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Gitlab-Meta", `{"correlation_id":"`+h.Get("X-Request-Id")+`","version":"1"}`)
	h.Set("Vary", "Origin, Accept-Encoding")
	if h.Get("RateLimit-Remaining") != "" {
		return
	}
	s.rateMu.Lock()
	now := s.opts.Now()
	if s.window.IsZero() || !now.Before(s.window.Add(time.Minute)) {
		s.window, s.observed = now.Truncate(time.Minute), 0
	}
	s.observed++
	observed, reset := s.observed, s.window.Add(time.Minute)
	s.rateMu.Unlock()
	s.rateHeaders(h, observed, max(s.opts.RateLimit-observed, 1), reset)
}

// rateHeaders sets the RateLimit-* headers of the throttle.
func (s *Server) rateHeaders(h http.Header, observed, remaining int, reset time.Time) {
	h.Set("RateLimit-Name", "throttle_authenticated_api")
	h.Set("RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("RateLimit-Observed", strconv.Itoa(observed))
	h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("RateLimit-ResetTime", reset.UTC().Format(http.TimeFormat))
}

func requestID() string {
	var b [13]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))[:26]
}

// notModified answers 304 when the request's If-None-Match matches etag.
func (s *Server) notModified(w http.ResponseWriter, r *http.Request, etag string) bool {
	if !fake.ETagMatches(r.Header.Get("If-None-Match"), etag) {
		return false
	}
	s.core.Log().Count(func(st *Stats) { st.NotModified++ })
	s.commonHeaders(w)
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "max-age=0, private, must-revalidate")
	w.WriteHeader(http.StatusNotModified)
	return true
}

// writeJSON writes v as GitLab's API does. A GET answered 200 carries the
// weak ETag Rails computes from the body and honours If-None-Match.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body := fake.Marshal(v)
	if r.Method == http.MethodGet && status == http.StatusOK {
		sum := md5.Sum(body)
		etag := `W/"` + hex.EncodeToString(sum[:]) + `"`
		if s.notModified(w, r, etag) {
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "max-age=0, private, must-revalidate")
	}
	s.commonHeaders(w)
	fake.Write(w, r, status, "application/json", body)
}

// message writes GitLab's {"message": msg} error body.
func (s *Server) message(w http.ResponseWriter, r *http.Request, status int, msg any) {
	s.writeJSON(w, r, status, map[string]any{"message": msg})
}

// notFound writes GitLab's 404 body, e.g. {"message":"404 Project Not Found"}.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, what string) {
	msg := "404 Not Found"
	if what != "" {
		msg = "404 " + what + " Not Found"
	}
	s.message(w, r, http.StatusNotFound, msg)
}

// paramError writes Grape's parameter validation error: 400 {"error": msg}.
func (s *Server) paramError(w http.ResponseWriter, r *http.Request, msg string) {
	s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": msg})
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// perPage returns the request's per_page, GitLab's default 20, capped.
func (s *Server) perPage(r *http.Request) int {
	per, err := strconv.Atoi(r.URL.Query().Get("per_page"))
	if err != nil || per <= 0 {
		per = 20
	}
	return min(per, s.opts.MaxPerPage)
}

// pageURL is the request's URL with query q, on the host the client used.
func (s *Server) pageURL(r *http.Request, q url.Values) string {
	u := url.URL{Scheme: "http", Host: r.Host, Path: s.opts.RelativePath + r.URL.Path,
		RawPath: s.opts.RelativePath + r.URL.EscapedPath(), RawQuery: q.Encode()}
	return u.String()
}

// offsetPage picks the page of n items the request asks for and sets the
// X-Page/X-Per-Page/X-Total/X-Next-Page headers and the Link header (prev,
// next, first, last) as GitLab's offset pagination does.
func (s *Server) offsetPage(w http.ResponseWriter, r *http.Request, n int) (start, end int) {
	per := s.perPage(r)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page <= 0 {
		page = 1
	}
	last := max((n+per-1)/per, 1)
	start = min((page-1)*per, n)
	end = min(start+per, n)
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(per))
	h.Set("X-Total", strconv.Itoa(n))
	h.Set("X-Total-Pages", strconv.Itoa(last))
	h.Set("X-Prev-Page", "")
	h.Set("X-Next-Page", "")
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		return fmt.Sprintf("<%s>; rel=%q", s.pageURL(r, q), rel)
	}
	var links []string
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
		links = append(links, link(page+1, "next"))
	}
	links = append(links, link(1, "first"), link(last, "last"))
	h.Set("Link", strings.Join(links, ", "))
	return start, end
}

// keysetNext sets the Link rel="next" header of keyset pagination to the
// request's URL with the parameter key set to value.
func (s *Server) keysetNext(w http.ResponseWriter, r *http.Request, key, value string) {
	q := r.URL.Query()
	q.Set(key, value)
	w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", s.pageURL(r, q)))
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
