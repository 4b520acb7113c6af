package fakebitbucketcloud

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

func requestID() string {
	var b [8]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand never fails
	return hex.EncodeToString(b[:])
}

// commonHeaders sets the headers Bitbucket Cloud sends on every answer.
func (s *Server) commonHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Server", "nginx")
	h.Set("X-Request-Id", requestID())
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload")
	h.Set("Vary", "Authorization, Origin")
	h.Set("Cache-Control", "max-age=900")
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		// Sent to access-token requests only (Atlassian community, 2026).
		h.Set("X-RateLimit-Limit", "1000")
		h.Set("X-RateLimit-Resource", "api")
		h.Set("X-RateLimit-NearLimit", "false")
	}
}

// writeJSON writes v as Bitbucket does.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body := fake.Marshal(v)
	s.commonHeaders(w, r)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// writeError writes Bitbucket's error body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, msg, detail string) {
	e := map[string]any{"message": msg}
	if detail != "" {
		e["detail"] = detail
	}
	s.writeJSON(w, r, status, map[string]any{"type": "error", "error": e})
}

// paginate returns the page of items the request asks for (page, pagelen
// up to max) with Bitbucket's next and previous links.
func paginate(r *http.Request, items []any, max int) map[string]any {
	return paginateFunc(r, len(items), max, func(i int) any { return items[i] })
}

// paginateFunc is paginate for n items built on demand by item, so that
// only the requested page is built.
func paginateFunc(r *http.Request, n, max int, item func(i int) any) map[string]any {
	q := r.URL.Query()
	pagelen, err := strconv.Atoi(q.Get("pagelen"))
	if err != nil || pagelen <= 0 {
		pagelen = 10
	}
	pagelen = min(pagelen, max)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page <= 0 {
		page = 1
	}
	start := min((page-1)*pagelen, n)
	end := min(start+pagelen, n)
	values := make([]any, 0, end-start)
	for i := start; i < end; i++ {
		values = append(values, item(i))
	}
	out := map[string]any{"pagelen": pagelen, "size": n, "values": values, "page": page}
	link := func(p int) string {
		qq := r.URL.Query()
		qq.Set("page", strconv.Itoa(p))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: qq.Encode()}
		return u.String()
	}
	if end < n {
		out["next"] = link(page + 1)
	}
	if page > 1 {
		out["previous"] = link(page - 1)
	}
	return out
}

// ---- plumbing ----

type ctxKey int

const hostKey ctxKey = iota

func hostOf(r *http.Request) string {
	h, _ := r.Context().Value(hostKey).(string)
	return h
}

func (s *Server) apiHandler() http.Handler {
	mux := http.NewServeMux()
	s.apiRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(r, "")
		s.writeError(w, r, http.StatusNotFound, "Resource not found", "There is no API hosted at this URL.\n\nFor information about our API's, please refer to the documentation at: https://developer.atlassian.com/bitbucket/api/2/reference/")
	})
	return withHost(mux, "api")
}

func (s *Server) webHandler() http.Handler {
	mux := http.NewServeMux()
	s.webRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(r, "")
		s.notFoundPage(w, r)
	})
	return withHost(mux, "web")
}

func withHost(h http.Handler, host string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), hostKey, host)))
	})
}

func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request) {
	s.commonHeaders(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Bitbucket</title></head><body><h1>Repository not found</h1></body></html>\n")
}

func (s *Server) record(r *http.Request, route string) {
	host := hostOf(r)
	s.log.Record(Request{Host: host, Method: r.Method, Path: r.URL.RequestURI(), Route: route, Header: r.Header.Clone()}, route, func(st *Stats) {
		switch host {
		case "api":
			st.API++
		case "web":
			st.Web++
		default:
			st.Download++
		}
	})
}

type authResult int

const (
	authOK authResult = iota
	authNone
	authBad
)

func (s *Server) checkAuth(r *http.Request) (authResult, bool) {
	if len(s.opts.Tokens) == 0 && len(s.opts.Users) == 0 && len(s.opts.Consumers) == 0 {
		return authOK, false
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return authNone, false
	}
	if user, pass, ok := r.BasicAuth(); ok {
		if want, ok := s.opts.Users[user]; ok && want == pass {
			return authOK, false
		}
		return authBad, false
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "bearer") {
		return authBad, false
	}
	if valid, known := s.oauthTokenCheck(tok); known { // a signed-in user's token (oauth.go)
		if valid {
			return authOK, true
		}
		return authBad, true
	}
	for _, t := range s.opts.Tokens {
		if tok == t {
			return authOK, true
		}
	}
	s.mu.Lock()
	exp, ok := s.minted[tok]
	s.mu.Unlock()
	if ok && s.now().Before(exp) {
		return authOK, true
	}
	return authBad, true
}

// handle registers a route wrapped with recording, faults and auth.
func (s *Server) handle(mux *http.ServeMux, pattern string, fn http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.record(r, pattern)
		fake.Serve(w, r, s.applyFault(w, r), func(w http.ResponseWriter, r *http.Request) {
			switch res, bearer := s.checkAuth(r); res {
			case authBad:
				msg := "Invalid username or password."
				if bearer {
					msg = "Token is invalid, expired, or not supported for this endpoint."
				}
				w.Header().Set("WWW-Authenticate", `Basic realm="Bitbucket.org HTTP"`)
				s.writeError(w, r, http.StatusUnauthorized, msg, "")
				return
			case authNone:
				w.Header().Set("WWW-Authenticate", `Basic realm="Bitbucket.org HTTP"`)
				s.writeError(w, r, http.StatusUnauthorized, "This API is only accessible with the following authentication types: apppassword, api_token, session, repository_access_token, workspace_access_token, project_access_token", "")
				return
			}
			fn(w, r)
		})
	})
}

// applyFault answers the request with an armed fault, if one matches, and
// says what is left to do.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request) fake.Outcome {
	host := hostOf(r)
	f, ok := s.faults.Take(func(f Fault) bool {
		if f.Host != "" && f.Host != host || f.Host == "" && host == "download" {
			return false
		}
		return fake.Filter{Method: f.Method, Path: f.Path}.Match(r.Method, r.URL.Path)
	})
	if !ok {
		return fake.Pass
	}
	retryAfter := strconv.Itoa(int(cmp.Or(f.RetryAfter, time.Minute) / time.Second))
	const limited = "Rate limit for this resource has been exceeded"
	switch f.Kind {
	case scmtest.FaultUnauthorized:
		s.writeError(w, r, http.StatusUnauthorized, "Token is invalid, expired, or not supported for this endpoint.", "")
	case scmtest.FaultNotFound:
		s.writeError(w, r, http.StatusNotFound, "Repository not found", "")
	case scmtest.FaultUnprocessable:
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"type": "error", "error": map[string]any{
			"message": "Bad request", "fields": map[string]any{"name": []string{"This field is required."}}}})
	case scmtest.FaultRateLimit:
		h := w.Header()
		h.Set("Retry-After", retryAfter)
		h.Set("X-RateLimit-Limit", "1000")
		h.Set("X-RateLimit-Resource", "api")
		h.Set("X-RateLimit-NearLimit", "true")
		s.writeError(w, r, http.StatusTooManyRequests, limited, "")
	case scmtest.FaultSecondaryRateLimit, scmtest.FaultTooManyRequests:
		w.Header().Set("Retry-After", retryAfter)
		s.writeError(w, r, http.StatusTooManyRequests, limited, "")
	case scmtest.FaultTooManyRequestsNoRetryAfter:
		s.writeError(w, r, http.StatusTooManyRequests, limited, "")
	case scmtest.FaultServerError:
		st := cmp.Or(f.Status, http.StatusInternalServerError)
		if !fake.GatewayError(w, st, "") {
			s.writeError(w, r, st, "Something went wrong", "")
		}
	case scmtest.FaultSlow:
		return fake.Slow(r, f.Delay, nil)
	case scmtest.FaultTruncatedBody:
		return fake.Truncate
	case scmtest.FaultLostAnswer:
		return fake.Lose
	case scmtest.FaultEchoCredentials:
		st := cmp.Or(f.Status, http.StatusBadRequest)
		if echo := fake.EchoCredentials(r); !fake.EchoPage(w, st, echo) {
			s.writeError(w, r, st, "Bad request: "+echo, echo)
		}
	default:
		return fake.Pass
	}
	return fake.Answered
}
