package fakebitbucketcloud

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
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
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") && h.Get("X-RateLimit-NearLimit") == "" {
		// Sent to access-token requests only (Atlassian community, 2026);
		// FaultRateLimit has set its own.
		h.Set("X-RateLimit-Limit", "1000")
		h.Set("X-RateLimit-Resource", "api")
		h.Set("X-RateLimit-NearLimit", "false")
	}
}

// writeJSON writes v as Bitbucket does.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	s.commonHeaders(w, r)
	fake.Write(w, r, status, "application/json; charset=utf-8", fake.Marshal(v))
}

// writeError writes Bitbucket's error body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, msg, detail string) {
	e := map[string]any{"message": msg}
	if detail != "" {
		e["detail"] = detail
	}
	s.writeJSON(w, r, status, map[string]any{"type": "error", "error": e})
}

// writeFields writes Bitbucket's error body for a validation failure.
func (s *Server) writeFields(w http.ResponseWriter, r *http.Request, msg, field, problem string) {
	s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"type": "error", "error": map[string]any{
		"message": msg, "fields": map[string]any{field: []string{problem}}}})
}

// paginate returns the page of n items the request asks for (page,
// pagelen up to max) with Bitbucket's next and previous links, building
// only the page's items.
func paginate(r *http.Request, n, max int, item func(i int) any) map[string]any {
	q := r.URL.Query()
	pagelen, page := intParam(q, "pagelen", 10), intParam(q, "page", 1)
	pagelen = min(pagelen, max)
	start := min((page-1)*pagelen, n)
	end := min(start+pagelen, n)
	values := make([]any, 0, end-start)
	for i := start; i < end; i++ {
		values = append(values, item(i))
	}
	out := map[string]any{"pagelen": pagelen, "size": n, "values": values, "page": page}
	link := func(p int) string {
		q.Set("page", strconv.Itoa(p))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
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

// values is paginate for items built already.
func values(r *http.Request, items []any, max int) map[string]any {
	return paginate(r, len(items), max, func(i int) any { return items[i] })
}

// intParam reads a positive integer parameter, def when absent or not
// positive.
func intParam(q url.Values, name string, def int) int {
	if n, err := strconv.Atoi(q.Get(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// ---- plumbing ----

// hostOf names the host a request to the main server is for: the API
// under /2.0, the web host otherwise.
func hostOf(r *http.Request) string {
	if r.URL.Path == "/2.0" || strings.HasPrefix(r.URL.Path, "/2.0/") {
		return "api"
	}
	return "web"
}

func (s *Server) handler() http.Handler {
	api, web := http.NewServeMux(), http.NewServeMux()
	s.apiRoutes(api)
	s.webRoutes(web)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.st.Record(r, "api", "")
		s.writeError(w, r, http.StatusNotFound, "Resource not found", "There is no API hosted at this URL.\n\nFor information about our API's, please refer to the documentation at: https://developer.atlassian.com/bitbucket/api/2/reference/")
	})
	web.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.st.Record(r, "web", "")
		s.notFoundPage(w, r)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hostOf(r) == "api" {
			api.ServeHTTP(w, r)
			return
		}
		web.ServeHTTP(w, r)
	})
}

func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request) {
	s.commonHeaders(w, r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Bitbucket</title></head><body><h1>Repository not found</h1></body></html>\n")
}

// count counts a request to host.
func count(st *Stats, host string) {
	switch host {
	case "api":
		st.API++
	case "web":
		st.Web++
	default:
		st.Download++
	}
}

// minted reports whether r carries an OAuth token the fake issued.
func (s *Server) minted(r *http.Request) bool {
	s.st.Lock()
	defer s.st.Unlock()
	return s.tokenGrant(r) != nil
}

// refuse answers with Bitbucket's 401 a request whose credentials are
// missing or not good.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, why repostore.AuthResult) {
	msg := map[repostore.AuthResult]string{
		repostore.AuthMissing:     "This API is only accessible with the following authentication types: apppassword, api_token, session, repository_access_token, workspace_access_token, project_access_token",
		repostore.AuthBadPassword: "Invalid username or password.",
		repostore.AuthBadToken:    tokenInvalid,
	}[why]
	w.Header().Set("WWW-Authenticate", `Basic realm="Bitbucket.org HTTP"`)
	s.writeError(w, r, http.StatusUnauthorized, msg, "")
}

// noRepo answers a request for a repository that does not exist.
func (s *Server) noRepo(w http.ResponseWriter, r *http.Request, _ *repostore.Owner) {
	s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("Repository %s/%s not found", r.PathValue("ws"), r.PathValue("slug")), "")
}

const (
	limited      = "Rate limit for this resource has been exceeded"
	tokenInvalid = "Token is invalid, expired, or not supported for this endpoint."
)

// answerFault writes Bitbucket Cloud's answer for an armed fault (the
// package documentation's table).
func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, f fake.Fault) bool {
	limit := map[string]string{"X-RateLimit-Limit": "1000", "X-RateLimit-Resource": "api", "X-RateLimit-NearLimit": "true"}
	return repostore.AnswerFault(w, r, f, limit, func(status int, kind fake.FaultKind, echo string) {
		switch kind {
		case fake.FaultUnauthorized:
			s.writeError(w, r, status, tokenInvalid, "")
		case fake.FaultNotFound:
			s.writeError(w, r, status, "Repository not found", "")
		case fake.FaultUnprocessable:
			s.writeFields(w, r, "Bad request", "name", "This field is required.")
		case fake.FaultServerError:
			s.writeError(w, r, status, "Something went wrong", "")
		case fake.FaultEchoCredentials:
			s.writeError(w, r, status, "Bad request: "+echo, echo)
		default:
			s.writeError(w, r, status, limited, "")
		}
	})
}
