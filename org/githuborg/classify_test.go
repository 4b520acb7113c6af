package githuborg

import (
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org/internal/orgx"
	"github.com/scmkit/scmkit/org/internal/readertest"
)

// TestHTTPErrorClassifiesAsHTTPX: githuborg words GitHub's error answers
// but codes them as httpx.Classify does, on the injected clock.
func TestHTTPErrorClassifiesAsHTTPX(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Reader{in: &integrations.Integration{Host: "github.com"}, http: orgx.HTTP{}.Defaults(4)}
	r.http.Now = func() time.Time { return now }
	errs := orgx.Errs{Op: "githuborg.Read", Provider: "github", Host: "github.com"}
	readertest.CheckClassify(t, now, func(resp *http.Response) error { return r.httpError(errs, resp) })
}
