// Package httpx is scmkit's HTTP client: one retry and rate-limit policy for
// every provider, built on github.com/hashicorp/go-retryablehttp, exposed as a
// standard *http.Client (or http.RoundTripper) so that go-github, GitLab's
// client-go and plain net/http code can all use it.
//
// # What is retried
//
//   - 429 Too Many Requests, for every method: the server refused the
//     request before processing it.
//   - 403 Forbidden when it is a rate limit: a Retry-After header (GitHub's
//     secondary limit), X-RateLimit-Remaining: 0 (GitHub's primary limit),
//     RateLimit-Remaining: 0 (GitLab), or a body whose first 8 KiB mention a
//     "rate limit" or "abuse detection". Retried for every method.
//   - 5xx except 501 and 505, for idempotent requests only (GET, HEAD,
//     OPTIONS, TRACE, PUT, DELETE, or any request with an Idempotency-Key or
//     X-Idempotency-Key header, as net/http does).
//   - Transport errors, for idempotent requests: network errors (net.Error,
//     io.EOF, io.ErrUnexpectedEOF), but never TLS or certificate failures,
//     context cancellation, a host name that does not resolve (the DNS
//     answered that it does not exist: a retry gets the same answer; the
//     round trip fails at once with Unavailable, naming the host), or
//     errors returned by the base transport that are not network errors
//     (for example a credential failure). A DNS failure that may pass (a
//     timeout, a server failure) is retried.
//
// Non-idempotent requests (POST, PATCH) are never retried blindly: they are
// retried after a 429 or a rate-limit 403 (the server did not process them),
// and after a transport error only when that error happened while dialling
// (connection refused, DNS failure), that is, when the request never left
// this process. A 502 after a POST is returned to the caller as is, since the
// upstream may have acted on it.
//
// Requests whose body cannot be replayed (a Body without GetBody) are sent
// once and never retried. Requests built with http.NewRequest from a
// bytes.Reader, bytes.Buffer or strings.Reader have GetBody and are replayed.
//
// # How long it waits
//
// A server-requested wait is honoured, in this order: Retry-After
// (delay-seconds or HTTP-date); X-RateLimit-Reset (epoch seconds) when
// X-RateLimit-Remaining is 0; RateLimit-Reset (GitLab: epoch seconds, or
// delta-seconds when the value is below 10^9); one minute for a GitHub
// secondary limit that names no time (GitHub's documented advice). Anything
// else (5xx, a bare 429 as Bitbucket Cloud sends, network errors) backs off
// exponentially from MinWait to MaxWait with jitter.
//
// If the server asks for a wait longer than MaxRateLimitWait, the round trip
// returns at once, without sleeping, a *errcode.Error with Code RateLimited
// (Unavailable for a 5xx with Retry-After), the HTTP status and RetryAt, and
// the response body is drained and closed. This applies to every method.
// The same happens when a retry would follow a server-requested wait that
// ends after the request context's deadline: the caller gets RetryAt at
// once instead of DeadlineExceeded at the deadline. An exponential backoff
// (no time named by the server) is slept until the context ends.
//
// When retries are exhausted, the last response is returned unchanged (body
// unread), so that callers and adapters classify it themselves, using
// [RateLimitInfo] for rate limits. Every wait stops when the request's
// context is done, returning a Canceled or DeadlineExceeded *errcode.Error.
// Bodies of responses that are retried are drained (up to 4 KiB) and closed.
//
// An attempt may be bounded by Options.AttemptTimeout (reading its body
// included): an attempt that runs out of it while the request's context
// is live is a network error, retried under the rules above.
//
// # Classifying answers
//
// [Classify] is the one mapping of an error answer to an error code, with
// [RateLimitInfo] for rate limits, so that a status means the same
// everywhere: the credentials packages use it, and so should any package
// that reads answers itself (the table is in its documentation).
//
// # Error answers and secrets
//
// [Sanitize] is the one place where answers are cleaned of the credentials
// their requests carried: it sits below the transport that attaches them,
// caps error bodies at [MaxErrorBody] and scrubs them, and every header,
// of each credential value in every encoding a server or proxy may echo it
// in. [Secrets] holds the values one operation sent, so that its error can
// be scrubbed too ([Secrets.ScrubError]).
//
// Nothing is logged unless Options.Logger is set.
package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/warnlimit"
)

// Defaults applied by [NewTransport] to zero fields of [Options].
const (
	DefaultMaxRetries       = 3
	DefaultMinWait          = 500 * time.Millisecond
	DefaultMaxWait          = 10 * time.Second
	DefaultMaxRateLimitWait = 60 * time.Second
)

// Options configures a [Transport]. A nil *Options means all defaults.
type Options struct {
	// Base sends each attempt. The credentials transport sits here.
	// nil means http.DefaultTransport.
	Base http.RoundTripper

	// MaxRetries is the number of retries after the first attempt.
	// 0 means DefaultMaxRetries (3); a negative value disables retries.
	MaxRetries int

	// MinWait and MaxWait bound the exponential backoff used when the
	// server names no time. 0 means DefaultMinWait (500ms) and
	// DefaultMaxWait (10s). MinWait is also the shortest wait after a
	// server-requested one.
	MinWait, MaxWait time.Duration

	// MaxRateLimitWait caps a server-requested wait (Retry-After,
	// X-RateLimit-Reset, RateLimit-Reset). A longer wait is not slept:
	// the round trip returns a RateLimited *errcode.Error with RetryAt at
	// once. 0 means DefaultMaxRateLimitWait (60s).
	MaxRateLimitWait time.Duration

	// Logger receives a Debug record per retry and Info records for
	// rate-limit waits and refusals: at most one a minute per host and
	// kind (waiting, not waiting), with a "left_out" count of those
	// dropped since, so that a long rate limit does not log once per
	// call. nil means silent.
	Logger *slog.Logger

	// Now is the clock used to turn absolute reset times into waits.
	// nil means time.Now.
	Now func() time.Time

	// RetryStatusCodes, when not empty, lists the response statuses that
	// are retried (a GitLab integration's retry.retryStatusCodes): a
	// response whose status is not listed is returned at once, and a
	// listed one is retried under the rules above (idempotent requests,
	// or a rate limit; the server's wait honoured), even outside 429 and
	// 5xx (408, say). Network errors keep their own rule. Empty means 429,
	// rate-limit 403s and 5xx.
	RetryStatusCodes []int

	// AttemptTimeout, if positive, bounds each attempt, reading of the
	// final response's body included, so that a server that hangs is
	// tried again (under the rules for network errors) while the
	// request's context allows. 0 means no bound but the context's.
	AttemptTimeout time.Duration
}

// Transport is an http.RoundTripper that applies the retry and rate-limit
// policy described in the package documentation. It is safe for concurrent
// use. Create one with [NewTransport].
type Transport struct {
	base             http.RoundTripper
	maxRetries       int
	minWait, maxWait time.Duration
	maxRateLimitWait time.Duration
	logger           *slog.Logger
	infos            warnlimit.Keyed // Info records per host and kind
	now              func() time.Time
	retryCodes       map[int]bool // nil: the default statuses
	attemptTimeout   time.Duration
	rc               *retryablehttp.Client

	budget      Budget // see SetBudget (budget.go)
	budgetKey   string
	budgetShare float64
	rateLimits  RateLimits // see SetRateLimits (budget.go)
	api         *apiBase   // see SetAPIBase; nil: guessed from the path

	learnMu sync.Mutex        // guards learned
	learned map[string]string // a guessed GitHub resource → the one answers name (recordBudget)
}

// NewClient returns an *http.Client whose transport is [NewTransport](opts).
// It follows redirects as http.DefaultClient does; each hop is retried on
// its own.
func NewClient(opts *Options) *http.Client {
	return &http.Client{Transport: NewTransport(opts)}
}

// NewTransport returns a [Transport] configured by opts (nil = defaults).
func NewTransport(opts *Options) *Transport {
	var o Options
	if opts != nil {
		o = *opts
	}
	t := &Transport{
		base:             o.Base,
		maxRetries:       o.MaxRetries,
		minWait:          o.MinWait,
		maxWait:          o.MaxWait,
		maxRateLimitWait: o.MaxRateLimitWait,
		logger:           o.Logger,
		now:              o.Now,
		attemptTimeout:   max(o.AttemptTimeout, 0),
	}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if len(o.RetryStatusCodes) > 0 {
		t.retryCodes = make(map[int]bool, len(o.RetryStatusCodes))
		for _, c := range o.RetryStatusCodes {
			t.retryCodes[c] = true
		}
	}
	switch {
	case t.maxRetries == 0:
		t.maxRetries = DefaultMaxRetries
	case t.maxRetries < 0:
		t.maxRetries = 0
	}
	if t.minWait <= 0 {
		t.minWait = DefaultMinWait
	}
	if t.maxWait <= 0 {
		t.maxWait = DefaultMaxWait
	}
	t.maxWait = max(t.maxWait, t.minWait)
	if t.maxRateLimitWait <= 0 {
		t.maxRateLimitWait = DefaultMaxRateLimitWait
	}
	if t.now == nil {
		t.now = time.Now
	}
	t.rc = &retryablehttp.Client{
		// The inner client never follows redirects: the caller's
		// http.Client does, so its CheckRedirect policy applies.
		HTTPClient: &http.Client{
			Transport:     attemptTransport{base: t.base, timeout: t.attemptTimeout},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Logger:       nil, // retryablehttp would log to stderr otherwise
		RetryWaitMin: t.minWait,
		RetryWaitMax: t.maxWait,
		RetryMax:     t.maxRetries,
		CheckRetry:   t.checkRetry,
		Backoff:      t.backoff,
		ErrorHandler: errorHandler,
	}
	return t
}

// CloseIdleConnections closes the idle connections of the base transport,
// if it has any.
func (t *Transport) CloseIdleConnections() {
	type closeIdler interface{ CloseIdleConnections() }
	if c, ok := t.base.(closeIdler); ok {
		c.CloseIdleConnections()
	}
}

// RoundTrip sends req, retrying as described in the package documentation.
// A returned error is a *errcode.Error for cancellation (Canceled,
// DeadlineExceeded), rate limits beyond the cap (RateLimited), a 5xx with
// Retry-After beyond the cap (Unavailable) and network failures
// (Unavailable, wrapping the network error); errors of other kinds from the
// base transport are returned as they are.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := &reqState{idempotent: isIdempotent(req), method: req.Method, url: redactedURL(req)}
	inner := req.WithContext(context.WithValue(req.Context(), stateKey{}, st))
	rreq := &retryablehttp.Request{Request: inner}
	switch {
	case req.Body == nil || req.Body == http.NoBody:
		st.replayable = true
	case req.GetBody != nil:
		st.replayable = true
		// Every attempt, the first included, reads a fresh copy from
		// GetBody; the original body is not needed.
		req.Body.Close()
		getBody := req.GetBody
		if err := rreq.SetBody(retryablehttp.ReaderFunc(func() (io.Reader, error) { return getBody() })); err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Host: req.URL.Host,
				Msg: describe(req) + ": request body cannot be replayed", Err: err}
		}
		inner.ContentLength = req.ContentLength
	default:
		// Not replayable: rreq has no body function, so retryablehttp
		// sends inner.Body once, and checkRetry never retries.
	}

	taken, spent, err := t.takeBudget(req)
	if err != nil {
		// Nothing is sent; the body is closed all the same, as the
		// http.RoundTripper contract requires (a replayable one already is).
		if !st.replayable && req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.rc.Do(rreq)
	if err != nil {
		return nil, t.mapError(req, st, err)
	}
	t.recordBudget(req, resp, taken, spent, st.notModified.Load())
	// Like http.Transport, report the caller's request, not the inner
	// copy (which carries our context value).
	resp.Request = req
	return resp, nil
}

// mapError turns the error of the retry loop into the error RoundTrip
// returns.
func (t *Transport) mapError(req *http.Request, st *reqState, err error) error {
	// The inner http.Client wraps transport errors in *url.Error, whose URL
	// may carry a query string; the caller's http.Client adds its own.
	var ue *url.Error
	if errors.As(err, &ue) && err == error(ue) {
		err = ue.Err
	}
	var ce *errcode.Error
	if errors.As(err, &ce) {
		return err
	}
	if ctxErr := req.Context().Err(); ctxErr != nil {
		return contextError(req, ctxErr)
	}
	if unresolvable(err) {
		return &errcode.Error{Code: errcode.Unavailable, Host: req.URL.Host,
			Msg: fmt.Sprintf("%s: host name %s does not resolve (not retried: it would not resolve on retry either); check the host in the configuration and DNS",
				describe(req), req.URL.Hostname()), Err: err}
	}
	if isNetworkError(err) {
		return &errcode.Error{Code: errcode.Unavailable, Host: req.URL.Host,
			Msg: fmt.Sprintf("%s: request failed after %d attempt(s)", describe(req), st.attempts), Err: err}
	}
	return err
}

// contextError reports a done context as Canceled or DeadlineExceeded.
func contextError(req *http.Request, ctxErr error) error {
	code := errcode.Canceled
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		code = errcode.DeadlineExceeded
	}
	return &errcode.Error{Code: code, Host: req.URL.Host, Msg: describe(req), Err: ctxErr}
}

// stateKey is the context key of a request's reqState.
type stateKey struct{}

// reqState is the per-request state shared by checkRetry and backoff. The
// retry loop calls them one after the other, never concurrently.
type reqState struct {
	method     string
	url        string // redacted: no query string or user info
	idempotent bool
	replayable bool
	attempts   int           // attempts made so far
	serverWait time.Duration // wait requested by the server for the next retry
	hasWait    bool
	// notModified is set by Sanitize, below any cache layer, when the
	// server answered a conditional request 304 (which a cache may have
	// turned into a 200 from its copy): see recordBudget.
	notModified atomic.Bool
}

func stateOf(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

// attemptTransport sends one attempt through the base transport and makes
// sure resp.Request is the request it was given, whose context carries the
// reqState that backoff needs. With a timeout, each attempt runs under its
// own deadline, which lasts until the response body is closed.
type attemptTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (a attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.timeout <= 0 {
		resp, err := a.base.RoundTrip(req)
		if resp != nil {
			resp.Request = req
		}
		return resp, err
	}
	actx, cancel := context.WithTimeout(req.Context(), a.timeout)
	resp, err := a.base.RoundTrip(req.WithContext(actx))
	if err != nil {
		cancel()
		if actx.Err() != nil && req.Context().Err() == nil {
			err = &attemptTimeoutError{timeout: a.timeout, err: err}
		}
		return resp, err
	}
	resp.Request = req
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// attemptTimeoutError is the error of an attempt that ran out of
// Options.AttemptTimeout while the request's context was still live: a
// timeout worth another attempt, not the caller's deadline.
type attemptTimeoutError struct {
	timeout time.Duration
	err     error
}

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("no answer within the %s attempt timeout: %s", e.timeout, errorText(e.err))
}

// Timeout and Temporary make it a net.Error.
func (e *attemptTimeoutError) Timeout() bool   { return true }
func (e *attemptTimeoutError) Temporary() bool { return true }

// cancelBody ends an attempt's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// checkRetry is the retryablehttp.CheckRetry policy.
func (t *Transport) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := stateOf(ctx)
	if st == nil { // not called through RoundTrip; be conservative
		st = &reqState{}
	}
	st.attempts++
	st.hasWait = false
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr // RoundTrip reports it as Canceled or DeadlineExceeded
	}
	if err != nil {
		retry := st.replayable && isNetworkError(err) && (st.idempotent || notSent(err)) && !unresolvable(err)
		if retry && st.attempts <= t.maxRetries {
			t.log(ctx, slog.LevelDebug, "retrying HTTP request after a network error", st, nil, 0,
				slog.String("error", errorText(err)), slog.Int("attempt", st.attempts))
		}
		return retry, nil
	}

	now := t.now()
	retryAt, limited := RateLimitInfo(resp, now)
	serverErr := resp.StatusCode >= 500 && resp.StatusCode <= 599 &&
		resp.StatusCode != http.StatusNotImplemented && resp.StatusCode != http.StatusHTTPVersionNotSupported
	if t.retryCodes != nil {
		if !t.retryCodes[resp.StatusCode] {
			return false, nil
		}
	} else if !limited && !serverErr {
		return false, nil
	}
	if serverErr && retryAt.IsZero() {
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			retryAt = ra
		}
	}
	if !retryAt.IsZero() {
		wait := retryAt.Sub(now)
		if wait > t.maxRateLimitWait {
			code, what := errcode.RateLimited, "rate limited"
			if !limited {
				code, what = errcode.Unavailable, "server unavailable"
			}
			t.log(ctx, slog.LevelInfo, "not waiting for the server: wait exceeds the cap", st, resp, wait)
			return false, &errcode.Error{Code: code, Host: resp.Request.URL.Host, Status: resp.StatusCode, RetryAt: retryAt,
				Msg: fmt.Sprintf("%s: %s for %s, longer than the %s maximum wait", describe(resp.Request), what,
					wait.Round(time.Second), t.maxRateLimitWait)}
		}
		st.serverWait, st.hasWait = max(wait, t.minWait), true
	}
	retry := st.replayable && (limited || st.idempotent)
	if retry && st.attempts <= t.maxRetries && st.hasWait {
		// A server-requested wait that would outlast the request's
		// context is not slept: the caller learns at once when to come
		// back, rather than a DeadlineExceeded at the deadline. The wait
		// is slept on the real clock, so the deadline is compared with it.
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < st.serverWait {
			code, what := errcode.RateLimited, "rate limited"
			if !limited {
				code, what = errcode.Unavailable, "server unavailable"
			}
			t.log(ctx, slog.LevelInfo, "not waiting for the server: wait outlasts the request's deadline", st, resp, st.serverWait)
			return false, &errcode.Error{Code: code, Host: resp.Request.URL.Host, Status: resp.StatusCode, RetryAt: retryAt,
				Msg: fmt.Sprintf("%s: %s for %s, longer than the time left before the request's deadline", describe(resp.Request), what,
					st.serverWait.Round(time.Second))}
		}
	}
	if retry && st.attempts <= t.maxRetries {
		level, msg := slog.LevelDebug, "retrying HTTP request"
		if limited {
			level, msg = slog.LevelInfo, "rate limited; waiting before retrying"
		}
		var wait time.Duration
		if st.hasWait {
			wait = st.serverWait
		}
		t.log(ctx, level, msg, st, resp, wait, slog.Int("attempt", st.attempts))
	}
	return retry, nil
}

// backoff is the retryablehttp.Backoff policy: the server's wait when
// checkRetry recorded one, otherwise exponential with jitter.
func (t *Transport) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && resp.Request != nil {
		if st := stateOf(resp.Request.Context()); st != nil && st.hasWait {
			return st.serverWait
		}
	}
	return expBackoff(minWait, maxWait, attempt)
}

// expBackoff returns minWait·2^attempt capped at maxWait, with "equal
// jitter": a uniformly random wait in [d/2, d].
func expBackoff(minWait, maxWait time.Duration, attempt int) time.Duration {
	d := maxWait
	if attempt < 32 {
		if e := minWait << attempt; e > 0 && e < maxWait {
			d = e
		}
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// errorHandler runs when retryablehttp gives up or checkRetry returned an
// error. It returns the last response as is (so that callers classify it),
// or the error after closing any response.
func errorHandler(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err == nil && resp != nil {
		return resp, nil
	}
	DrainClose(resp)
	return nil, err
}

// log writes one record when a logger is configured.
func (t *Transport) log(ctx context.Context, level slog.Level, msg string, st *reqState, resp *http.Response, wait time.Duration, attrs ...slog.Attr) {
	if t.logger == nil || !t.logger.Enabled(ctx, level) {
		return
	}
	if level >= slog.LevelInfo {
		var host string
		if resp != nil && resp.Request != nil && resp.Request.URL != nil {
			host = resp.Request.URL.Host
		}
		ok, leftOut := t.infos.Allow(host+" "+msg, t.now())
		if !ok {
			return
		}
		if leftOut > 0 {
			attrs = append(attrs, slog.Int("left_out", leftOut))
		}
	}
	attrs = append(attrs, slog.String("method", st.method), slog.String("url", st.url))
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	if wait > 0 {
		attrs = append(attrs, slog.Duration("wait", wait))
	}
	t.logger.LogAttrs(ctx, level, msg, attrs...)
}

// describe names a request for error messages, whose Host field already
// names the host: method and path, never the query string, which may carry
// credentials.
func describe(req *http.Request) string {
	if req == nil || req.URL == nil {
		return "request"
	}
	u := url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath}
	m := req.Method
	if m == "" {
		m = http.MethodGet
	}
	return m + " " + u.String()
}

// redactedURL is the request's URL for logs: scheme, host and path, without
// user info or query string.
func redactedURL(req *http.Request) string {
	if req == nil || req.URL == nil {
		return ""
	}
	u := url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path, RawPath: req.URL.RawPath}
	return u.String()
}

// errorText is err's message without the *url.Error wrapper the inner
// http.Client adds, whose URL may carry a query string.
func errorText(err error) string {
	for {
		ue, ok := err.(*url.Error)
		if !ok {
			return err.Error()
		}
		err = ue.Err
	}
}

// isIdempotent reports whether req may be sent twice, following net/http's
// rule: safe methods, PUT and DELETE, or an explicit idempotency key.
func isIdempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	if _, ok := req.Header["Idempotency-Key"]; ok {
		return true
	}
	_, ok := req.Header["X-Idempotency-Key"]
	return ok
}
