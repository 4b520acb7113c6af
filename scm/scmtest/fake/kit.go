package fake

import (
	"net/http"
	"slices"
	"strings"
)

// Kit is the part of a fake server's API that its faults and its request
// log make: a fake embeds it, so that Inject, ClearFaults, Requests,
// RequestsTo and ResetStats are the fake's own methods. Its machinery, the
// [Core] that [NewKit] returns with it, stays the fake's private field.
// The zero Kit is not usable; it is safe for concurrent use.
type Kit[S any] struct{ c *Core[S] }

// Core is what a fake server uses to record the requests it receives and
// to apply the faults armed on its [Kit], counting in the fake's own Stats
// type S.
type Core[S any] struct {
	answer func(w http.ResponseWriter, r *http.Request, f Fault) bool
	stop   <-chan struct{}
	faults Faults[Fault]
	log    Log[Request, S]
}

// NewKit returns a fake's Kit and its Core. answer writes the provider's
// answer (status, headers, body) for an armed fault of a kind that answers
// the request itself (every kind but FaultSlow, FaultTruncatedBody and
// FaultLostAnswer, which Core carries out), and reports false for a kind
// the fake does not produce, which then lets the request through. Once
// stop is closed (when the fake closes), the requests that FaultSlow holds
// are aborted; a nil stop never is.
func NewKit[S any](answer func(w http.ResponseWriter, r *http.Request, f Fault) bool, stop <-chan struct{}) (Kit[S], *Core[S]) {
	c := &Core[S]{answer: answer, stop: stop}
	return Kit[S]{c}, c
}

// Inject arms f; it applies to the next f.Times matching requests (every
// matching request while armed when Times is 0) until ClearFaults.
func (k Kit[S]) Inject(f Fault) { k.c.faults.Arm(f, f.Times) }

// ClearFaults disarms every fault.
func (k Kit[S]) ClearFaults() { k.c.faults.Clear() }

// Requests returns a copy of the requests received, in order.
func (k Kit[S]) Requests() []Request { return k.c.log.Requests() }

// RequestsTo returns the requests that the fake's server named host
// ("api", "download", "raw", "web") received, in order.
func (k Kit[S]) RequestsTo(host string) []Request {
	return slices.DeleteFunc(k.c.log.Requests(), func(r Request) bool { return r.Host != host })
}

// ResetStats forgets the requests received so far, and their counts.
func (k Kit[S]) ResetStats() { k.c.log.Reset() }

// Log returns the log of the requests, for the fake's Stats method and
// for counts that are not per request.
func (c *Core[S]) Log() *Log[Request, S] { return &c.log }

// Record logs r, received by the fake's server named host, under route
// ("" for a request that no route answered), and calls count on the
// counters when it is not nil.
func (c *Core[S]) Record(r *http.Request, host, route string, count func(*S)) {
	uri := r.RequestURI // as received, before a fake strips a prefix
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	c.log.Record(Request{Host: host, Method: r.Method, Path: uri, Route: route, Header: r.Header.Clone()}, route, count)
}

// Serve answers r with h, unless an armed fault for host matches r: then
// the fault's answer, or h's answer made slow, truncated or lost. A fault
// with Host "" applies to mainHost. Path filters match the path as the
// handler sees it, escaped or not.
func (c *Core[S]) Serve(w http.ResponseWriter, r *http.Request, host, mainHost string, h http.HandlerFunc) {
	f, ok := c.faults.Take(func(f Fault) bool {
		fh := f.Host
		if fh == "" {
			fh = mainHost
		}
		if fh != host || (f.Method != "" && !strings.EqualFold(f.Method, r.Method)) {
			return false
		}
		return strings.HasPrefix(r.URL.Path, f.Path) || strings.HasPrefix(r.URL.EscapedPath(), f.Path)
	})
	if !ok {
		h(w, r)
		return
	}
	o := Pass
	switch f.Kind {
	case FaultSlow:
		o = Slow(r, f.Delay, c.stop)
	case FaultTruncatedBody:
		o = Truncate
	case FaultLostAnswer:
		o = Lose
	default:
		if c.answer != nil && c.answer(w, r, f) {
			o = Answered
		}
	}
	Serve(w, r, o, h)
}
