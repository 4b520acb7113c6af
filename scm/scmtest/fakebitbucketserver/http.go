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

	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

// Exception names of Bitbucket's error bodies.
const (
	exNoSuchRepository = "com.atlassian.bitbucket.repository.NoSuchRepositoryException"
	exNoSuchProject    = "com.atlassian.bitbucket.project.NoSuchProjectException"
	exNoSuchCommit     = "com.atlassian.bitbucket.commit.NoSuchCommitException"
	exNoSuchPath       = "com.atlassian.bitbucket.content.NoSuchPathException"
	exNoSuchBranch     = "com.atlassian.bitbucket.repository.NoSuchBranchException"
	exNoSuchPull       = "com.atlassian.bitbucket.pull.NoSuchPullRequestException"
	exAuth             = "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException"
	exNotLoggedIn      = "com.atlassian.bitbucket.AuthorisationException"
	exXSRF             = "com.atlassian.bitbucket.rest.XsrfCheckFailedException"
	exDuplicatePull    = "com.atlassian.bitbucket.pull.DuplicatePullRequestException"
	exEmptyPull        = "com.atlassian.bitbucket.pull.EmptyPullRequestException"
	exSameBranch       = "com.atlassian.bitbucket.pull.InvalidPullRequestTargetException"
	exDuplicateRef     = "com.atlassian.bitbucket.repository.DuplicateRefException"
	exInvalidRef       = "com.atlassian.bitbucket.repository.InvalidRefNameException"
	exFileExists       = "com.atlassian.bitbucket.content.FileAlreadyExistsException"
	exFileChanged      = "com.atlassian.bitbucket.content.FileContentModifiedException"
	exNoChange         = "com.atlassian.bitbucket.content.EditNoChangeException"
	exRateLimited      = "com.atlassian.bitbucket.throttle.RateLimitedException"
	exValidation       = "com.atlassian.bitbucket.validation.ArgumentValidationException"
	exServer           = "com.atlassian.bitbucket.ServiceException"
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

func requestID() string {
	var b [4]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand never fails
	return hex.EncodeToString(b[:])
}

// commonHeaders sets the headers Bitbucket sends on every answer.
func (s *Server) commonHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-AREQUESTID", "@"+strings.ToUpper(requestID())+"x1x0")
	h.Set("X-ASEN", "SEN-L0000000")
	h.Set("X-AUSERNAME", s.opts.User)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "accept-encoding,x-auserid,cookie,x-ausername,accept-encoding")
	h.Set("Cache-Control", "no-cache, no-transform")
}

// writeJSON writes v as Bitbucket does.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body := fake.Marshal(v)
	s.commonHeaders(w)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// writeError writes Bitbucket's error body with one error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, status int, exception, msg string) {
	s.writeErrors(w, r, status, errorMessage{Message: msg, ExceptionName: strp(exception)})
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

// paginate returns the page of items the request asks for (start, limit;
// limit defaults to 25 and is capped at max).
func paginate(r *http.Request, items []any, max int) page {
	return paginateFunc(r, len(items), max, func(i int) any { return items[i] })
}

// paginateFunc is paginate for n items built on demand by item, so that
// only the requested page is built.
func paginateFunc(r *http.Request, n, max int, item func(i int) any) page {
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
		next := end
		p.NextPageStart = &next
	}
	return p
}

func max0(i int) int { return max(i, 0) }

// ---- plumbing: prefix, recording, auth, faults ----

// handler strips the context path and the REST prefix, then routes.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.record(r, "")
		s.writeError(w, r, http.StatusNotFound, "", "The requested resource does not exist")
	})
	search := s.searchHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == s.opts.ContextPath+searchPath {
			search.ServeHTTP(w, r)
			return
		}
		p := r.URL.EscapedPath()
		rest, ok := strings.CutPrefix(p, s.opts.ContextPath+"/rest/api/")
		if ok {
			version, tail, _ := strings.Cut(rest, "/")
			if version != "1.0" && version != "latest" {
				ok = false
			}
			rest = "/" + tail
		}
		if !ok {
			s.record(r, "")
			s.commonHeaders(w)
			w.Header().Set("Content-Type", "text/html;charset=UTF-8")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Page not found - Bitbucket</title></head><body>Page not found</body></html>\n")
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.RawPath = rest
		path, err := unescape(rest)
		if err != nil {
			s.record(r, "")
			s.writeError(w, r, http.StatusBadRequest, "", "Malformed path")
			return
		}
		r2.URL.Path = path
		r2.RequestURI = r.RequestURI
		mux.ServeHTTP(w, r2)
	})
}

func unescape(p string) (string, error) { return url.PathUnescape(p) }

func (s *Server) record(r *http.Request, route string) {
	s.log.Record(Request{Method: r.Method, Path: r.RequestURI, Route: route, Header: r.Header.Clone()}, route,
		func(st *Stats) { st.Total++ })
}

// handle registers a route wrapped with recording, faults and auth.
func (s *Server) handle(mux *http.ServeMux, pattern string, fn http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.record(r, pattern)
		fake.Serve(w, r, s.applyFault(w, r), func(w http.ResponseWriter, r *http.Request) {
			switch s.checkAuth(r) {
			case authBad:
				s.writeError(w, r, http.StatusUnauthorized, exAuth, "Authentication failed. Please check your credentials and try again.")
				return
			case authNone:
				s.writeError(w, r, http.StatusUnauthorized, exNotLoggedIn, "You are not permitted to access this resource")
				return
			}
			fn(w, r)
		})
	})
}

type authResult int

const (
	authOK authResult = iota
	authNone
	authBad
)

func (s *Server) checkAuth(r *http.Request) authResult {
	if len(s.opts.Tokens) == 0 && len(s.opts.Users) == 0 {
		return authOK
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return authNone
	}
	if user, pass, ok := r.BasicAuth(); ok {
		if want, ok := s.opts.Users[user]; ok && want == pass {
			return authOK
		}
		// Bitbucket also accepts an HTTP access token as the password.
		for _, t := range s.opts.Tokens {
			if pass == t {
				return authOK
			}
		}
		return authBad
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if strings.EqualFold(scheme, "bearer") {
		for _, t := range s.opts.Tokens {
			if tok == t {
				return authOK
			}
		}
	}
	return authBad
}

// applyFault answers the request with an armed fault, if one matches, and
// says what is left to do.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request) fake.Outcome {
	f, ok := s.faults.Take(func(f Fault) bool {
		return fake.Filter{Method: f.Method, Path: f.Path}.Match(r.Method, r.URL.Path)
	})
	if !ok {
		return fake.Pass
	}
	retryAfter := strconv.Itoa(int(cmp.Or(f.RetryAfter, time.Minute) / time.Second))
	switch f.Kind {
	case scmtest.FaultUnauthorized:
		s.writeError(w, r, http.StatusUnauthorized, exAuth, "Authentication failed. Please check your credentials and try again.")
	case scmtest.FaultNotFound:
		s.writeError(w, r, http.StatusNotFound, exNoSuchRepository, "Repository does not exist.")
	case scmtest.FaultUnprocessable:
		s.writeErrors(w, r, http.StatusBadRequest, errorMessage{Context: strp("name"),
			Message: "The name should be between 1 and 255 characters.", ExceptionName: strp(exValidation)})
	case scmtest.FaultRateLimit:
		// Bitbucket Data Center's token-bucket rate limiting.
		h := w.Header()
		h.Set("Retry-After", retryAfter)
		h.Set("X-RateLimit-Limit", "60")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Interval-Seconds", "1")
		h.Set("X-RateLimit-FillRate", "5")
		s.writeError(w, r, http.StatusTooManyRequests, exRateLimited,
			"You have been rate limited. Please wait and try again, or contact your administrator to increase your rate limit.")
	case scmtest.FaultSecondaryRateLimit, scmtest.FaultTooManyRequests:
		w.Header().Set("Retry-After", retryAfter)
		s.writeError(w, r, http.StatusTooManyRequests, exRateLimited, "Too many requests. Please try again later.")
	case scmtest.FaultTooManyRequestsNoRetryAfter:
		s.writeError(w, r, http.StatusTooManyRequests, exRateLimited, "Too many requests. Please try again later.")
	case scmtest.FaultServerError:
		st := cmp.Or(f.Status, http.StatusInternalServerError)
		if !fake.GatewayError(w, st, "") {
			s.writeError(w, r, st, exServer, "An error occurred while processing the request. Check the server logs for more information.")
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
			s.writeError(w, r, st, exValidation, "The request could not be processed: "+echo)
		}
	default:
		return fake.Pass
	}
	return fake.Answered
}
