// Package orgx holds what the org readers share: the HTTP client stack
// (request counting and rate-limit tracking under the credentials, httpx's
// retry policy above), progress reporting and config decoding.
package orgx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/org"
)

// Decoder is what readers need of *config.Config.
type Decoder interface {
	Decode(path string, out any) error
	Has(path string) bool
}

// Retry tunes httpx's policy; zero fields mean httpx's defaults.
type Retry struct {
	MaxRetries       int
	MinWait, MaxWait time.Duration
	MaxRateLimitWait time.Duration
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

// Observe records the rate-limit headers of resp (GitHub's X-RateLimit-*,
// GitLab's RateLimit-*).
func (m *Meter) Observe(resp *http.Response) {
	m.setup()
	h := resp.Header
	rem := h.Get("X-RateLimit-Remaining")
	if rem == "" {
		rem = h.Get("RateLimit-Remaining")
	}
	if n, err := strconv.ParseInt(rem, 10, 64); err == nil {
		m.remaining.Store(n)
	}
	reset := h.Get("X-RateLimit-Reset")
	if reset == "" {
		reset = h.Get("RateLimit-Reset")
	}
	if n, err := strconv.ParseInt(reset, 10, 64); err == nil && n > 1e9 {
		m.reset.Store(n)
	}
}

type meterTransport struct {
	base http.RoundTripper
	m    *Meter
}

func (t meterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.m.requests.Add(1)
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		t.m.Observe(resp)
	}
	return resp, err
}

// Client returns the client stack every reader uses, from the bottom: base
// (http.DefaultTransport when nil), the meter, httpx.Sanitize (error bodies
// capped and scrubbed of every credential sent), then auth (which attaches
// the credential: credentials.Transport, an oauth2.Transport), then httpx's
// retry and rate-limit policy on top. Redirects are refused: no reader
// follows one, and a credential must never follow one to another host.
func Client(base http.RoundTripper, m *Meter, auth func(http.RoundTripper) http.RoundTripper, r Retry, logger *slog.Logger) *http.Client {
	if base == nil {
		base = http.DefaultTransport
	}
	m.setup()
	var rt http.RoundTripper = meterTransport{base, m}
	rt = httpx.Sanitize(rt, &httpx.Secrets{})
	if auth != nil {
		rt = auth(rt)
	}
	hc := httpx.NewClient(&httpx.Options{Base: rt, MaxRetries: r.MaxRetries, MinWait: r.MinWait, MaxWait: r.MaxWait,
		MaxRateLimitWait: r.MaxRateLimitWait, Logger: logger})
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

// Progress sends progress reports to fn, at most one per interval (the
// final one always), from one goroutine at a time.
type Progress struct {
	fn       org.ProgressFunc
	source   string
	meter    *Meter
	mu       sync.Mutex
	last     time.Time
	phase    string
	interval time.Duration
	now      func() time.Time
}

// NewProgress returns a reporter; fn may be nil.
func NewProgress(fn org.ProgressFunc, source string, m *Meter, now func() time.Time) *Progress {
	if now == nil {
		now = time.Now
	}
	return &Progress{fn: fn, source: source, meter: m, interval: 200 * time.Millisecond, now: now}
}

// Report sends a report unless one of the same phase was sent less than
// the interval ago; the first report of a phase and final reports are
// always sent.
func (p *Progress) Report(phase string, users, groups int, final bool) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if !final && phase == p.phase && now.Sub(p.last) < p.interval {
		return
	}
	p.last, p.phase = now, phase
	rem, reset := p.meter.RateLimit()
	p.fn(org.Progress{Source: p.source, Phase: phase, Users: users, Groups: groups, Requests: p.meter.Requests(),
		RateLimitRemaining: rem, RateLimitReset: reset})
}

// DecodeList decodes the config block at path, which may be one object or
// a list of objects, into a list. A missing block is no error and no
// entries.
func DecodeList[T any](d Decoder, path string) ([]T, error) {
	if d == nil || !d.Has(path) {
		return nil, nil
	}
	var raw json.RawMessage
	if err := d.Decode(path, &raw); err != nil {
		return nil, err
	}
	raw = bytes.TrimSpace(raw)
	var out []T
	if len(raw) > 0 && raw[0] == '[' {
		if err := d.Decode(path, &out); err != nil {
			return nil, err
		}
		return out, nil
	}
	var one T
	if err := d.Decode(path, &one); err != nil {
		return nil, err
	}
	return []T{one}, nil
}

// ReadJSON reads resp's body (capped at max bytes) into v.
func ReadJSON(op string, resp *http.Response, max int64, v any) error {
	b, err := httpx.ReadBody(resp, max)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Op: op, Status: resp.StatusCode, Msg: "the answer is not the JSON expected", Err: err}
	}
	return nil
}

// Format writes s for every verb, so that no verb (%v, %+v, %#v, %s, %q)
// shows more of a reader than its description.
func Format(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", s)
		return
	}
	io.WriteString(f, s)
}

// Cursors remembers the page cursors one listing was given (GraphQL
// endCursors, next-page numbers, @odata.nextLinks), so that a server that
// repeats one, and so would have the same pages read forever, ends the
// listing with an error instead of an endless loop. The zero value is
// ready; it is not safe for concurrent use.
type Cursors struct{ seen map[string]struct{} }

// Next records cursor and reports whether the listing may follow it: false
// when it is empty or was given before.
func (c *Cursors) Next(cursor string) bool {
	if cursor == "" {
		return false
	}
	if _, dup := c.seen[cursor]; dup {
		return false
	}
	if c.seen == nil {
		c.seen = map[string]struct{}{}
	}
	c.seen[cursor] = struct{}{}
	return true
}

// RepeatedCursor is the error of a listing whose server gave a page cursor
// it had given before (or none where one was due): Unavailable, as the
// answer cannot be complete.
func RepeatedCursor(op, provider, host, what string) error {
	return &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: host,
		Msg: what + ": the server repeated a page cursor (or sent none with more pages to come); following it would never end"}
}
