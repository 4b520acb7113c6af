// Package fake is the public kit of scmkit's fake provider servers (the
// packages beside it: fakegithub, fakegitlab, fakebitbucketcloud and
// fakebitbucketserver): the fault kinds a test can inject, the record of
// the requests a fake received, and the machinery they share to answer
// like the real services: armed faults with their filters, slow,
// truncated and lost answers, JSON answers, archives of a flat file set
// and the files of an fs.FS.
//
// It imports nothing else from scmkit, so that a test of an embedder's
// code can import a fake without the library's clients. Each fake keeps
// its provider's own statuses, headers and bodies; its package
// documentation says how it answers each [FaultKind].
package fake

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults is a list of armed faults of a fake's Fault type F. It is safe
// for concurrent use; the zero value has no fault.
type Faults[F any] struct {
	mu    sync.Mutex
	armed []*armed[F]
}

type armed[F any] struct {
	f    F
	left int // remaining applications; -1 = unlimited
}

// Arm adds f, to apply to the next times matching requests; times <= 0
// means every matching request until Clear.
func (fs *Faults[F]) Arm(f F, times int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if times <= 0 {
		times = -1
	}
	fs.armed = append(fs.armed, &armed[F]{f: f, left: times})
}

// Clear disarms every fault.
func (fs *Faults[F]) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.armed = nil
}

// Take returns the first armed fault, in the order they were armed, that
// has applications left and that match accepts, and uses up one of its
// applications. ok is false when none matches.
func (fs *Faults[F]) Take(match func(F) bool) (f F, ok bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, a := range fs.armed {
		if a.left == 0 || !match(a.f) {
			continue
		}
		if a.left > 0 {
			a.left--
		}
		return a.f, true
	}
	return f, false
}

// Outcome is what an injected fault does to a request.
type Outcome int

// The outcomes.
const (
	// Pass answers the request normally.
	Pass Outcome = iota
	// Answered means the fault has answered the request.
	Answered
	// Truncate answers normally, but sends only half of the body under
	// the full Content-Length, then closes the connection.
	Truncate
	// Lose processes the request normally, then closes the connection
	// without sending the answer: the change is made, the client never
	// learns it.
	Lose
)

// Serve answers the request with h unless o is Answered. With Truncate it
// captures h's answer and sends it truncated: the full Content-Length
// but half of the body (of "{}  " when the body is shorter than 2 bytes),
// then it aborts the connection. With Lose it lets h process the request,
// discards the answer and aborts the connection.
func Serve(w http.ResponseWriter, r *http.Request, o Outcome, h http.HandlerFunc) {
	switch o {
	case Answered:
		return
	case Truncate:
		tw := &truncatingWriter{header: http.Header{}}
		defer tw.send(w)
		w = tw
	case Lose:
		h(&truncatingWriter{header: http.Header{}}, r)
		panic(http.ErrAbortHandler)
	}
	h(w, r)
}

// truncatingWriter captures an answer for send.
type truncatingWriter struct {
	header http.Header
	status int
	body   []byte
}

func (t *truncatingWriter) Header() http.Header { return t.header }

func (t *truncatingWriter) WriteHeader(st int) {
	if t.status == 0 {
		t.status = st
	}
}

func (t *truncatingWriter) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.body = append(t.body, b...)
	return len(b), nil
}

// send writes the captured answer with its full Content-Length but only
// half of its body, then aborts the connection.
func (t *truncatingWriter) send(w http.ResponseWriter) {
	body := t.body
	if len(body) < 2 {
		body = append(body, "{}  "...)
	}
	maps.Copy(w.Header(), t.header)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(cmp.Or(t.status, http.StatusOK))
	w.Write(body[:len(body)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}

// Slow waits d, then returns Pass so that the request is answered
// normally. When the request's context ends first, or stop is closed (a
// nil stop never is), it aborts the connection by panicking with
// http.ErrAbortHandler. It reads the request body first: only then does
// net/http watch the connection, so that a client hanging up cancels the
// request's context.
func Slow(r *http.Request, d time.Duration, stop <-chan struct{}) Outcome {
	if r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return Pass
	case <-r.Context().Done():
	case <-stop:
	}
	panic(http.ErrAbortHandler)
}

// GatewayError answers status with an HTML page, as a front end does for
// 502, 503 and 504, and reports true; for another status it writes
// nothing and reports false. page is the page, or "" for a generic one
// naming the status.
func GatewayError(w http.ResponseWriter, status int, page string) bool {
	if status != http.StatusBadGateway && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout {
		return false
	}
	if page == "" {
		page = fmt.Sprintf("<html><body><h1>%d %s</h1></body></html>\n", status, http.StatusText(status))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, page)
	return true
}

// Log records the requests (of a fake's Request type R) a fake receives
// and counts them: per route, unrouted, and in the fake's own counters C
// (its Stats type, whose Routes and Unrouted fields Log leaves alone). It
// is safe for concurrent use; the zero value is empty.
type Log[R, C any] struct {
	mu       sync.Mutex
	requests []R
	routes   map[string]int
	unrouted int
	counts   C
}

// Record appends req, counts it under route ("" for a request no route
// answered) and, when count is not nil, calls it on the counters.
func (l *Log[R, C]) Record(req R, route string, count func(*C)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests = append(l.requests, req)
	if route == "" {
		l.unrouted++
	} else {
		if l.routes == nil {
			l.routes = map[string]int{}
		}
		l.routes[route]++
	}
	if count != nil {
		count(&l.counts)
	}
}

// Count calls count on the counters.
func (l *Log[R, C]) Count(count func(*C)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	count(&l.counts)
}

// Requests returns a copy of the requests recorded, in order.
func (l *Log[R, C]) Requests() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.requests)
}

// Stats returns the counters, a copy of the counts per route (never nil)
// and the count of unrouted requests.
func (l *Log[R, C]) Stats() (counts C, routes map[string]int, unrouted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	routes = maps.Clone(l.routes)
	if routes == nil {
		routes = map[string]int{}
	}
	return l.counts, routes, l.unrouted
}

// Reset forgets every request and count.
func (l *Log[R, C]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	var zero C
	l.requests, l.routes, l.unrouted, l.counts = nil, nil, 0, zero
}

// Marshal encodes v as JSON, without escaping HTML characters and without
// a trailing newline. It panics when v cannot be encoded: a fake's
// answers always can.
func Marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("fakekit: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Write answers status with body, setting Content-Type and
// Content-Length; the body is not sent to a HEAD request.
func Write(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// ETagMatches reports whether an If-None-Match header value matches etag,
// with weak comparison ("*" matches any).
func ETagMatches(inm, etag string) bool {
	if inm == "" {
		return false
	}
	norm := func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "W/") }
	for _, c := range strings.Split(inm, ",") {
		if c = strings.TrimSpace(c); c == "*" || norm(c) == norm(etag) {
			return true
		}
	}
	return false
}

// File is a file read from an fs.FS by ReadFS.
type File struct {
	Path       string
	Content    []byte
	Executable bool // any execute bit is set
}

// ReadFS returns the files of fsys in fs.WalkDir's order: every entry but
// directories (a symbolic link is read through), or, with regularOnly,
// only regular files.
func ReadFS(fsys fs.FS, regularOnly bool) ([]File, error) {
	var out []File
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || regularOnly && !d.Type().IsRegular() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, File{Path: p, Content: b, Executable: info.Mode()&0o111 != 0})
		return nil
	})
	return out, err
}

// IsDir reports whether dir is a directory of a flat file set keyed by
// path: "" (the root) always is, another path when a file lies below it.
func IsDir[V any](files map[string]V, dir string) bool {
	if dir == "" {
		return true
	}
	for p := range files {
		if strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// EchoCredentials returns what a careless server or proxy writes into an
// error answer about a request's credentials: its Authorization header as
// sent, the decoded "user:password" of a Basic one, and any Private-Token
// or Job-Token header. The fakes put it in their error bodies (and a
// gateway page) for the fault that echoes credentials.
func EchoCredentials(r *http.Request) string {
	var parts []string
	if v := r.Header.Get("Authorization"); v != "" {
		parts = append(parts, "Authorization: "+v)
		if scheme, cred, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "basic") {
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				parts = append(parts, "decoded credentials "+string(dec))
			}
		}
	}
	for _, name := range []string{"Private-Token", "Job-Token"} {
		if v := r.Header.Get(name); v != "" {
			parts = append(parts, name+": "+v)
		}
	}
	if len(parts) == 0 {
		return "no credentials received"
	}
	return "request headers: " + strings.Join(parts, "; ")
}

// EchoPage answers status with an HTML page quoting echo, as a proxy's
// error page does for a 5xx, and reports true; for a status below 500 it
// writes nothing and reports false.
func EchoPage(w http.ResponseWriter, status int, echo string) bool {
	if status < 500 {
		return false
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html><body><h1>%d %s</h1><pre>%s</pre></body></html>\n", status, http.StatusText(status), html.EscapeString(echo))
	return true
}
