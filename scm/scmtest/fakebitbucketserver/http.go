package fakebitbucketserver

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"

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
	if _, set := h["X-Ausername"]; !set { // refuse says no one
		h.Set("X-AUSERNAME", s.opts.User)
	}
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
// limit), building only the page's items.
func paginate(r *http.Request, n, most int, item func(i int) any) page {
	start, _ := strconv.Atoi(r.URL.Query().Get("start"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	return pageOf(start, limit, n, most, item)
}

// pageOf returns the page of n items from start, limit long (25 when not
// positive, at most most), building only the page's items.
func pageOf(start, limit, n, most int, item func(i int) any) page {
	start = min(max(start, 0), n)
	if limit <= 0 {
		limit = 25
	}
	limit = min(limit, most)
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

// ---- plumbing: prefix, auth, faults ----

// handler serves the REST API under the context path, as /rest/api/1.0
// and as /rest/api/latest, and the search endpoint.
func (s *Server) handler() http.Handler {
	mux, api, search := http.NewServeMux(), http.NewServeMux(), http.NewServeMux()
	s.routes(api)
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.st.Record(r, "api", "")
		s.writeError(w, r, http.StatusNotFound, "", "The requested resource does not exist")
	})
	for _, v := range []string{"1.0", "latest"} {
		prefix := s.opts.ContextPath + "/rest/api/" + v
		mux.Handle(prefix+"/", http.StripPrefix(prefix, api))
	}
	s.st.Handle(search, "POST "+searchPath, s.search) // search.go
	mux.Handle(s.opts.ContextPath+searchPath, http.StripPrefix(s.opts.ContextPath, search))
	s.gitRoutes(mux) // git.go
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.st.Record(r, "api", "")
		s.commonHeaders(w)
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Page not found - Bitbucket</title></head><body>Page not found</body></html>\n")
	})
	return mux
}

// refuse answers a request whose credentials are missing or not good.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, why repostore.AuthResult) {
	// No one was authenticated: Bitbucket sends no X-AUSERNAME. The key
	// without a value tells commonHeaders so and writes no header line.
	w.Header()["X-Ausername"] = nil
	if why == repostore.AuthMissing {
		s.writeError(w, r, http.StatusUnauthorized, exPrefix+"AuthorisationException", "You are not permitted to access this resource")
		return
	}
	s.writeError(w, r, http.StatusUnauthorized, exPrefix+"auth.IncorrectPasswordAuthenticationException",
		"Authentication failed. Please check your credentials and try again.")
}

// noProject answers a request for a project that does not exist.
func (s *Server) noProject(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, http.StatusNotFound, exNoSuchProject, fmt.Sprintf("Project %s does not exist.", r.PathValue("key")))
}

// noRepo answers a request for a repository that does not exist, in a
// project p that may not exist either.
func (s *Server) noRepo(w http.ResponseWriter, r *http.Request, p *repostore.Owner) {
	if p == nil {
		s.noProject(w, r)
		return
	}
	s.writeError(w, r, http.StatusNotFound, exNoSuchRepository, fmt.Sprintf("Repository %s/%s does not exist.", p.Key, r.PathValue("slug")))
}

// answerFault writes Bitbucket Server's answer for an armed fault (the
// package documentation's table).
func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, f fake.Fault) bool {
	// Bitbucket Data Center's token-bucket rate limiting.
	limit := map[string]string{"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Interval-Seconds": "1", "X-RateLimit-FillRate": "5"}
	return repostore.AnswerFault(w, r, f, limit, func(status int, kind fake.FaultKind, echo string) {
		switch kind {
		case fake.FaultUnauthorized:
			s.refuse(w, r, repostore.AuthBadPassword)
		case fake.FaultNotFound:
			s.writeError(w, r, status, exNoSuchRepository, "Repository does not exist.")
		case fake.FaultUnprocessable:
			s.writeError(w, r, status, exValidation, "The name should be between 1 and 255 characters.", "name")
		case fake.FaultRateLimit:
			s.writeError(w, r, status, exRateLimited,
				"You have been rate limited. Please wait and try again, or contact your administrator to increase your rate limit.")
		case fake.FaultServerError:
			s.writeError(w, r, status, exServer, "An error occurred while processing the request. Check the server logs for more information.")
		case fake.FaultEchoCredentials:
			s.writeError(w, r, status, exValidation, "The request could not be processed: "+echo)
		default:
			s.writeError(w, r, status, exRateLimited, "Too many requests. Please try again later.")
		}
	})
}
