package integrations

import (
	"strings"
	"testing"
)

func TestFileURL(t *testing.T) {
	reg, err := NewRegistry(Config{
		GitLab:          []GitLabConfig{{Host: "gitlab.com"}},
		BitbucketServer: []BitbucketServerConfig{{Host: "bitbucket.example.com", APIBaseURL: "https://bitbucket.example.com/rest/api/1.0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ location, name, want string }{
		{"https://github.com/acme/svc", "catalog-info.yaml", "https://github.com/acme/svc/blob/HEAD/catalog-info.yaml"},
		{"https://github.com/acme/svc/", "catalog-info.yaml", "https://github.com/acme/svc/blob/HEAD/catalog-info.yaml"},
		{"https://github.com/acme/svc.git", "catalog-info.yaml", "https://github.com/acme/svc/blob/HEAD/catalog-info.yaml"},
		{"https://github.com/acme/svc/tree/main", "catalog-info.yaml", "https://github.com/acme/svc/blob/main/catalog-info.yaml"},
		{"https://github.com/acme/svc/tree/main/services/a", "catalog-info.yaml", "https://github.com/acme/svc/blob/main/services/a/catalog-info.yaml"},
		{"https://github.com/acme/svc/blob/v1.2/services/a/catalog-info.yaml", "docs/index.md", "https://github.com/acme/svc/blob/v1.2/services/a/docs/index.md"},
		{"https://github.com/acme/svc/blob/main/services/a/catalog-info.yaml", "../b/catalog-info.yaml", "https://github.com/acme/svc/blob/main/services/b/catalog-info.yaml"},
		{"https://github.com/acme/svc/blob/main/services/a/catalog-info.yaml", "/catalog-info.yaml", "https://github.com/acme/svc/blob/main/catalog-info.yaml"},
		{"https://github.com/acme/svc/tree/feature/x", "catalog-info.yaml", "https://github.com/acme/svc/blob/feature/x/catalog-info.yaml"},
		{"https://gitlab.com/acme/platform/api", "catalog-info.yaml", "https://gitlab.com/acme/platform/api/-/blob/HEAD/catalog-info.yaml"},
		{"https://gitlab.com/acme/platform/api/-/tree/main/sub", "catalog-info.yaml", "https://gitlab.com/acme/platform/api/-/blob/main/sub/catalog-info.yaml"},
		{"https://bitbucket.org/acme-ws/web", "catalog-info.yaml", "https://bitbucket.org/acme-ws/web/src/HEAD/catalog-info.yaml"},
		{"https://bitbucket.example.com/projects/PRJ/repos/web/browse", "catalog-info.yaml", "https://bitbucket.example.com/projects/PRJ/repos/web/browse/catalog-info.yaml"},
		{"https://bitbucket.example.com/projects/PRJ/repos/web/browse/sub/?at=refs%2Fheads%2Fdev", "catalog-info.yaml", "https://bitbucket.example.com/projects/PRJ/repos/web/browse/sub/catalog-info.yaml?at=refs%2Fheads%2Fdev"},
		// A Bitbucket path without a trailing "/" does not say it is a
		// directory: it is taken for a file.
		{"https://bitbucket.example.com/projects/PRJ/repos/web/browse/sub/x.yaml?at=dev", "y.yaml", "https://bitbucket.example.com/projects/PRJ/repos/web/browse/sub/y.yaml?at=dev"},
	} {
		got, err := reg.FileURL(tc.location, tc.name)
		if err != nil {
			t.Errorf("FileURL(%q, %q): %v", tc.location, tc.name, err)
			continue
		}
		if got != tc.want {
			t.Errorf("FileURL(%q, %q) = %q; want %q", tc.location, tc.name, got, tc.want)
		}
		if loc, err := reg.Parse(got); err != nil || loc.Tree {
			t.Errorf("Parse(FileURL(%q, %q)) = %+v, %v; want a file location", tc.location, tc.name, loc, err)
		}
	}
	for _, tc := range []struct{ location, name, want string }{
		{"https://github.com/acme", "catalog-info.yaml", "names no repository"},
		{"https://github.com/acme/svc", "", "slash-separated path to a file"},
		{"https://github.com/acme/svc", "docs/", "slash-separated path to a file"},
		{"https://github.com/acme/svc", "x?ref=dev", "without query"},
		{"https://github.com/acme/svc/tree/main/a", "../../../etc/passwd", "leaves the repository"},
		{"https://github.com/acme/svc", "..", "leaves the repository"},
		{"https://github.com/acme/svc", ".", "leaves the repository"},
		{"https://unknown.example.com/acme/svc", "catalog-info.yaml", "no integration"},
	} {
		if got, err := reg.FileURL(tc.location, tc.name); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FileURL(%q, %q) = %q, %v; want an error saying %q", tc.location, tc.name, got, err, tc.want)
		}
	}
}

// FuzzFileURL: a file URL stays in the location's repository, on its host,
// and parses back to a file of that repository.
func FuzzFileURL(f *testing.F) {
	for _, s := range [][2]string{
		{"https://github.com/acme/svc", "catalog-info.yaml"},
		{"https://github.com/acme/svc/tree/main/a/b", "../../x"},
		{"https://gitlab.com/g/s/p/-/blob/main/a.yaml", "/b/../c.yaml"},
		{"https://bitbucket.org/ws/r/src/dev/d/", "%2e%2e/x"},
		{"https://github.com/acme/svc/blob/main/a", "..%2f..%2fother/repo"},
	} {
		f.Add(s[0], s[1])
	}
	var reg Registry
	f.Fuzz(func(t *testing.T, location, name string) {
		got, err := reg.FileURL(location, name)
		if err != nil {
			return
		}
		base, err := reg.Parse(location)
		if err != nil {
			t.Fatalf("FileURL(%q, %q) = %q from a location Parse refuses: %v", location, name, got, err)
		}
		loc, err := reg.Parse(got)
		if err != nil {
			t.Fatalf("FileURL(%q, %q) = %q, which Parse refuses: %v", location, name, got, err)
		}
		if loc.Host != base.Host || loc.Owner != base.Owner || loc.Repo != base.Repo || loc.Path == "" {
			t.Fatalf("FileURL(%q, %q) = %q: %+v is not a file of %+v's repository", location, name, got, loc, base)
		}
	})
}

// An entry whose API host is another entry's host never gets its
// credentials sent there (a credential goes only to its own entry's
// hosts); the calls then failed as if the credential were refused, with no
// word at load. NewRegistry now warns.
func TestSharedAPIHostWarns(t *testing.T) {
	reg, err := NewRegistry(Config{GitHub: []GitHubConfig{
		{Host: "github.com", APIBaseURL: "http://127.0.0.1:8080", Token: NewSecret("ghp_service")},
		{Host: "127.0.0.1:8080", APIBaseURL: "http://127.0.0.1:8080", Token: NewSecret("ghp_service")},
		{Host: "ghe2.example.com", APIBaseURL: "https://ghe2.example.com/api/v3"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// A GitHub Enterprise entry copied from github.com's, beside the
	// implied github.com entry.
	copied, err := NewRegistry(Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https://api.github.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(append(reg.Warnings(), copied.Warnings()...), "\n")
	for _, want := range []string{
		"integrations.github[0].apiBaseUrl: host 127.0.0.1:8080 is also integrations.github[1]'s, and credentials go there only for integrations.github[1]",
		"integrations.github[0]: its API or raw host api.github.com is github.com's",
	} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings %q do not say %q", w, want)
		}
	}
	if strings.Contains(w, "github[2]") || strings.Contains(w, "ghp_") {
		t.Errorf("warnings %q: want none about an entry on its own API host, and no secret", w)
	}
}
