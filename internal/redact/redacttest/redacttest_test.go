package redacttest_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/internal/redact/redacttest"
)

// leaky shows its token under every verb, as a type without redaction
// does.
type leaky struct{ Token string }

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Errorf(format string, _ ...any) { r.errors = append(r.errors, format) }

func TestHidden(t *testing.T) {
	rec := &recorder{TB: t}
	redacttest.Hidden(rec, "leaky", leaky{Token: "ghp_leak"}, "ghp_leak")
	if len(rec.errors) < len(redacttest.Verbs) {
		t.Errorf("Hidden found %d leaks of a value that shows its token everywhere; want at least %d", len(rec.errors), len(redacttest.Verbs))
	}
	rec = &recorder{TB: t}
	redacttest.Hidden(rec, "leaky", leaky{Token: "ghp_leak"}, "other", "")
	if len(rec.errors) != 0 {
		t.Errorf("Hidden reported %d leaks of a secret the value does not hold", len(rec.errors))
	}
}

func TestShown(t *testing.T) {
	outs := redacttest.Shown(leaky{Token: "t"})
	var json, slogged bool
	for _, o := range outs {
		json = json || o == `{"Token":"t"}`
		slogged = slogged || strings.Contains(o, `"msg":"value"`) && strings.Contains(o, "msg=value")
	}
	if len(outs) != len(redacttest.Verbs)+2 || !json || !slogged {
		t.Errorf("Shown = %q; want each verb, the JSON and both slog handlers", outs)
	}
}
