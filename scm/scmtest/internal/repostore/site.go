package repostore

import (
	"cmp"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

// Site is the HTTP side of a fake, counting in the fake's
// Stats type S: its store, its fault kit's core, its httptest servers, and
// the registration of routes that are recorded, subject to faults and,
// but for open ones, authenticated. The fake sets the exported fields
// before it starts a server.
type Site[S any] struct {
	Store
	Core *fake.Core[S]

	// Host names the server a request is for ("api", "web"), for the
	// request log and the faults; nil means "api".
	Host func(*http.Request) string
	// Count counts a request to host in the fake's Stats.
	Count func(st *S, host string)
	// Auth are the credentials the fake accepts; Refuse answers a request
	// whose credentials Auth.Check does not accept.
	Auth   Credentials
	Refuse func(w http.ResponseWriter, r *http.Request, why AuthResult)
	// OwnerParam is the path wildcard that names an owner, beside {slug}
	// for a repository. NoOwner answers a request for an owner that does
	// not exist; NotFound one for a repository that does not exist, o
	// being nil when its owner does not exist either.
	OwnerParam string
	NoOwner    func(w http.ResponseWriter, r *http.Request)
	NotFound   func(w http.ResponseWriter, r *http.Request, o *Owner)

	stop    chan struct{}
	closing sync.Once
	servers []*httptest.Server
}

// NewSite returns the Site of the fake named name (the prefix of its
// errors), whose commits have the clock now and the author author, and
// the Kit the fake embeds. answer writes the fake's answer for an armed
// fault, and stop ends the requests FaultSlow holds, as for
// [fake.NewKit]; Close closes it.
func NewSite[S any](name string, now func() time.Time, author string, answer func(http.ResponseWriter, *http.Request, fake.Fault) bool, stop chan struct{}) (*Site[S], fake.Kit[S]) {
	s := &Site[S]{Store: Store{Name: name, Now: now, Author: author}, stop: stop}
	kit, core := fake.NewKit[S](answer, stop)
	s.Core = core
	return s, kit
}

// Start starts a server of h, which Close closes.
func (s *Site[S]) Start(h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	s.servers = append(s.servers, srv)
	return srv
}

// Close shuts the servers down and ends the requests FaultSlow holds; it
// may be called again.
func (s *Site[S]) Close() {
	s.closing.Do(func() { close(s.stop) })
	for _, srv := range s.servers {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// Record logs r, received by host, under route ("" when no route
// answered it), and counts it.
func (s *Site[S]) Record(r *http.Request, host, route string) {
	s.Core.Record(r, host, route, func(st *S) { s.Count(st, host) })
}

// Route registers fn for pattern on mux: its requests are recorded and
// subject to the faults armed for their host.
func (s *Site[S]) Route(mux *http.ServeMux, pattern string, fn http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		host := "api"
		if s.Host != nil {
			host = s.Host(r)
		}
		s.Record(r, host, pattern)
		s.Core.Serve(w, r, host, host, fn)
	})
}

// Handle is Route for a route that needs credentials.
func (s *Site[S]) Handle(mux *http.ServeMux, pattern string, fn http.HandlerFunc) {
	s.Route(mux, pattern, func(w http.ResponseWriter, r *http.Request) {
		if why := s.Auth.Check(r); why != AuthOK {
			s.Refuse(w, r, why)
			return
		}
		fn(w, r)
	})
}

// HandleOwner is Handle for a route on an owner: fn runs with the store
// locked and the owner found.
func (s *Site[S]) HandleOwner(mux *http.ServeMux, pattern string, fn func(http.ResponseWriter, *http.Request, *Owner)) {
	s.Handle(mux, pattern, func(w http.ResponseWriter, r *http.Request) {
		s.Lock()
		defer s.Unlock()
		if o := s.FindOwner(r.PathValue(s.OwnerParam)); o != nil {
			fn(w, r, o)
		} else {
			s.NoOwner(w, r)
		}
	})
}

// HandleRepos registers with Handle the routes on a repository: each key
// of routes is a method and a path below prefix ("GET /src", or "GET "
// for prefix itself), prefix naming the repository with the wildcards
// OwnerParam and slug. A route's handler runs with the store locked and the
// repository found.
func (s *Site[S]) HandleRepos(mux *http.ServeMux, prefix string, routes map[string]func(http.ResponseWriter, *http.Request, *Repo)) {
	for pattern, fn := range routes {
		method, rest, _ := strings.Cut(pattern, " ")
		s.Handle(mux, method+" "+prefix+rest, func(w http.ResponseWriter, r *http.Request) {
			s.Lock()
			defer s.Unlock()
			o := s.FindOwner(r.PathValue(s.OwnerParam))
			if o == nil || o.Repos[strings.ToLower(r.PathValue("slug"))] == nil {
				s.NotFound(w, r, o)
				return
			}
			fn(w, r, o.Repos[strings.ToLower(r.PathValue("slug"))])
		})
	}
}

// Credentials are the credentials a fake accepts: with Anyone, every
// request; otherwise the Bearer Tokens, the Users' Basic passwords (by
// username), with TokenPasswords a token as a Basic password too (as
// Bitbucket Server does), and the Bearer tokens that Minted, when not
// nil, reports good (those the fake issued).
type Credentials struct {
	Anyone         bool
	Tokens         []string
	Users          map[string]string
	TokenPasswords bool
	Minted         func(r *http.Request) bool
}

// AuthResult is what [Credentials.Check] finds of a request's
// credentials.
type AuthResult int

// The results.
const (
	AuthOK          AuthResult = iota
	AuthMissing                // no Authorization header
	AuthBadPassword            // Basic credentials not accepted, or a scheme other than Bearer
	AuthBadToken               // a Bearer token not accepted
)

// Check says whether c accepts r's credentials.
func (c Credentials) Check(r *http.Request) AuthResult {
	h := r.Header.Get("Authorization")
	if c.Anyone {
		return AuthOK
	} else if h == "" {
		return AuthMissing
	}
	if user, pass, ok := r.BasicAuth(); ok {
		if want, known := c.Users[user]; known && want == pass || c.TokenPasswords && slices.Contains(c.Tokens, pass) {
			return AuthOK
		}
		return AuthBadPassword
	}
	if scheme, tok, _ := strings.Cut(h, " "); !strings.EqualFold(scheme, "bearer") {
		return AuthBadPassword
	} else if slices.Contains(c.Tokens, tok) || c.Minted != nil && c.Minted(r) {
		return AuthOK
	}
	return AuthBadToken
}

// AnswerFault writes a Bitbucket fake's answer for the fault f, as the
// fakes' package documentation tables it, and reports true; it reports
// false for a kind that answers no request itself. limit are the headers
// that FaultRateLimit sends besides Retry-After. write writes the fake's
// error body for status and the fault's kind; echo quotes the request's
// credentials for FaultEchoCredentials.
func AnswerFault(w http.ResponseWriter, r *http.Request, f fake.Fault, limit map[string]string, write func(status int, kind fake.FaultKind, echo string)) bool {
	status, echo := http.StatusTooManyRequests, ""
	switch f.Kind {
	case fake.FaultUnauthorized, fake.FaultNotFound, fake.FaultUnprocessable:
		status = map[fake.FaultKind]int{fake.FaultUnauthorized: http.StatusUnauthorized, fake.FaultNotFound: http.StatusNotFound,
			fake.FaultUnprocessable: http.StatusBadRequest}[f.Kind] // Bitbucket's validation status
	case fake.FaultRateLimit:
		for k, v := range limit {
			w.Header().Set(k, v)
		}
		fallthrough
	case fake.FaultSecondaryRateLimit, fake.FaultTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(int(cmp.Or(f.RetryAfter, time.Minute)/time.Second)))
	case fake.FaultTooManyRequestsNoRetryAfter, fake.FaultSecondaryRateLimitNoRetryAfter, fake.FaultRateLimitResetOnly:
	case fake.FaultServerError:
		if status = cmp.Or(f.Status, http.StatusInternalServerError); fake.GatewayError(w, status, "") {
			return true
		}
	case fake.FaultEchoCredentials:
		status, echo = cmp.Or(f.Status, http.StatusBadRequest), fake.EchoCredentials(r)
		if fake.EchoPage(w, status, echo) {
			return true
		}
	default:
		return false
	}
	write(status, f.Kind, echo)
	return true
}

// NotModified sets the ETag of w and, when the If-None-Match of r
// matches it, answers 304 and reports true.
func NotModified(w http.ResponseWriter, r *http.Request, etag string) bool {
	w.Header().Set("ETag", etag)
	if !fake.ETagMatches(r.Header.Get("If-None-Match"), etag) {
		return false
	}
	w.WriteHeader(http.StatusNotModified)
	return true
}

// Grant is an explicit permission on a repository: a group's or a
// user's.
type Grant struct {
	Group, User, Permission string
}

// Access holds the groups and users a fake's permission routes know and
// the grants made through them. The store's mutex guards it.
type Access struct {
	known  map[string]bool    // "group:name" or "user:name"
	grants map[string][]Grant // by lower-case "owner/slug"
}

// Add makes name known as a kind ("group" or "user").
func (a *Access) Add(kind, name string) {
	if a.known == nil {
		a.known = map[string]bool{}
	}
	a.known[kind+":"+name] = true
}

// Known reports whether name is known as a kind.
func (a *Access) Known(kind, name string) bool { return a.known[kind+":"+name] }

// Set records g on the repository slug of owner, replacing a grant to the
// same group or user in place.
func (a *Access) Set(owner, slug string, g Grant) {
	if a.grants == nil {
		a.grants = map[string][]Grant{}
	}
	k := strings.ToLower(owner + "/" + slug)
	if i := slices.IndexFunc(a.grants[k], func(o Grant) bool { return o.Group == g.Group && o.User == g.User }); i >= 0 {
		a.grants[k][i] = g
	} else {
		a.grants[k] = append(a.grants[k], g)
	}
}

// Grants returns the grants on the repository slug of owner, in order.
func (a *Access) Grants(owner, slug string) []Grant {
	return slices.Clone(a.grants[strings.ToLower(owner+"/"+slug)])
}
