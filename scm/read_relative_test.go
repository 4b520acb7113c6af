package scm_test

import (
	"context"
	"slices"
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

// A URL at HEAD (what Registry.FileURL writes for a repository URL) is
// read at the default branch: the driver gets no ref, as for a URL
// without one, and uses its own default-branch logic (Bitbucket Cloud's
// API does not document HEAD as a ref).
func TestHeadIsTheDefaultBranch(t *testing.T) {
	var refs []string
	d := &fakeDriver{readFile: func(_ context.Context, r *driver.ReadFileRequest) (*driver.File, error) {
		refs = append(refs, r.Ref)
		return &driver.File{Content: []byte("x")}, nil
	}}
	c, err := scm.NewClient(nil, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.BitbucketCloud: d.opener()}})
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := integrations.NewRegistry(integrations.Config{})
	u, err := reg.FileURL("https://bitbucket.org/acme-ws/web", "catalog-info.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{u, "https://bitbucket.org/acme-ws/web/src/main/catalog-info.yaml"} {
		if _, err := c.ReadFile(t.Context(), u, nil); err != nil {
			t.Fatalf("ReadFile(%s): %v", u, err)
		}
	}
	if !slices.Equal(refs, []string{"", "main"}) {
		t.Errorf("the driver got refs %q; want the default branch (\"\") for HEAD, then main", refs)
	}
}

// A view requiring the user's token, whose user has credentials for
// other hosts only, said "none passed" as if she had none; now it names
// the hosts she has credentials for.
func TestUserCredentialsForOtherHostsOnly(t *testing.T) {
	reg, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDriver{readFile: func(context.Context, *driver.ReadFileRequest) (*driver.File, error) {
		return &driver.File{Content: []byte("x")}, nil
	}}
	c, err := scm.NewClient(reg, res, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: d.opener()}})
	if err != nil {
		t.Fatal(err)
	}
	user := c.ForUser(scm.UserCredentials{"ghe.example.com": credentials.Static(credentials.Credential{Token: "gho_user"})}, &scm.UserOptions{RequireUser: true})
	_, err = user.ReadFile(t.Context(), "https://github.com/acme/svc/blob/main/catalog-info.yaml", nil)
	if scm.Code(err) != scm.Unauthorized || !strings.Contains(err.Error(), "credentials for ghe.example.com only, none for github.com") {
		t.Errorf("got %v; want Unauthorized naming the hosts she has credentials for", err)
	}
	if strings.Contains(err.Error(), "gho_user") {
		t.Errorf("the error shows the token: %v", err)
	}
}
