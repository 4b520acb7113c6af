package msgraph

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org/internal/readertest"
)

// TestHTTPErrorClassifiesAsHTTPX: msgraph words Graph's error answers but
// codes them as httpx.Classify does, on the injected clock, except a 410,
// which is Graph's expired delta token (see TestGoneIsExpiredDelta).
func TestHTTPErrorClassifiesAsHTTPX(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r, err := New(Config{TenantID: "contoso.example", ClientID: "c", ClientSecret: integrations.NewSecret("s")},
		&Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	readertest.CheckClassify(t, now, r.httpError, http.StatusGone)
}

// TestGoneIsExpiredDelta: a 410 is the expired delta token that makes the
// reader read the tenant again, not a NotFound.
func TestGoneIsExpiredDelta(t *testing.T) {
	r, err := New(Config{TenantID: "contoso.example", ClientID: "c", ClientSecret: integrations.NewSecret("s")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, resp := range readertest.ClassifyCases() {
		if resp.StatusCode != http.StatusGone {
			continue
		}
		var gone errGone
		if err := r.httpError(resp); !errors.As(err, &gone) || errcode.CodeOf(err) != errcode.Unavailable {
			t.Errorf("410: got %v, want the expired delta token", err)
		}
	}
}
