package fake

import (
	"net/http"
	"strings"
)

// Kit is the request-handling core that a fake server embeds: the faults
// armed on it and the log of the requests it received, with their counts
// in the fake's own Stats type S. Its Inject, ClearFaults and Requests
// methods become the fake's. It is safe for concurrent use once Answer
// and Stop are set (before the fake serves).
type Kit[S any] struct {
	// Answer writes the provider's answer (status, headers, body) for an
	// armed fault of a kind that answers the request itself (every kind
	// but FaultSlow, FaultTruncatedBody and FaultLostAnswer, which Kit
	// carries out), and reports false for a kind the fake does not
	// produce, which then lets the request through.
	Answer func(w http.ResponseWriter, r *http.Request, f Fault) bool
	// Stop, once closed, aborts the requests that FaultSlow holds (the
	// fake closes it when it closes); nil never is.
	Stop <-chan struct{}

	faults Faults[Fault]
	log    Log[Request, S]
}

// Inject arms f; it applies to the next f.Times matching requests (every
// matching request while armed when Times is 0) until ClearFaults.
func (k *Kit[S]) Inject(f Fault) { k.faults.Arm(f, f.Times) }

// ClearFaults disarms every fault.
func (k *Kit[S]) ClearFaults() { k.faults.Clear() }

// Requests returns a copy of the requests received, in order.
func (k *Kit[S]) Requests() []Request { return k.log.Requests() }

// Log returns the log of the requests, for the fake's Stats method and
// for counts that are not per request.
func (k *Kit[S]) Log() *Log[Request, S] { return &k.log }

// Record logs r, received by the fake's server named host, under route
// ("" for a request that no route answered), and calls count on the
// counters when it is not nil.
func (k *Kit[S]) Record(r *http.Request, host, route string, count func(*S)) {
	uri := r.RequestURI // as received, before a fake strips a prefix
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	k.log.Record(Request{Host: host, Method: r.Method, Path: uri, Route: route, Header: r.Header.Clone()}, route, count)
}

// Serve answers r with h, unless an armed fault for host matches r: then
// the fault's answer, or h's answer made slow, truncated or lost. A fault
// with Host "" applies to mainHost. Path filters match the path as the
// handler sees it, escaped or not.
func (k *Kit[S]) Serve(w http.ResponseWriter, r *http.Request, host, mainHost string, h http.HandlerFunc) {
	f, ok := k.faults.Take(func(f Fault) bool {
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
		o = Slow(r, f.Delay, k.Stop)
	case FaultTruncatedBody:
		o = Truncate
	case FaultLostAnswer:
		o = Lose
	default:
		if k.Answer != nil && k.Answer(w, r, f) {
			o = Answered
		}
	}
	Serve(w, r, o, h)
}
