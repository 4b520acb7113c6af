package httpx

import (
	"testing"

	"github.com/scmkit/scmkit/internal/redact/redacttest"
)

// TestSecretsNeverShowTheirValues: the set of credential values one
// operation sent prints (any verb, slog, JSON) as how many it holds.
func TestSecretsNeverShowTheirValues(t *testing.T) {
	const sec = "ghp_SuperSecretValue123"
	var s Secrets
	s.Add(sec, "basic-password")
	s.Scrub("warm the replacer up: " + sec)
	redacttest.Hidden(t, "*Secrets", &s, sec, "basic-password")
	redacttest.Hidden(t, "struct holding *Secrets", struct{ S *Secrets }{&s}, sec, "basic-password")
}
