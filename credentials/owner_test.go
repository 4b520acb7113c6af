package credentials

import (
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// TestResolveRefusesAnOwnerWithDotSegments: a GitLab owner that walks out
// of a group ("acme/../evil") must not match the credential scoped to
// the group it names first, nor fall back to the host's token: it is
// refused with InvalidArgument, before anything is tried.
func TestResolveRefusesAnOwnerWithDotSegments(t *testing.T) {
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4", Token: secret("glpat-host"),
		Credentials: []integrations.ScopedCredential{{Owners: []string{"acme"}, Token: secret("glpat-acme")}},
	}}}
	r := tableResolver(t, cfg, nil)
	for _, owner := range []string{"acme/../evil", "acme/./x", "acme//x", "acme/..", "acme/x\n"} {
		c, err := r.Resolve(t.Context(), Request{Host: "gitlab.example.com", Owner: owner})
		if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("Resolve(owner %q) = %v, %v; want InvalidArgument", owner, c, err)
		}
	}
	for owner, want := range map[string]string{"acme": "glpat-acme", "acme/platform": "glpat-acme", "/acme/": "glpat-acme", "other": "glpat-host", "a.b/c..d": "glpat-host"} {
		c, err := r.Resolve(t.Context(), Request{Host: "gitlab.example.com", Owner: owner})
		if err != nil || c.Token != want {
			t.Errorf("Resolve(owner %q) = %v, %v; want %s", owner, c, err, want)
		}
	}
}
