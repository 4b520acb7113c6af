package redact

import (
	"strings"
	"testing"
)

// Regression (review of the fuzzing fixes): a URL written without its scheme keeps the
// token before its '@' ("ghp_...@github.com/acme/repo", as in a git
// remote or a pasted clone URL): it has no host to url.Parse, so the
// earlier rule (no scheme, path not "//") prints it whole.
func TestSchemelessUserInfo(t *testing.T) {
	for _, in := range []string{
		"ghp_SECRET123@github.com/acme/repo",
		"glpat-SECRET123@gitlab.com/group/project",
		"x-token-auth%3ASECRET123@bitbucket.org/ws/repo",
	} {
		if got := URL(in); strings.Contains(got, "SECRET123") {
			t.Errorf("URL(%q) = %q: the token shows", in, got)
		}
	}
}
