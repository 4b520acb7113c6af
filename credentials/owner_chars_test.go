package credentials

import (
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// TestResolveRefusesAnOwnerWithDELOrBackslash: DEL, like the other
// control characters, and a backslash (a path separator to some servers)
// never reach the matching of scoped credentials.
func TestResolveRefusesAnOwnerWithDELOrBackslash(t *testing.T) {
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4", Token: secret("glpat-host"),
		Credentials: []integrations.ScopedCredential{{Owners: []string{"acme"}, Token: secret("glpat-acme")}},
	}}}
	r := tableResolver(t, cfg, nil)
	for _, owner := range []string{"acme\x7f", "acme/\x7f", `acme\..\evil`, "\x00acme"} {
		c, err := r.Resolve(t.Context(), Request{Host: "gitlab.example.com", Owner: owner})
		if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("Resolve(owner %q) = %v, %v; want InvalidArgument", owner, c, err)
		}
	}
}
