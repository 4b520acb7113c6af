package integrations

import (
	"strings"
	"testing"
)

// TestParseRefusesEveryControlCharacter: a control character in a
// repository URL's path or ref is refused however it is written: DEL as
// well as the C0 range, encoded once or twice (a server or proxy that
// decodes again would otherwise see it).
func TestParseRefusesEveryControlCharacter(t *testing.T) {
	r := testRegistry(t)
	for _, u := range []string{
		"https://github.com/acme/api/blob/main/a%7Fb",
		"https://github.com/acme/api/blob/main/a%250Ab",
		"https://github.com/acme/api/blob/main/a%25250Db",
		"https://github.com/acme/api/blob/main/a%257Fb",
		"https://bitbucket.example.com:7990/projects/K/repos/r/browse/a.md?at=a%257Fb",
	} {
		loc, err := r.Parse(u)
		if err == nil || !strings.Contains(err.Error(), "control") {
			t.Errorf("Parse(%q) = %+v, %v; want a control-character error", u, loc, err)
		}
	}
}
