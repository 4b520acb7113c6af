package scm_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// A catalog processor resolves a $text or Location target relative to the
// catalog file with ResolveURL, which makes GitHub's results tree URLs as
// Backstage does; ReadFile refused every one of them before it sent a
// request ("names a directory"), so no relative reference on GitHub could
// be read. Now the file is read, a directory is still InvalidArgument,
// and the repository root says it names a repository.
func TestReadFileOfResolvedRelativeReference(t *testing.T) {
	gh := fakegithub.New(&fakegithub.Options{Tokens: []string{"service-token"}})
	defer gh.Close()
	if _, err := gh.AddFS(fakegithub.Repo{Owner: "acme", Name: "svc"}, fstest.MapFS{
		"catalog-info.yaml": {Data: []byte("kind: Component\n")},
		"docs/README.md":    {Data: []byte("# svc\n")},
		"api/openapi.yaml":  {Data: []byte("openapi: 3.1.0\n")},
	}); err != nil {
		t.Fatal(err)
	}
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: "github.com", APIBaseURL: gh.APIBaseURL(), RawBaseURL: gh.RawBaseURL(), Token: integrations.NewSecret("service-token"),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	resolver, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := scm.NewClient(reg, resolver, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)}})
	if err != nil {
		t.Fatal(err)
	}
	const base = "https://github.com/acme/svc/blob/main/catalog-info.yaml"
	for ref, want := range map[string]string{"./docs/README.md": "# svc\n", "/api/openapi.yaml": "openapi: 3.1.0\n"} {
		u, err := reg.ResolveURL(base, ref, 0)
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.ReadFile(t.Context(), u, nil)
		if err != nil {
			t.Errorf("ReadFile(ResolveURL(%q)) = ReadFile(%s): %v", ref, u, err)
			continue
		}
		if string(f.Content) != want {
			t.Errorf("ReadFile(%s) = %q; want %q", u, f.Content, want)
		}
	}
	dir, err := reg.ResolveURL(base, "./docs", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadFile(t.Context(), dir, nil); scm.Code(err) != scm.InvalidArgument {
		t.Errorf("ReadFile(%s), a directory: %v; want InvalidArgument", dir, err)
	}
	if _, err := c.ReadFile(t.Context(), "https://github.com/acme/svc", nil); scm.Code(err) != scm.InvalidArgument {
		t.Errorf("ReadFile of a repository root: %v; want InvalidArgument", err)
	} else if want := "names a repository, not a file"; !strings.Contains(err.Error(), want) {
		t.Errorf("ReadFile of a repository root: %v; want it to say %q", err, want)
	}
}
