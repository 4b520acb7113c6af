package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/internal/redact/redacttest"
)

// TestOptionsNeverShowTheEnvironment: Options.Environ is usually
// os.Environ(), every secret of the process; printing or logging Options
// (a pointer or a value, any verb, JSON, slog) shows how many variables it
// holds, never a value.
func TestOptionsNeverShowTheEnvironment(t *testing.T) {
	const sec = "ghp_SuperSecretValue123"
	for _, o := range []Options{
		{Environ: []string{"GITHUB_TOKEN=" + sec, "APP_CONFIG_integrations_github=[{\"token\":\"" + sec + "\"}]"}},
		{Environ: []string{"GITHUB_TOKEN=" + sec}, Lookup: lookupMap(nil), ReadFile: mapFS(nil)},
	} {
		redacttest.Hidden(t, "Options", o, sec)
		redacttest.Hidden(t, "*Options", &o, sec)
		if s := fmt.Sprint(o); !strings.Contains(s, "Environ") {
			t.Errorf("String() = %q; want it to describe Environ", s)
		}
	}
}
