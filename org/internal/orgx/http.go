package orgx

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/internal/httpx"
)

// HTTP is what the options of every HTTP reader (githuborg, gitlaborg,
// msgraph) say alike about sending requests; see githuborg.Options for the
// meaning of each field. [HTTP.Defaults] fills in the zero fields.
type HTTP struct {
	Transport        http.RoundTripper
	Retry            Retry
	RequestTimeout   time.Duration
	Concurrency      int
	MaxResponseBytes int64
	Logger           *slog.Logger
	Now              func() time.Time
}

// Retry tunes httpx's policy; zero fields mean httpx's defaults.
type Retry struct {
	MaxRetries       int
	MinWait, MaxWait time.Duration
	MaxRateLimitWait time.Duration
}

// The defaults every HTTP reader shares; the concurrency is each reader's.
const (
	defaultRequestTimeout   = 60 * time.Second
	defaultMaxResponseBytes = 64 << 20
)

// Defaults returns h with its zero (or negative) fields set: 60 s per
// request, concurrency requests in flight, 64 MiB per answer, time.Now.
func (h HTTP) Defaults(concurrency int) HTTP {
	if h.RequestTimeout <= 0 {
		h.RequestTimeout = defaultRequestTimeout
	}
	if h.Concurrency <= 0 {
		h.Concurrency = concurrency
	}
	if h.MaxResponseBytes <= 0 {
		h.MaxResponseBytes = defaultMaxResponseBytes
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	return h
}

// Client returns the client stack every reader uses, from the bottom:
// h.Transport (http.DefaultTransport when nil), the meter, httpx.Sanitize
// (error bodies capped and scrubbed of every credential sent), then auth
// (which attaches the credential: credentials.Transport, msgraph's
// bearer token), then httpx's retry and rate-limit policy on top.
// Redirects are refused: no reader follows one, and a credential must
// never follow one to another host.
func (h HTTP) Client(m *Meter, auth func(http.RoundTripper) http.RoundTripper) *http.Client {
	return h.client(m, &httpx.Secrets{}, auth, 0)
}

// TokenClient is the client of a token endpoint (an OAuth grant's POST):
// [HTTP.Client]'s stack, counted by m, with no credential attached, whose
// error answers are scrubbed of secrets (the client secret a grant sends
// in its form body, where [httpx.Sanitize] cannot see it) as well as of
// what the requests' headers carry. Each attempt is bounded by 30 s (and
// retried under the policy), so that an identity platform that hangs does
// not hold a Read without a deadline forever.
func (h HTTP) TokenClient(m *Meter, secrets ...string) *http.Client {
	set := &httpx.Secrets{}
	set.Add(secrets...)
	return h.client(m, set, nil, tokenAttemptTimeout)
}

// tokenAttemptTimeout bounds one attempt of a token request.
const tokenAttemptTimeout = 30 * time.Second

func (h HTTP) client(m *Meter, set *httpx.Secrets, auth func(http.RoundTripper) http.RoundTripper, attemptTimeout time.Duration) *http.Client {
	base := h.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	m.setup()
	now := h.Now
	if now == nil {
		now = time.Now
	}
	var rt http.RoundTripper = meterTransport{base, m, now}
	rt = httpx.Sanitize(rt, set)
	if auth != nil {
		rt = auth(rt)
	}
	hc := httpx.NewClient(&httpx.Options{Base: rt, MaxRetries: h.Retry.MaxRetries, MinWait: h.Retry.MinWait,
		MaxWait: h.Retry.MaxWait, MaxRateLimitWait: h.Retry.MaxRateLimitWait, Logger: h.Logger, AttemptTimeout: attemptTimeout})
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

// ResolverClient is [HTTP.Client] with the credential the resolver picks
// for req (never a user's token, as req's Policy says) attached to every
// request.
func (h HTTP) ResolverClient(m *Meter, resolver *credentials.Resolver, req credentials.Request) *http.Client {
	return h.Client(m, func(base http.RoundTripper) http.RoundTripper {
		return &credentials.Transport{Base: base, Resolver: resolver, Request: req}
	})
}

// ParseHTTP parses raw, with any trailing '/' removed, and reports
// whether it is an absolute http or https URL with a host: the rule for
// every base URL a reader is configured with.
func ParseHTTP(raw string) (*url.URL, bool) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, false
	}
	return u, true
}

// Meter counts the HTTP requests sent (every attempt) and keeps the last
// rate-limit headroom a server reported. It is safe for concurrent use.
type Meter struct {
	requests  atomic.Int64
	remaining atomic.Int64 // -1 when unknown
	reset     atomic.Int64 // unix seconds, 0 when unknown
	init      sync.Once
}

func (m *Meter) setup() { m.init.Do(func() { m.remaining.Store(-1) }) }

// Requests returns the number of requests sent so far.
func (m *Meter) Requests() int { return int(m.requests.Load()) }

// RateLimit returns the last reported remaining budget (-1 when unknown)
// and its reset time.
func (m *Meter) RateLimit() (int, time.Time) {
	m.setup()
	var t time.Time
	if r := m.reset.Load(); r > 0 {
		t = time.Unix(r, 0)
	}
	return int(m.remaining.Load()), t
}

// Observe records the rate-limit headers of resp, as [httpx.QuotaOf]
// reads them (GitHub's X-RateLimit-*, GitLab's RateLimit-* with a reset in
// epoch or delta seconds); now turns a relative reset into a time.
func (m *Meter) Observe(resp *http.Response, now time.Time) {
	m.setup()
	if _, rem, reset, ok := httpx.QuotaOf(resp.Header, now); ok {
		m.remaining.Store(int64(rem))
		m.reset.Store(reset.Unix())
	}
}

// Trace returns ctx with a client trace (net/http/httptrace) that counts
// in m every request sent with it, attempt by attempt, by a client whose
// transport is an *http.Transport (http.DefaultTransport, an
// httptest.Server's): for requests that another package's client sends
// for a reader (a GitHub App's listing of its installations), which the
// reader's own stack does not see. Rate-limit headers are not observed:
// such a client's budget is not the reader's.
func (m *Meter) Trace(ctx context.Context) context.Context {
	m.setup()
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GetConn: func(string) { m.requests.Add(1) }})
}

type meterTransport struct {
	base http.RoundTripper
	m    *Meter
	now  func() time.Time
}

func (t meterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.m.requests.Add(1)
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		t.m.Observe(resp, t.now())
	}
	return resp, err
}
