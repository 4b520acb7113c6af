// Package orgx holds what the org readers share, so that each rule is
// written once: the HTTP client stack (request counting and rate-limit
// tracking under the credentials, httpx's retry policy above), the wording
// and classification of errors, GraphQL queries with page sizes halved on
// timeouts, page cursors, bounded concurrency, progress reporting, config
// decoding and the last steps of every Read.
package orgx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/org"
)

// Decoder is [org.Decoder].
type Decoder = org.Decoder

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

// DecodeMap decodes the config block at path, a map of provider ids to
// blocks, and returns the blocks in id order, each given its id by setID.
// A missing block is no error and no entries.
func DecodeMap[T any](d Decoder, path string, setID func(*T, string)) ([]T, error) {
	if d == nil || !d.Has(path) {
		return nil, nil
	}
	var m map[string]T
	if err := d.Decode(path, &m); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(m))
	for _, id := range slices.Sorted(maps.Keys(m)) {
		c := m[id]
		setID(&c, id)
		out = append(out, c)
	}
	return out, nil
}

// Done is how every reader ends a Read: it names the snapshot's source
// (p's, as in progress reports, unless set), cleans the free text of the
// snapshot its build made ([org.Snapshot.Clean]: what a directory holds is
// untrusted), checks it (the build skips what Backstage would reject, so a
// failure is a bug), sends the final progress report and logs the
// snapshot's warnings, each prefixed with the reader's package name, to
// logger (nil: silent).
func Done(ctx context.Context, snap *org.Snapshot, p *Progress, logger *slog.Logger, pkg, provider string) error {
	if snap.Source == "" && p != nil {
		snap.Source = p.source
	}
	snap.Clean()
	if err := snap.Validate(); err != nil {
		return err
	}
	p.Report("done", len(snap.Users), len(snap.Groups), true)
	if logger != nil {
		for _, w := range snap.Warnings {
			logger.WarnContext(ctx, pkg+": "+w, "provider", provider)
		}
	}
	return nil
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

// MaxEmptyPages bounds the empty pages in a row that a listing follows
// (Microsoft Graph and Active Directory may send an empty page with a
// cursor, and more after it): past it, the server is taken for one whose
// listing never ends. Real runs are a few pages long.
const MaxEmptyPages = 1000

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

// Pager guards one paged listing against a server that would have it
// read forever: the listing follows a next page only when its cursor was
// not given before (see [Cursors]) and the page that named it listed an
// item not listed before, by key (a server that ignores the page asked
// for sends the same items again). The zero value is ready; it is not safe
// for concurrent use.
type Pager[K comparable] struct {
	cursors Cursors
	seen    map[K]struct{}
	fresh   bool // the current page listed a key not listed before
}

// Saw records the key of an item of the current page and reports whether
// it was not listed before.
func (p *Pager[K]) Saw(key K) bool {
	if _, dup := p.seen[key]; dup {
		return false
	}
	if p.seen == nil {
		p.seen = map[K]struct{}{}
	}
	p.seen[key], p.fresh = struct{}{}, true
	return true
}

// Next ends the current page and reports whether the listing may follow
// cursor: false when cursor is empty or was given before, or when the page
// listed no item not listed before.
func (p *Pager[K]) Next(cursor string) bool {
	fresh := p.fresh
	p.fresh = false
	return p.cursors.Next(cursor) && fresh
}

// Follow is Next without the rule on the page's items, for a page that
// may list nothing new without repeating anything: the first page of a
// connection read within another one (a team's first members, which come
// with the team).
func (p *Pager[K]) Follow(cursor string) bool {
	p.fresh = false
	return p.cursors.Next(cursor)
}

// NextQuery returns the query of the rel="next" target of a Link header
// (RFC 8288, as GitHub and GitLab send it), and false when there is none.
// Readers send it to their own URL's path: whatever host or path the link
// names, nothing goes elsewhere.
func NextQuery(link string) (string, bool) {
	for part := range strings.SplitSeq(link, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !slices.ContainsFunc(strings.Split(params, ";"), func(p string) bool {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			return strings.EqualFold(k, "rel") && slices.Contains(strings.Fields(strings.Trim(v, `"`)), "next")
		}) {
			continue
		}
		u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
		if err != nil || u.RawQuery == "" {
			return "", false
		}
		return u.RawQuery, true
	}
	return "", false
}
