package integrations

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

func TestBuilders(t *testing.T) {
	r := testRegistry(t)
	in := func(host string) *Integration {
		t.Helper()
		i, ok := r.ByHost(host)
		if !ok {
			t.Fatalf("ByHost(%q) found nothing", host)
		}
		return i
	}
	ghLoc := Location{Kind: GitHub, Host: "github.com", Owner: "acme", Repo: "api", Ref: "feature/x", Path: "docs/my file#1.md"}
	glLoc := Location{Kind: GitLab, Host: "git.example.com", Owner: "acme/platform", Repo: "api", Ref: "feature/x", Path: "docs/a b.md"}
	bcLoc := Location{Kind: BitbucketCloud, Host: "bitbucket.org", Owner: "ws", Repo: "repo", Ref: "feature/x", Path: "docs/a b.md"}
	bsLoc := Location{Kind: BitbucketServer, Host: "bb.example.com", Owner: "PROJ", Repo: "api", Ref: "refs/heads/main", Path: "docs/a b.md"}
	noRef := func(l Location) Location { l.Ref = ""; return l }
	noPath := func(l Location) Location { l.Path = ""; return l }
	tests := []struct {
		name string
		fn   func(*Integration, Location) (string, error)
		in   *Integration
		loc  Location
		want string
	}{
		{"github file", (*Integration).FileAPIURL, in("github.com"), ghLoc, "https://api.github.com/repos/acme/api/contents/docs/my%20file%231.md?ref=feature%2Fx"},
		{"github file default branch", (*Integration).FileAPIURL, in("github.com"), noRef(ghLoc), "https://api.github.com/repos/acme/api/contents/docs/my%20file%231.md"},
		{"GHE file", (*Integration).FileAPIURL, in("ghe.example.com:8443"), Location{Owner: "o", Repo: "r", Ref: "main", Path: "a.md"}, "https://ghe.example.com:8443/api/v3/repos/o/r/contents/a.md?ref=main"},
		{"github raw", (*Integration).RawURL, in("github.com"), ghLoc, "https://raw.githubusercontent.com/acme/api/feature/x/docs/my%20file%231.md"},
		{"github raw HEAD", (*Integration).RawURL, in("github.com"), noRef(ghLoc), "https://raw.githubusercontent.com/acme/api/HEAD/docs/my%20file%231.md"},
		{"GHE raw none", (*Integration).RawURL, in("ghe.example.com:8443"), Location{Owner: "o", Repo: "r", Path: "a"}, ""},
		{"github archive", (*Integration).ArchiveURL, in("github.com"), ghLoc, "https://api.github.com/repos/acme/api/tarball/feature/x"},
		{"github archive default branch", (*Integration).ArchiveURL, in("github.com"), noRef(ghLoc), "https://api.github.com/repos/acme/api/tarball"},
		{"gitlab file", (*Integration).FileAPIURL, in("git.example.com"), glLoc, "https://git.example.com/gitlab/api/v4/projects/acme%2Fplatform%2Fapi/repository/files/docs%2Fa%20b.md/raw?ref=feature%2Fx"},
		{"gitlab file default branch", (*Integration).FileAPIURL, in("gitlab.com"), Location{Owner: "a", Repo: "b", Path: "c.md"}, "https://gitlab.com/api/v4/projects/a%2Fb/repository/files/c.md/raw"},
		{"gitlab raw none", (*Integration).RawURL, in("gitlab.com"), Location{Owner: "a", Repo: "b", Path: "c.md"}, ""},
		{"gitlab archive", (*Integration).ArchiveURL, in("git.example.com"), glLoc, "https://git.example.com/gitlab/api/v4/projects/acme%2Fplatform%2Fapi/repository/archive.tar.gz?sha=feature%2Fx&path=docs%2Fa+b.md"},
		{"gitlab archive whole repo", (*Integration).ArchiveURL, in("git.example.com"), noRef(noPath(glLoc)), "https://git.example.com/gitlab/api/v4/projects/acme%2Fplatform%2Fapi/repository/archive.tar.gz"},
		{"bitbucket cloud file", (*Integration).FileAPIURL, in("bitbucket.org"), bcLoc, "https://api.bitbucket.org/2.0/repositories/ws/repo/src/feature%2Fx/docs/a%20b.md"},
		{"bitbucket cloud archive", (*Integration).ArchiveURL, in("bitbucket.org"), bcLoc, "https://bitbucket.org/ws/repo/get/feature%2Fx.tar.gz"},
		{"bitbucket server file", (*Integration).FileAPIURL, in("bb.example.com"), bsLoc, "https://bb.example.com/bitbucket/rest/api/1.0/projects/PROJ/repos/api/raw/docs/a%20b.md?at=refs%2Fheads%2Fmain"},
		{"bitbucket server file default branch", (*Integration).FileAPIURL, in("bitbucket.example.com:7990"), Location{Owner: "~jdoe", Repo: "r", Path: "a"}, "https://bitbucket.example.com:7990/rest/api/1.0/projects/~jdoe/repos/r/raw/a"},
		{"bitbucket server archive", (*Integration).ArchiveURL, in("bb.example.com"), bsLoc, "https://bb.example.com/bitbucket/rest/api/1.0/projects/PROJ/repos/api/archive?format=tgz&at=refs%2Fheads%2Fmain&path=docs%2Fa+b.md"},
		{"bitbucket server archive whole repo", (*Integration).ArchiveURL, in("bb.example.com"), noRef(noPath(bsLoc)), "https://bb.example.com/bitbucket/rest/api/1.0/projects/PROJ/repos/api/archive?format=tgz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fn(tt.in, tt.loc)
			if err != nil {
				t.Fatalf("got error %v; want %q", err, tt.want)
			}
			if got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestBuilderErrors(t *testing.T) {
	r := testRegistry(t)
	gh, _ := r.ByHost("github.com")
	bc, _ := r.ByHost("bitbucket.org")
	ghRawOnly := &Integration{Kind: GitHub, Host: "ghe.example.com", RawBaseURL: "https://ghe.example.com/raw", ConfigPath: "integrations.github[0]"}
	ok := Location{Owner: "o", Repo: "r", Ref: "main", Path: "a.md"}
	with := func(f func(*Location)) Location { l := ok; f(&l); return l }
	tests := []struct {
		name    string
		fn      func(*Integration, Location) (string, error)
		in      *Integration
		loc     Location
		wantErr string
	}{
		{"no owner", (*Integration).FileAPIURL, gh, with(func(l *Location) { l.Owner = "" }), "no owner"},
		{"no repo", (*Integration).FileAPIURL, gh, with(func(l *Location) { l.Repo = "" }), "no repository"},
		{"no repo archive", (*Integration).ArchiveURL, gh, with(func(l *Location) { l.Repo = "" }), "no repository"},
		{"no repo raw", (*Integration).RawURL, gh, with(func(l *Location) { l.Repo = "" }), "no repository"},
		{"no file", (*Integration).FileAPIURL, gh, with(func(l *Location) { l.Path = "" }), "names no file"},
		{"raw no file", (*Integration).RawURL, gh, with(func(l *Location) { l.Path = "" }), "names no file"},
		{"other kind", (*Integration).FileAPIURL, gh, with(func(l *Location) { l.Kind = GitLab }), "of kind \"gitlab\""},
		{"traversal", (*Integration).FileAPIURL, gh, with(func(l *Location) { l.Path = "../../x" }), "traversal"},
		{"encoded traversal", (*Integration).FileAPIURL, gh, with(func(l *Location) { l.Path = "a/%2E%2e/x" }), "traversal"},
		{"double-encoded traversal", (*Integration).ArchiveURL, gh, with(func(l *Location) { l.Ref = "%252e%252e" }), ". or .."},
		{"traversal in repo", (*Integration).ArchiveURL, gh, with(func(l *Location) { l.Repo = ".." }), ". or .."},
		{"slash in owner", (*Integration).ArchiveURL, gh, with(func(l *Location) { l.Owner = "a/b" }), "must not contain /"},
		{"bitbucket cloud file needs ref", (*Integration).FileAPIURL, bc, with(func(l *Location) { l.Ref = "" }), "needs a ref"},
		{"bitbucket cloud archive needs ref", (*Integration).ArchiveURL, bc, with(func(l *Location) { l.Ref = "" }), "needs a ref"},
		{"no api base", (*Integration).FileAPIURL, ghRawOnly, ok, "has no apiBaseUrl"},
		{"no api base archive", (*Integration).ArchiveURL, ghRawOnly, ok, "has no apiBaseUrl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.fn(tt.in, tt.loc)
			if err == nil {
				t.Fatalf("got %q, nil; want error containing %q", got, tt.wantErr)
			}
			if c := errcode.CodeOf(err); c != errcode.InvalidArgument {
				t.Errorf("CodeOf(err) = %v; want InvalidArgument", c)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q; want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// TestBuildersFromParse checks the builders on Locations straight from
// Parse, the way adapters use them.
func TestBuildersFromParse(t *testing.T) {
	r := testRegistry(t)
	loc, err := r.Parse("https://git.example.com/gitlab/acme/api/-/blob/main/catalog-info.yaml")
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	in, _ := r.ByHost(loc.Host)
	got, err := in.FileAPIURL(loc)
	want := "https://git.example.com/gitlab/api/v4/projects/acme%2Fapi/repository/files/catalog-info.yaml/raw?ref=main"
	if err != nil || got != want {
		t.Errorf("FileAPIURL() = %q, %v; want %q", got, err, want)
	}
}
