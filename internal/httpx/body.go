package httpx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/scmkit/scmkit/errcode"
)

// DefaultMaxBody is the cap [ReadBody] applies when given max <= 0: 10 MiB.
const DefaultMaxBody = 10 << 20

// drainLimit is how much of a body DrainClose reads so that the connection
// can be reused; a longer body is closed without reading the rest.
const drainLimit = 64 << 10

// ReadBody reads resp.Body, at most max bytes (DefaultMaxBody when max <= 0),
// and closes it. A body longer than max is not read further: ReadBody
// returns an InvalidArgument *errcode.Error naming the limit. A failure
// while reading is Canceled or DeadlineExceeded when the request's context
// ended, and Unavailable otherwise.
func ReadBody(resp *http.Response, max int64) ([]byte, error) {
	if resp == nil || resp.Body == nil {
		return nil, nil
	}
	defer resp.Body.Close()
	if max <= 0 {
		max = DefaultMaxBody
	}
	tooLarge := func() error {
		return &errcode.Error{Code: errcode.InvalidArgument, Host: hostOf(resp), Status: resp.StatusCode,
			Msg: fmt.Sprintf("%s: response body is larger than the %d-byte limit", describe(resp.Request), max)}
	}
	if resp.ContentLength > max {
		return nil, tooLarge()
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength) + 1)
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, max+1))
	if err != nil {
		if resp.Request != nil {
			if ctxErr := resp.Request.Context().Err(); ctxErr != nil {
				return nil, contextError(resp.Request, ctxErr)
			}
		}
		var ce *errcode.Error
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, &errcode.Error{Code: errcode.Unavailable, Host: hostOf(resp), Status: resp.StatusCode,
			Msg: describe(resp.Request) + ": reading the response body", Err: err}
	}
	if n > max {
		return nil, tooLarge()
	}
	return buf.Bytes(), nil
}

// DrainClose reads and discards up to 64 KiB of resp.Body, so that the
// connection can be reused, then closes it. It accepts a nil response.
func DrainClose(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	_ = resp.Body.Close()
}

func hostOf(resp *http.Response) string {
	if resp.Request != nil && resp.Request.URL != nil {
		return resp.Request.URL.Host
	}
	return ""
}
