package config

import (
	"strings"
	"testing"
)

// A configuration written back from a printed or marshalled one carries
// "[redacted]" where its secrets were: it fails to load, naming the path,
// instead of sending "[redacted]" to the provider as a token.
func TestLoadRefusesRedactedSecret(t *testing.T) {
	_, err := load(t, map[string]string{"a.yaml": `
integrations:
  github:
    - host: github.com
      token: "[redacted]"
`}, nil)
	got := problems(t, err)
	if len(got) != 1 || !strings.HasPrefix(got[0], "integrations.github[0].token: ") || !strings.Contains(got[0], "configure the real value") {
		t.Errorf("problems = %q; want one at integrations.github[0].token saying to configure the real value", got)
	}
}
