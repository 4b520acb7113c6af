package fakebitbucketserver

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// Exception names of Bitbucket's error bodies.
const (
	exPrefix           = "com.atlassian.bitbucket."
	exNoSuchRepository = exPrefix + "repository.NoSuchRepositoryException"
	exNoSuchProject    = exPrefix + "project.NoSuchProjectException"
	exNoSuchCommit     = exPrefix + "commit.NoSuchCommitException"
	exNoSuchPath       = exPrefix + "content.NoSuchPathException"
	exNoSuchBranch     = exPrefix + "repository.NoSuchBranchException"
	exInvalidRef       = exPrefix + "repository.InvalidRefNameException"
	exFileExists       = exPrefix + "content.FileAlreadyExistsException"
	exRateLimited      = exPrefix + "throttle.RateLimitedException"
	exValidation       = exPrefix + "validation.ArgumentValidationException"
	exServer           = exPrefix + "ServiceException"
)

// errorMessage is one entry of Bitbucket's error body.
type errorMessage struct {
	Context       *string `json:"context"`
	Message       string  `json:"message"`
	ExceptionName *string `json:"exceptionName"`
	// ExistingPullRequest is set for DuplicatePullRequestException.
	ExistingPullRequest any `json:"existingPullRequest,omitempty"`
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// commonHeaders sets the headers Bitbucket sends on every answer.
func (s *Server) commonHeaders(w http.ResponseWriter) {
	var id [4]byte
	rand.Read(id[:]) //nolint:errcheck // crypto/rand never fails
	h := w.Header()
	h.Set("X-AREQUESTID", "@"+strings.ToUpper(hex.EncodeToString(id[:]))+"x1x0")
	h.Set("X-ASEN", "SEN-L0000000")
	h.Set("X-AUSERNAME", s.opts.User)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "accept-encoding,x-auserid,cookie,x-ausername,accept-encoding")
	h.Set("Cache-Control", "no-cache, no-transform")
}

// writeJSON writes v as Bitbucket does.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	s.commonHeaders(w)
	fake.Write(w, r, status, "application/json;charset=UTF-8", fake.Marshal(v))
}

// writeError writes Bitbucket's error body with one error; a non-empty
// field is its context.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, exception, msg string, field ...string) {
	e := errorMessage{Message: msg, ExceptionName: strp(exception)}
	if len(field) > 0 {
		e.Context = strp(field[0])
	}
	s.writeErrors(w, r, status, e)
}

func (s *Server) writeErrors(w http.ResponseWriter, r *http.Request, status int, errs ...errorMessage) {
	s.writeJSON(w, r, status, map[string]any{"errors": errs})
}

// page is Bitbucket's paged answer.
type page struct {
	Size          int   `json:"size"`
	Limit         int   `json:"limit"`
	IsLastPage    bool  `json:"isLastPage"`
	Values        []any `json:"values"`
	Start         int   `json:"start"`
	NextPageStart *int  `json:"nextPageStart,omitempty"`
}

// paginate returns the page of n items the request asks for (start,
// limit; limit defaults to 25 and is capped at max), building only the
// page's items.
func paginate(r *http.Request, n, max int, item func(i int) any) page {
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("start"))
	start = min(max0(start), n)
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 25
	}
	limit = min(limit, max)
	end := min(start+limit, n)
	p := page{Size: end - start, Limit: limit, IsLastPage: end >= n, Values: make([]any, 0, end-start), Start: start}
	for i := start; i < end; i++ {
		p.Values = append(p.Values, item(i))
	}
	if !p.IsLastPage {
		p.NextPageStart = &end
	}
	return p
}

// values is paginate for items built already.
func values[T any](r *http.Request, items []T, max int) page {
	return paginate(r, len(items), max, func(i int) any { return items[i] })
}

func max0(i int) int { return max(i, 0) }

// ---- plumbing: prefix, recording, auth, faults ----

// handler strips the context path and the REST prefix, then routes.
func (s *Server) handler() http.Handler {
	mux, search := http.NewServeMux(), http.NewServeMux()
	s.routes(mux)
	s.handle(search, "POST "+searchPath, s.search) // search.go
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(r, "")
		s.writeError(w, r, http.StatusNotFound, "", "The requested resource does not exist")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == s.opts.ContextPath+searchPath {
			http.StripPrefix(s.opts.ContextPath, search).ServeHTTP(w, r)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.EscapedPath(), s.opts.ContextPath+"/rest/api/")
		version, tail, _ := strings.Cut(rest, "/")
		if !ok || version != "1.0" && version != "latest" {
			s.record(r, "")
			s.commonHeaders(w)
			w.Header().Set("Content-Type", "text/html;charset=UTF-8")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Page not found - Bitbucket</title></head><body>Page not found</body></html>\n")
			return
		}
		p, err := url.PathUnescape("/" + tail)
		if err != nil {
			s.record(r, "")
			s.writeError(w, r, http.StatusBadRequest, "", "Malformed path")
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath, r2.RequestURI = p, "/"+tail, r.RequestURI
		mux.ServeHTTP(w, r2)
	})
}

func (s *Server) record(r *http.Request, route string) {
	s.core.Record(r, "api", route, func(st *Stats) { st.Total++ })
}

// handle registers a route with recording, faults and authentication.
func (s *Server) handle(mux *http.ServeMux, pattern string, fn http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.record(r, pattern)
		s.core.Serve(w, r, "api", "api", func(w http.ResponseWriter, r *http.Request) {
			if ok, anonymous := s.authorized(r); anonymous {
				s.writeError(w, r, http.StatusUnauthorized, exPrefix+"AuthorisationException", "You are not permitted to access this resource")
			} else if !ok {
				s.badCredentials(w, r)
			} else {
				fn(w, r)
			}
		})
	})
}

func (s *Server) badCredentials(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, http.StatusUnauthorized, exPrefix+"auth.IncorrectPasswordAuthenticationException",
		"Authentication failed. Please check your credentials and try again.")
}

// repoRoute registers a route on a repository: fn runs with the store
// locked and the repository found (404 otherwise).
func (s *Server) repoRoute(mux *http.ServeMux, pattern string, fn func(http.ResponseWriter, *http.Request, *repostore.Repo)) {
	s.handle(mux, pattern, func(w http.ResponseWriter, r *http.Request) {
		s.st.Lock()
		defer s.st.Unlock()
		p := s.project(w, r)
		if p == nil {
			return
		}
		if rp := p.Repos[strings.ToLower(r.PathValue("slug"))]; rp != nil {
			fn(w, r, rp)
			return
		}
		s.writeError(w, r, http.StatusNotFound, exNoSuchRepository, fmt.Sprintf("Repository %s/%s does not exist.", p.Key, r.PathValue("slug")))
	})
}

// project finds the request's project, answering 404 when missing. The
// caller holds the store's lock.
func (s *Server) project(w http.ResponseWriter, r *http.Request) *repostore.Owner {
	p := s.st.FindOwner(r.PathValue("key"))
	if p == nil {
		s.writeError(w, r, http.StatusNotFound, exNoSuchProject, fmt.Sprintf("Project %s does not exist.", r.PathValue("key")))
	}
	return p
}

// authorized checks the request's credentials: ok when good, anonymous
// when there are none.
func (s *Server) authorized(r *http.Request) (ok, anonymous bool) {
	if len(s.opts.Tokens) == 0 && len(s.opts.Users) == 0 {
		return true, false
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return false, true
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if user, pass, basic := r.BasicAuth(); basic {
		if want, known := s.opts.Users[user]; known && want == pass {
			return true, false
		}
		tok = pass // Bitbucket also accepts an HTTP access token as the password
	} else if !strings.EqualFold(scheme, "bearer") {
		return false, false
	}
	for _, t := range s.opts.Tokens {
		if tok == t {
			return true, false
		}
	}
	return false, false
}

// answerFault writes Bitbucket Server's answer for an armed fault (the
// package documentation's table).
func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, f fake.Fault) bool {
	retryAfter := strconv.Itoa(int(cmp.Or(f.RetryAfter, time.Minute) / time.Second))
	const tooMany = "Too many requests. Please try again later."
	switch f.Kind {
	case fake.FaultUnauthorized:
		s.badCredentials(w, r)
	case fake.FaultNotFound:
		s.writeError(w, r, http.StatusNotFound, exNoSuchRepository, "Repository does not exist.")
	case fake.FaultUnprocessable:
		s.writeError(w, r, http.StatusBadRequest, exValidation, "The name should be between 1 and 255 characters.", "name")
	case fake.FaultRateLimit:
		// Bitbucket Data Center's token-bucket rate limiting.
		h := w.Header()
		h.Set("Retry-After", retryAfter)
		h.Set("X-RateLimit-Limit", "60")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Interval-Seconds", "1")
		h.Set("X-RateLimit-FillRate", "5")
		s.writeError(w, r, http.StatusTooManyRequests, exRateLimited,
			"You have been rate limited. Please wait and try again, or contact your administrator to increase your rate limit.")
	case fake.FaultSecondaryRateLimit, fake.FaultTooManyRequests:
		w.Header().Set("Retry-After", retryAfter)
		s.writeError(w, r, http.StatusTooManyRequests, exRateLimited, tooMany)
	case fake.FaultTooManyRequestsNoRetryAfter, fake.FaultSecondaryRateLimitNoRetryAfter, fake.FaultRateLimitResetOnly:
		s.writeError(w, r, http.StatusTooManyRequests, exRateLimited, tooMany)
	case fake.FaultServerError:
		st := cmp.Or(f.Status, http.StatusInternalServerError)
		if !fake.GatewayError(w, st, "") {
			s.writeError(w, r, st, exServer, "An error occurred while processing the request. Check the server logs for more information.")
		}
	case fake.FaultEchoCredentials:
		st := cmp.Or(f.Status, http.StatusBadRequest)
		if echo := fake.EchoCredentials(r); !fake.EchoPage(w, st, echo) {
			s.writeError(w, r, st, exValidation, "The request could not be processed: "+echo)
		}
	default:
		return false
	}
	return true
}
