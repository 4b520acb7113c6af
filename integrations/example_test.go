package integrations_test

import (
	"fmt"
	"log"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

func ExampleNewRegistry() {
	reg, err := integrations.NewRegistry(integrations.Config{
		GitHub: []integrations.GitHubConfig{{
			Host:       "ghe.example.com",
			APIBaseURL: "https://ghe.example.com/api/v3",
			Token:      integrations.NewSecret("ghp-example"),
		}},
		GitLab: []integrations.GitLabConfig{{
			Host:       "git.example.com",
			APIBaseURL: "https://git.example.com/gitlab/api/v4",
			BaseURL:    "https://git.example.com/gitlab",
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range []string{
		"https://ghe.example.com/acme/api/blob/main/catalog-info.yaml",
		"https://git.example.com/gitlab/acme/platform/api/-/tree/v2/templates",
		"https://github.com/acme",
	} {
		loc, err := reg.Parse(u)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s %s owner=%q repo=%q ref=%q path=%q tree=%v\n", loc.Kind, loc.Host, loc.Owner, loc.Repo, loc.Ref, loc.Path, loc.Tree)
	}
	_, err = reg.Parse("https://unknown.example.com/acme/api")
	fmt.Println(err)
	// Output:
	// github ghe.example.com owner="acme" repo="api" ref="main" path="catalog-info.yaml" tree=false
	// gitlab git.example.com owner="acme/platform" repo="api" ref="v2" path="templates" tree=true
	// github github.com owner="acme" repo="" ref="" path="" tree=false
	// integrations.Parse unknown.example.com: no integration is configured for host "unknown.example.com"; add an entry with host: "unknown.example.com" under integrations.github, integrations.gitlab, integrations.bitbucketCloud or integrations.bitbucketServer (InvalidArgument)
}

func ExampleNewRegistry_errors() {
	_, err := integrations.NewRegistry(integrations.Config{
		GitHub: []integrations.GitHubConfig{{Host: "GHE.example.com"}},
		GitLab: []integrations.GitLabConfig{{Host: "git.example.com"}},
		BitbucketCloud: []integrations.BitbucketCloudConfig{{
			ClientID: "consumer-key",
		}},
	})
	for _, fe := range integrations.FieldErrors(err) {
		fmt.Println(fe)
	}
	// Output:
	// integrations.github[0].host: "GHE.example.com" is not a valid host: it must be lower-case
	// integrations.gitlab[0].apiBaseUrl: apiBaseUrl is required for "git.example.com" (only gitlab.com has a default); usually https://git.example.com/api/v4
	// integrations.bitbucketCloud[0].clientSecret: incomplete OAuth configuration: clientId is set but clientSecret is not; both are required
}

func ExampleRegistry_URL() {
	var reg integrations.Registry // the zero Registry knows github.com, gitlab.com and bitbucket.org
	u, err := reg.URL(integrations.Location{
		Kind: integrations.GitHub, Host: "github.com",
		Owner: "acme", Repo: "api", Ref: "feature/login", Path: "docs/index.md",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u)
	loc, err := reg.Parse(u)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ref=%q path=%q\n", loc.Ref, loc.Path)
	// Output:
	// https://github.com/acme/api/blob/feature/login/docs/index.md?at=feature%2Flogin
	// ref="feature/login" path="docs/index.md"
}

func ExampleRegistry_ResolveURL() {
	var reg integrations.Registry
	base := "https://github.com/acme/api/blob/main/docs/index.md"
	for _, rel := range []string{"./guide.md", "../README.md", "/catalog-info.yaml", "https://example.com/x"} {
		u, err := reg.ResolveURL(base, rel, 0)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u)
	}
	u, err := reg.ResolveURL("https://bitbucket.org/ws/repo/src/main/docs/index.md", "guide.md", 12)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u)
	// Output:
	// https://github.com/acme/api/tree/main/docs/guide.md
	// https://github.com/acme/api/tree/main/README.md
	// https://github.com/acme/api/tree/main/catalog-info.yaml
	// https://example.com/x
	// https://bitbucket.org/ws/repo/src/main/docs/guide.md#lines-12
}

// A pasted repository, directory or file URL gives the URL of a file in
// it, as Backstage's "Register existing component" does; scm.Client reads
// HEAD as the default branch. Relative references of a file (a $text, a
// Location target) are resolved with ResolveURL instead.
func ExampleRegistry_FileURL() {
	var reg integrations.Registry
	for _, pasted := range []string{
		"https://github.com/acme/api",
		"https://github.com/acme/api/tree/main/services/orders",
		"https://gitlab.com/acme/platform/api/-/blob/v2/catalog-info.yaml",
	} {
		u, err := reg.FileURL(pasted, "catalog-info.yaml")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u)
	}
	// Output:
	// https://github.com/acme/api/blob/HEAD/catalog-info.yaml
	// https://github.com/acme/api/blob/main/services/orders/catalog-info.yaml
	// https://gitlab.com/acme/platform/api/-/blob/v2/catalog-info.yaml
}

func ExampleRegistry_EditURL() {
	var reg integrations.Registry
	for _, u := range []string{
		"https://github.com/acme/api/blob/main/catalog-info.yaml",
		"https://gitlab.com/acme/api/-/blob/main/catalog-info.yaml",
		"https://bitbucket.org/ws/repo/src/main/catalog-info.yaml",
		"https://example.com/not/an/integration",
	} {
		e, err := reg.EditURL(u)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e)
	}
	// Output:
	// https://github.com/acme/api/edit/main/catalog-info.yaml
	// https://gitlab.com/acme/api/-/edit/main/catalog-info.yaml
	// https://bitbucket.org/ws/repo/src/main/catalog-info.yaml?mode=edit&at=main
	// https://example.com/not/an/integration
}

func ExampleIntegration_FileAPIURL() {
	var reg integrations.Registry
	rt, err := reg.Lookup("https://gitlab.com/acme/platform/api/-/blob/main/docs/catalog-info.yaml")
	if err != nil {
		log.Fatal(err)
	}
	u, err := rt.Integration.FileAPIURL(rt.Location)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u)
	// Output:
	// https://gitlab.com/api/v4/projects/acme%2Fplatform%2Fapi/repository/files/docs%2Fcatalog-info.yaml/raw?ref=main
}

func ExampleRegistry_AllowsAnonymous() {
	reg, err := integrations.NewRegistry(integrations.Config{
		ReadingAllow: []integrations.ReadingAllow{{Host: "*.example.com", Paths: []string{"/public"}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reg.AllowsAnonymous("https://docs.example.com/public/a.yaml"))
	fmt.Println(reg.AllowsAnonymous("https://example.com/public/a.yaml"))
	fmt.Println(reg.AllowsAnonymous("https://docs.example.com/public/%2e%2e/private"))
	// Output:
	// true
	// false
	// false
}

// Lookup parses a URL once and says where it leads: the integration, the
// Location, and, for a host without integration, whether
// backend.reading.allow lets it be read anonymously.
func ExampleRegistry_Lookup() {
	r, err := integrations.NewRegistry(integrations.Config{
		ReadingAllow: []integrations.ReadingAllow{{Host: "docs.example.com"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range []string{
		"https://github.com/acme/svc/blob/main/catalog-info.yaml",
		"https://docs.example.com/catalog-info.yaml",
		"https://elsewhere.example.com/catalog-info.yaml",
	} {
		rt, err := r.Lookup(u)
		switch {
		case err == nil:
			fmt.Printf("%s: %s/%s at %s, %s\n", rt.Integration.ConfigPath, rt.Location.Owner, rt.Location.Repo, rt.Location.Ref, rt.Location.Path)
		case rt.Integration == nil && rt.Anonymous:
			fmt.Println(rt.URL.Host + ": no integration, readable anonymously")
		default:
			fmt.Println(rt.URL.Host+":", errcode.CodeOf(err))
		}
	}
	// Output:
	// integrations.github (default github.com): acme/svc at main, catalog-info.yaml
	// docs.example.com: no integration, readable anonymously
	// elsewhere.example.com: InvalidArgument
}
