package gitlaborg

import (
	"testing"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org/internal/orgx"
	"github.com/scmkit/scmkit/org/internal/readertest"
)

// TestHTTPErrorClassifiesAsHTTPX: gitlaborg words GitLab's error answers
// but codes them as httpx.Classify does, on the injected clock.
func TestHTTPErrorClassifiesAsHTTPX(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Reader{in: &integrations.Integration{Host: "gitlab.com"}, http: orgx.HTTP{}.Defaults(4)}
	r.http.Now = func() time.Time { return now }
	rd := &read{r: r, errs: orgx.Errs{Op: op, Provider: "gitlab", Host: "gitlab.com"}}
	readertest.CheckClassify(t, now, rd.httpError)
}
