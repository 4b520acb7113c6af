package httpx

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// BodyCaps says how much of an answer's body [CapBodies] lets through.
type BodyCaps struct {
	// JSON caps the body of an answer below 400 whose Content-Type names
	// JSON.
	JSON int64
	// Error caps the body of an answer with a status of 400 or more.
	Error int64
	// Other, when above 0, caps the body of every other answer below 400
	// (a form-encoded OAuth token answer, say). 0 leaves them uncapped,
	// for the file contents and archives whose readers apply their own
	// limits.
	Other int64
	// Setting names the option that raises JSON, e.g.
	// "githubscm.Options.MaxResponseBytes"; the error message names it.
	Setting string
}

// CapBodies returns a RoundTripper that sends requests through base (nil
// means http.DefaultTransport) and caps the bodies of its answers as caps
// says. Reading past a cap fails with an InvalidArgument *errcode.Error
// that names the host, the method and path (never the query) and the
// limit; a body that ends exactly at the cap reads normally.
func CapBodies(base http.RoundTripper, caps BodyCaps) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &capTransport{base: base, caps: caps}
}

// CapClient returns a copy of hc (nil means a zero http.Client) whose
// transport is CapBodies(hc.Transport, caps). hc itself is not changed.
func CapClient(hc *http.Client, caps BodyCaps) *http.Client {
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	c.Transport = CapBodies(c.Transport, caps)
	return c
}

type capTransport struct {
	base http.RoundTripper
	caps BodyCaps
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	limit, setting := int64(-1), ""
	switch {
	case resp.StatusCode >= 400:
		limit = t.caps.Error
	case strings.Contains(resp.Header.Get("Content-Type"), "json"):
		limit, setting = t.caps.JSON, t.caps.Setting
	case t.caps.Other > 0:
		limit = t.caps.Other
	}
	if limit >= 0 {
		resp.Body = &cappedBody{rc: resp.Body, left: limit, limit: limit, req: req, setting: setting}
	}
	return resp, nil
}

// cappedBody fails a read past limit with InvalidArgument.
type cappedBody struct {
	rc      io.ReadCloser
	left    int64
	limit   int64
	req     *http.Request
	setting string
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Tell a body that ends exactly at the limit from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, b.tooLarge()
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

func (b *cappedBody) tooLarge() error {
	msg := fmt.Sprintf("%s: answer larger than the %d-byte limit", describe(b.req), b.limit)
	if b.setting != "" {
		msg += " (" + b.setting + ")"
	}
	return &errcode.Error{Code: errcode.InvalidArgument, Host: b.req.URL.Host, Msg: msg}
}
