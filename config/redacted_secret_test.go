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

// A secret taken out of a secrets file with {$include: file#key}, Backstage's
// way of taking one value from such a file, is never quoted in a problem, as
// with $file and ${VAR}: here a token pasted into host by a swapped line.
// Found by an adversarial review: the $include'd string was quoted whole.
func TestIncludedStringNeverQuoted(t *testing.T) {
	const secret = "ghp_IncludedSecret0123456789abcdefABCDEF"
	for _, tc := range []struct{ how, from string }{
		{"{$include: secrets.yaml#github.token}", `(the value of file "secrets.yaml" at "github.token")`},
		{"{$include: token.yaml}", `(the value of file "token.yaml")`},
		{"{$file: secret.txt}", `(the value of file "secret.txt")`},
	} {
		_, err := load(t, map[string]string{
			"a.yaml":       "integrations:\n  github:\n    - host: " + tc.how + "\n      token: x\n",
			"secrets.yaml": "github:\n  token: " + secret + "\n",
			"token.yaml":   secret + "\n",
			"secret.txt":   secret + "\n",
		}, nil)
		got := problems(t, err)
		if len(got) != 1 || !strings.HasPrefix(got[0], "integrations.github[0].host: ") {
			t.Fatalf("%s: problems = %q; want one at integrations.github[0].host", tc.how, got)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "IncludedSecret") {
			t.Errorf("%s: the error quotes the secret: %v", tc.how, err)
		}
		if !strings.Contains(got[0], tc.from) {
			t.Errorf("%s: %q does not say where the value came from, %s", tc.how, got[0], tc.from)
		}
	}
}
