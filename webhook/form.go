package webhook

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"

	"github.com/scmkit/scmkit/errcode"
)

// gitHubJSON returns the JSON payload of a GitHub delivery whose
// signature was already verified over body, the bytes as sent. A hook
// whose content type is "form" (the default of hooks created through
// GitHub's REST API, on github.com and GitHub Enterprise Server alike)
// sends Content-Type application/x-www-form-urlencoded and the JSON as
// its one form field, payload; one whose content type is "json" sends the
// JSON itself. A form body without a Content-Type header (an embedder's
// own HTTP stack that drops it) is known by its "payload=" start, which
// no JSON has. A form with any other field, or with payload twice, is
// refused: GitHub sends payload alone. The payload is never longer than
// body, which Parse has already bounded by Options.MaxBodyBytes.
func (r *Receiver) gitHubJSON(h http.Header, body []byte) ([]byte, error) {
	form := false
	if ct := h.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		form = err == nil && mt == "application/x-www-form-urlencoded"
	} else {
		form = bytes.HasPrefix(body, []byte("payload="))
	}
	if !form {
		return body, nil
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, r.fail(errcode.InvalidArgument, "form-encoded payload is not valid URL encoding")
	}
	p, ok := vals["payload"]
	if !ok || len(vals) != 1 || len(p) != 1 {
		return nil, r.fail(errcode.InvalidArgument, "form-encoded body must hold one field, payload (GitHub's content type form), and nothing else")
	}
	return []byte(p[0]), nil
}
