package fakegithub

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

// exposeHeaders is GitHub's Access-Control-Expose-Headers value, from the
// recorded traffic.
const exposeHeaders = "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset"

// rateState is kept apart from Server.mu so that answers can be written
// while a handler holds the state lock.
type rateState struct {
	window time.Time
	used   map[string]int
}

// commonHeaders sets the headers GitHub sends on every API answer, and
// the X-RateLimit-* headers unless a fault already set them. counted says
// whether the request counts against the limit (304s do not).
func (s *Server) commonHeaders(w http.ResponseWriter, r *http.Request, counted bool) {
	h := w.Header()
	// Date is the fake's clock (Options.Now), as GitHub's is its own.
	setHeaders(h, "Date", s.now().Format(http.TimeFormat),
		"Server", "GitHub.com", "X-GitHub-Request-Id", requestID(), "X-GitHub-Api-Version-Selected", "2022-11-28",
		"Access-Control-Expose-Headers", exposeHeaders, "Access-Control-Allow-Origin", "*",
		"Strict-Transport-Security", "max-age=31536000; includeSubdomains; preload", "X-Frame-Options", "deny",
		"X-Content-Type-Options", "nosniff", "X-XSS-Protection", "0",
		"Referrer-Policy", "origin-when-cross-origin, strict-origin-when-cross-origin",
		"Content-Security-Policy", "default-src 'none'", "Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	h.Add("Vary", "Accept-Encoding, Accept, X-Requested-With")
	if h.Get("X-RateLimit-Remaining") != "" {
		return
	}
	res := resource(r)
	limit := 5000
	if !authenticated(r) && len(s.opts.Tokens) > 0 {
		limit = 60
	}
	s.rateMu.Lock()
	now := s.now()
	if s.rate.used == nil || !now.Before(s.rate.window.Add(time.Hour)) {
		s.rate = rateState{window: now, used: map[string]int{}}
	}
	if counted {
		s.rate.used[res]++
	}
	used := s.rate.used[res]
	reset := s.rate.window.Add(time.Hour)
	s.rateMu.Unlock()
	setHeaders(h,
		"X-RateLimit-Limit", strconv.Itoa(limit), "X-RateLimit-Remaining", strconv.Itoa(max(limit-used, 0)),
		"X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10), "X-RateLimit-Used", strconv.Itoa(used), "X-RateLimit-Resource", res)
}

// setHeaders sets each header of kv, a list of names and values.
func setHeaders(h http.Header, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
}

// callerETag is the ETag GitHub gives an answer identified by id (a blob
// id, a hash of the body), as it gives one: specific to the request's
// Accept and Authorization headers, so that the same resource read with
// another token has another ETag, and an If-None-Match carrying the old
// token's ETag is answered 200, counted, not 304. GitHub support: "It's
// currently expected for ETags to be auth token specific" (eclipse-csi/
// otterdog issue #201; github/docs issue #34689); the answers say so with
// "Vary: Accept, Authorization, Cookie, X-GitHub-OTP". The fake's formula
// is its own: clients must not rely on GitHub's, which is undocumented.
func callerETag(r *http.Request, id string) string {
	h := sha256.New()
	h.Write([]byte(id + "\x00" + r.Header.Get("Accept") + "\x00" + r.Header.Get("Authorization")))
	return `"` + hex.EncodeToString(h.Sum(nil))[:40] + `"`
}

// notModified answers 304 when the request's If-None-Match matches etag,
// or, when the request has no If-None-Match and the answer would carry
// lastModified (not zero), when its If-Modified-Since is at or after
// lastModified, whoever asks: Last-Modified does not depend on the
// token. A server must ignore If-Modified-Since when the request has
// If-None-Match (RFC 9110 §13.1.3). The 304 is not counted against the
// rate limit and carries the caller's ETag.
func (s *Server) notModified(w http.ResponseWriter, r *http.Request, etag string, lastModified time.Time) bool {
	inm := r.Header.Get("If-None-Match")
	switch {
	case inm != "":
		if !fake.ETagMatches(inm, etag) {
			return false
		}
	case !lastModified.IsZero():
		since, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
		if err != nil || lastModified.Truncate(time.Second).After(since) {
			return false
		}
	default:
		return false
	}
	s.site.Core.Log().Count(func(st *Stats) { st.NotModified++ })
	s.commonHeaders(w, r, false)
	setHeaders(w.Header(), "ETag", etag, "Cache-Control", "private, max-age=60, s-maxage=60")
	w.WriteHeader(http.StatusNotModified)
	return true
}

// writeJSON writes v as GitHub does; a GET answered 200 carries an ETag
// and honours If-None-Match.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	s.writeBody(w, r, status, v, false)
}

// writeListing is writeJSON for a page of a listing. As GitHub's, its
// ETag is weak. Like every ETag of the fake it depends on the credential
// asking (see callerETag): a page re-validated with another token's ETag
// is sent again in full, and an unchanged page re-validated with the same
// token's is answered 304.
func (s *Server) writeListing(w http.ResponseWriter, r *http.Request, v any) {
	s.writeBody(w, r, http.StatusOK, v, true)
}

// writeBody writes v. A GET answered 200 carries the caller's ETag of the
// body (weak for a listing page) and is answered 304 for a matching
// If-None-Match, or, where the handler set Last-Modified, for an
// If-Modified-Since at or after it.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, status int, v any, listing bool) {
	body := fake.Marshal(v)
	if r.Method == http.MethodGet && status == http.StatusOK {
		sum := sha256.Sum256(body)
		etag := callerETag(r, hex.EncodeToString(sum[:]))
		if listing {
			etag = "W/" + etag
		}
		lastModified, _ := http.ParseTime(w.Header().Get("Last-Modified"))
		if s.notModified(w, r, etag, lastModified) {
			return
		}
		setHeaders(w.Header(), "ETag", etag, "Cache-Control", "private, max-age=60, s-maxage=60")
	}
	s.commonHeaders(w, r, true)
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	fake.Write(w, r, status, "application/json; charset=utf-8", body)
}

// writeError writes GitHub's error body: message, documentation_url and
// status (a string, as GitHub sends it).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, msg, doc string) {
	s.writeJSON(w, r, status, errorBody{Message: msg, DocumentationURL: doc, Status: strconv.Itoa(status)})
}

// errorBody is GitHub's error body, its fields in GitHub's order.
type errorBody struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url,omitempty"`
	Status           string `json:"status"`
}

// validation writes a 422 Validation Failed with one error.
func (s *Server) validation(w http.ResponseWriter, r *http.Request, doc string, e map[string]any) {
	s.writeJSON(w, r, http.StatusUnprocessableEntity, map[string]any{
		"message": "Validation Failed", "errors": []any{e}, "documentation_url": doc, "status": "422"})
}

// unprocessable writes a 422 with a plain message.
func (s *Server) unprocessable(w http.ResponseWriter, r *http.Request, msg, doc string) {
	s.writeError(w, r, http.StatusUnprocessableEntity, msg, doc)
}

// pageJSON picks the page of list the request asks for (see paginate)
// and makes its items' JSON with value.
func pageJSON[T any](w http.ResponseWriter, r *http.Request, list []T, value func(T) any) []any {
	start, end := paginate(w, r, len(list))
	return listJSON(list[start:end], value)
}

// listJSON makes the JSON of every item of list with value.
func listJSON[T any](list []T, value func(T) any) []any {
	out := make([]any, 0, len(list))
	for _, x := range list {
		out = append(out, value(x))
	}
	return out
}

// paginate picks the page of n items the request asks for and sets the
// Link header as GitHub does (prev, next, last, first).
func paginate(w http.ResponseWriter, r *http.Request, n int) (start, end int) {
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	last := max((n+per-1)/per, 1)
	start = min((page-1)*per, n)
	end = min(start+per, n)
	link := func(p int, rel string) string {
		q.Set("page", strconv.Itoa(p))
		u := url.URL{Scheme: "http", Host: r.Host, Path: callerOf(r).prefix + r.URL.Path, RawQuery: q.Encode()}
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	return start, end
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// decode reads the request's JSON body into v, or answers GitHub's 400
// with the documentation URL doc and reports false.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any, doc string) bool {
	if err := decodeBody(r, v); err != nil {
		s.writeError(w, r, http.StatusBadRequest, "Problems parsing JSON", doc)
		return false
	}
	return true
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 200<<20))
	return dec.Decode(v)
}
