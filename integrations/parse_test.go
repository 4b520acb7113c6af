package integrations

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scmkit/scmkit/errcode"
)

type parseCase struct {
	name    string
	url     string
	want    Location
	wantURL string // canonical URL(want); "" means the input itself
	wantErr string // substring of the error; "" means success
}

func runParseCases(t *testing.T, r *Registry, tests []parseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Parse(tt.url)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, nil; want error containing %q", tt.url, got, tt.wantErr)
				}
				if c := errcode.CodeOf(err); c != errcode.InvalidArgument {
					t.Errorf("CodeOf(err) = %v; want InvalidArgument", c)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Parse(%q) error = %q; want it to contain %q", tt.url, err, tt.wantErr)
				}
				if got != (Location{}) {
					t.Errorf("Parse(%q) returned %+v with its error; want the zero Location", tt.url, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.url, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("Parse(%q) mismatch (-want +got):\n%s", tt.url, diff)
			}
			u, err := r.URL(got)
			if err != nil {
				t.Fatalf("URL(%+v) = %v", got, err)
			}
			wantURL := tt.wantURL
			if wantURL == "" {
				wantURL = tt.url
			}
			if u != wantURL {
				t.Errorf("URL(%+v) = %q; want %q", got, u, wantURL)
			}
			back, err := r.Parse(u)
			if err != nil {
				t.Fatalf("Parse(URL(loc)) = %v", err)
			}
			if diff := cmp.Diff(got, back); diff != "" {
				t.Errorf("Parse(URL(loc)) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func gh(owner, repo, ref, path string, tree bool) Location {
	return Location{Kind: GitHub, Host: "github.com", Owner: owner, Repo: repo, Ref: ref, Path: path, Tree: tree}
}

func TestParseGitHub(t *testing.T) {
	ghe := func(owner, repo, ref, path string, tree bool) Location {
		l := gh(owner, repo, ref, path, tree)
		l.Host = "ghe.example.com:8443"
		return l
	}
	runParseCases(t, testRegistry(t), []parseCase{
		{name: "blob", url: "https://github.com/acme/api/blob/main/catalog-info.yaml", want: gh("acme", "api", "main", "catalog-info.yaml", false)},
		{name: "nested path", url: "https://github.com/acme/api/blob/v1.2.3/docs/guide/index.md", want: gh("acme", "api", "v1.2.3", "docs/guide/index.md", false)},
		{name: "tree", url: "https://github.com/acme/api/tree/main/templates/go", want: gh("acme", "api", "main", "templates/go", true)},
		{name: "tree root", url: "https://github.com/acme/api/tree/main", want: gh("acme", "api", "main", "", true)},
		{name: "blob root is a tree", url: "https://github.com/acme/api/blob/main", want: gh("acme", "api", "main", "", true), wantURL: "https://github.com/acme/api/tree/main"},
		{name: "trailing slash is a tree", url: "https://github.com/acme/api/blob/main/docs/", want: gh("acme", "api", "main", "docs", true), wantURL: "https://github.com/acme/api/tree/main/docs"},
		{name: "raw", url: "https://github.com/acme/api/raw/main/a.yaml", want: gh("acme", "api", "main", "a.yaml", false), wantURL: "https://github.com/acme/api/blob/main/a.yaml"},
		{name: "edit", url: "https://github.com/acme/api/edit/main/a.yaml", want: gh("acme", "api", "main", "a.yaml", false), wantURL: "https://github.com/acme/api/blob/main/a.yaml"},
		{name: "commit sha", url: "https://github.com/acme/api/blob/0123456789abcdef0123456789abcdef01234567/a.yaml", want: gh("acme", "api", "0123456789abcdef0123456789abcdef01234567", "a.yaml", false)},
		{name: "repo root", url: "https://github.com/acme/api", want: gh("acme", "api", "", "", true)},
		{name: "repo root slash", url: "https://github.com/acme/api/", want: gh("acme", "api", "", "", true), wantURL: "https://github.com/acme/api"},
		{name: "repo .git", url: "https://github.com/acme/api.git", want: gh("acme", "api", "", "", true), wantURL: "https://github.com/acme/api"},
		{name: "owner only", url: "https://github.com/acme", want: gh("acme", "", "", "", false)},
		{name: "owner only slash", url: "https://github.com/acme/", want: gh("acme", "", "", "", false), wantURL: "https://github.com/acme"},
		{name: "orgs page", url: "https://github.com/orgs/acme", want: gh("acme", "", "", "", false), wantURL: "https://github.com/acme"},
		{name: "host case and default port", url: "HTTPS://GitHub.COM:443/acme/api/blob/main/a.md", want: gh("acme", "api", "main", "a.md", false), wantURL: "https://github.com/acme/api/blob/main/a.md"},
		{name: "http scheme accepted", url: "http://github.com/acme/api/blob/main/a.md", want: gh("acme", "api", "main", "a.md", false), wantURL: "https://github.com/acme/api/blob/main/a.md"},
		{name: "query and fragment ignored", url: "https://github.com/acme/api/blob/main/a.md?plain=1#L10", want: gh("acme", "api", "main", "a.md", false), wantURL: "https://github.com/acme/api/blob/main/a.md"},
		{name: "slash branch without at: first segment is the ref", url: "https://github.com/acme/api/blob/feature/x/a.md", want: gh("acme", "api", "feature", "x/a.md", false)},
		{name: "slash branch with at", url: "https://github.com/acme/api/blob/feature/x/a.md?at=feature/x", want: gh("acme", "api", "feature/x", "a.md", false), wantURL: "https://github.com/acme/api/blob/feature/x/a.md?at=feature%2Fx"},
		{name: "slash branch tree root", url: "https://github.com/acme/api/tree/feature/x?at=feature%2Fx", want: gh("acme", "api", "feature/x", "", true)},
		{name: "at that does not match is ignored", url: "https://github.com/acme/api/blob/main/a.md?at=other/x", want: gh("acme", "api", "main", "a.md", false), wantURL: "https://github.com/acme/api/blob/main/a.md"},
		{name: "spaces", url: "https://github.com/acme/api/blob/main/my%20docs/read%20me.md", want: gh("acme", "api", "main", "my docs/read me.md", false)},
		{name: "unicode raw", url: "https://github.com/acme/api/blob/main/docs/héllo wörld.md", want: gh("acme", "api", "main", "docs/héllo wörld.md", false), wantURL: "https://github.com/acme/api/blob/main/docs/h%C3%A9llo%20w%C3%B6rld.md"},
		{name: "unicode escaped", url: "https://github.com/acme/api/blob/main/%E6%97%A5%E6%9C%AC.md", want: gh("acme", "api", "main", "日本.md", false)},
		{name: "special chars", url: "https://github.com/acme/api/blob/main/a%23b%3Fc%25d+e.md", want: gh("acme", "api", "main", "a#b?c%d+e.md", false)},
		{name: "literal percent-2e file name is not decoded twice", url: "https://github.com/acme/api/blob/main/100%25.md", want: gh("acme", "api", "main", "100%.md", false)},
		{name: "GHE with port", url: "https://ghe.example.com:8443/acme/api/blob/main/a.md", want: ghe("acme", "api", "main", "a.md", false)},
		{name: "wrong port is another host", url: "https://ghe.example.com/acme/api", wantErr: `no integration is configured for host "ghe.example.com"`},
		{name: "unknown host", url: "https://git.unknown.example/acme/api", wantErr: "add an entry with host: \"git.unknown.example\""},
		{name: "no owner", url: "https://github.com/", wantErr: "names no owner"},
		{name: "no owner, no slash", url: "https://github.com", wantErr: "names no owner"},
		{name: "reserved page", url: "https://github.com/settings/profile", wantErr: "is a GitHub page"},
		{name: "orgs with more", url: "https://github.com/orgs/acme/repositories", wantErr: "organisation URL"},
		{name: "issues page", url: "https://github.com/acme/api/issues/1", wantErr: "unsupported GitHub URL /issues/"},
		{name: "blob without ref", url: "https://github.com/acme/api/blob", wantErr: "no ref"},
		{name: "blob without ref, slash", url: "https://github.com/acme/api/blob/", wantErr: "no ref"},
		{name: "raw without path", url: "https://github.com/acme/api/raw/main", wantErr: "needs a file path"},
		{name: "empty segment", url: "https://github.com/acme//api", wantErr: "empty segment"},
		{name: "empty segment in path", url: "https://github.com/acme/api/blob/main/a//b", wantErr: "empty segment"},
		{name: "encoded slash", url: "https://github.com/acme/api/blob/main/a%2Fb", wantErr: "%2F"},
		{name: "repo .git only", url: "https://github.com/acme/.git", wantErr: "names no repository"},
		{name: "user info", url: "https://user:secret@github.com/acme/api", wantErr: "user name or password"},
		{name: "ssh", url: "git@github.com:acme/api.git", wantErr: "not a valid URL"},
		{name: "ssh scheme", url: "ssh://git@github.com/acme/api.git", wantErr: "not an http or https URL"},
		{name: "relative", url: "/acme/api", wantErr: "not an http or https URL"},
		{name: "opaque", url: "https:github.com/acme", wantErr: "absolute URL with a host"},
		{name: "bad escape", url: "https://github.com/acme/api/blob/main/%zz", wantErr: "invalid URL escape"},
		{name: "control char encoded", url: "https://github.com/acme/api/blob/main/a%00b", wantErr: "control character"},
		{name: "bad host", url: "https://git hub.com/acme", wantErr: "not a valid URL"},
		{name: "empty", url: "", wantErr: "not an http or https URL"},
		{name: "backslash owner", url: "http://github.com/acme%5C", wantErr: `must not contain / or \`},
		{name: "backslash repo", url: "https://github.com/acme/a\\b", wantErr: `must not contain / or \`},
		{name: "backslash in file name is kept", url: "https://github.com/acme/api/blob/main/a%5Cb.md", want: gh("acme", "api", "main", `a\b.md`, false)},
	})
}

func TestParseTraversal(t *testing.T) {
	r := testRegistry(t)
	urls := []string{
		"https://github.com/acme/api/blob/main/../../other/repo",
		"https://github.com/acme/api/blob/main/./a.md",
		"https://github.com/acme/api/blob/main/%2e%2e/%2e%2e/other",
		"https://github.com/acme/api/blob/main/%2E%2E/x",
		"https://github.com/acme/api/blob/main/%2e%2E%2fsecrets",
		"https://github.com/acme/api/blob/main/%252e%252e%252fsecrets",
		"https://github.com/acme/api/blob/main/%25252e%25252e/x",
		"https://github.com/acme/api/blob/main/%2e/x",
		"https://github.com/acme/api/blob/main/..%5c..%5cx",
		"https://github.com/acme/api/blob/main/a/..",
		"https://github.com/acme/api/blob/%2e%2e/x",
		"https://github.com/acme/%2e%2e/blob/main/x",
		"https://github.com/%2e%2e",
		"https://github.com/acme/api/blob/main/%25zz%2e%2e/x/%252e%252e",
		"https://github.com/acme/api/blob/main/x?at=main/../../y",
		"https://git.example.com/gitlab/acme/api/-/blob/main/%2e%2e/x",
		"https://git.example.com/gitlab/%2e%2e/acme/api",
		"https://bitbucket.org/ws/repo/src/main/%252E%252E/x",
		"https://bitbucket.example.com:7990/projects/K/repos/r/browse/%2e%2e/x",
		"https://bitbucket.example.com:7990/projects/K/repos/r/browse/a.md?at=..%2F..%2Fx",
		"https://bitbucket.example.com:7990/projects/K/repos/r/browse/a.md?at=%252e%252e",
		"https://bitbucket.example.com:7990/projects/K/repos/r/browse/a.md?at=a%00b",
	}
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			loc, err := r.Parse(u)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, nil; want an error", u, loc)
			}
			if c := errcode.CodeOf(err); c != errcode.InvalidArgument {
				t.Errorf("CodeOf(%v) = %v; want InvalidArgument", err, c)
			}
		})
	}
}

func TestParseGitLab(t *testing.T) {
	gl := func(owner, repo, ref, path string, tree bool) Location {
		return Location{Kind: GitLab, Host: "gitlab.com", Owner: owner, Repo: repo, Ref: ref, Path: path, Tree: tree}
	}
	sub := func(owner, repo, ref, path string, tree bool) Location {
		l := gl(owner, repo, ref, path, tree)
		l.Host = "git.example.com"
		return l
	}
	runParseCases(t, testRegistry(t), []parseCase{
		{name: "blob", url: "https://gitlab.com/acme/api/-/blob/main/catalog-info.yaml", want: gl("acme", "api", "main", "catalog-info.yaml", false)},
		{name: "nested groups", url: "https://gitlab.com/acme/platform/team/api/-/blob/main/docs/a.md", want: gl("acme/platform/team", "api", "main", "docs/a.md", false)},
		{name: "tree", url: "https://gitlab.com/acme/platform/api/-/tree/main/templates", want: gl("acme/platform", "api", "main", "templates", true)},
		{name: "tree root", url: "https://gitlab.com/acme/api/-/tree/v1", want: gl("acme", "api", "v1", "", true)},
		{name: "raw", url: "https://gitlab.com/acme/api/-/raw/main/a.md", want: gl("acme", "api", "main", "a.md", false), wantURL: "https://gitlab.com/acme/api/-/blob/main/a.md"},
		{name: "edit", url: "https://gitlab.com/acme/api/-/edit/main/a.md", want: gl("acme", "api", "main", "a.md", false), wantURL: "https://gitlab.com/acme/api/-/blob/main/a.md"},
		{name: "legacy blob", url: "https://gitlab.com/acme/api/blob/main/a.md", want: gl("acme", "api", "main", "a.md", false), wantURL: "https://gitlab.com/acme/api/-/blob/main/a.md"},
		{name: "legacy tree nested", url: "https://gitlab.com/acme/sub/api/tree/main/dir", want: gl("acme/sub", "api", "main", "dir", true), wantURL: "https://gitlab.com/acme/sub/api/-/tree/main/dir"},
		{name: "group named blob is not legacy", url: "https://gitlab.com/acme/blob/api", want: gl("acme/blob", "api", "", "", true)},
		{name: "project named tree", url: "https://gitlab.com/acme/sub/tree", want: gl("acme/sub", "tree", "", "", true)},
		{name: "project root", url: "https://gitlab.com/acme/platform/api", want: gl("acme/platform", "api", "", "", true)},
		{name: "project .git", url: "https://gitlab.com/acme/api.git", want: gl("acme", "api", "", "", true), wantURL: "https://gitlab.com/acme/api"},
		{name: "top-level group", url: "https://gitlab.com/acme", want: gl("acme", "", "", "", false)},
		{name: "groups page", url: "https://gitlab.com/groups/acme/platform", want: gl("acme/platform", "", "", "", false)},
		{name: "groups page single", url: "https://gitlab.com/groups/acme", want: gl("acme", "", "", "", false), wantURL: "https://gitlab.com/acme"},
		{name: "slash branch with at", url: "https://gitlab.com/acme/api/-/blob/feature/x/a.md?at=feature%2Fx", want: gl("acme", "api", "feature/x", "a.md", false)},
		{name: "ref_type ignored", url: "https://gitlab.com/acme/api/-/blob/main/a.md?ref_type=heads", want: gl("acme", "api", "main", "a.md", false), wantURL: "https://gitlab.com/acme/api/-/blob/main/a.md"},
		{name: "sub-path", url: "https://git.example.com/gitlab/acme/api/-/blob/main/a.md", want: sub("acme", "api", "main", "a.md", false)},
		{name: "sub-path project root", url: "https://git.example.com/gitlab/acme/api", want: sub("acme", "api", "", "", true)},
		{name: "sub-path group", url: "https://git.example.com/gitlab/acme", want: sub("acme", "", "", "", false)},
		{name: "sub-path host case", url: "https://GIT.example.com/gitlab/acme/api/-/tree/main/", want: sub("acme", "api", "main", "", true), wantURL: "https://git.example.com/gitlab/acme/api/-/tree/main"},
		{name: "missing sub-path", url: "https://git.example.com/acme/api/-/blob/main/a.md", wantErr: "must start with /gitlab/"},
		{name: "sub-path only", url: "https://git.example.com/gitlab", wantErr: "names no group"},
		{name: "merge request", url: "https://gitlab.com/acme/api/-/merge_requests/1", wantErr: "unsupported GitLab URL /-/merge_requests/"},
		{name: "dash without project", url: "https://gitlab.com/acme/-/blob/main/a.md", wantErr: "namespace and a name"},
		{name: "nothing after dash", url: "https://gitlab.com/acme/api/-/", wantErr: "nothing after"},
		{name: "blob without ref", url: "https://gitlab.com/acme/api/-/blob", wantErr: "no ref"},
		{name: "raw without path", url: "https://gitlab.com/acme/api/-/raw/main", wantErr: "needs a file path"},
		{name: "groups alone", url: "https://gitlab.com/groups", wantErr: "names no group"},
		{name: "groups as namespace", url: "https://gitlab.com/groups/acme/api/-/blob/main/a", wantErr: "not a namespace"},
		{name: "root", url: "https://gitlab.com/", wantErr: "names no group"},
		{name: "backslash group", url: "https://gitlab.com/a%5Cb/api", wantErr: `must not contain \`},
	})
}

func TestParseBitbucket(t *testing.T) {
	bc := func(owner, repo, ref, path string, tree bool) Location {
		return Location{Kind: BitbucketCloud, Host: "bitbucket.org", Owner: owner, Repo: repo, Ref: ref, Path: path, Tree: tree}
	}
	bs := func(owner, repo, ref, path string, tree bool) Location {
		return Location{Kind: BitbucketServer, Host: "bitbucket.example.com:7990", Owner: owner, Repo: repo, Ref: ref, Path: path, Tree: tree}
	}
	ctx := func(owner, repo, ref, path string, tree bool) Location {
		l := bs(owner, repo, ref, path, tree)
		l.Host = "bb.example.com"
		return l
	}
	runParseCases(t, testRegistry(t), []parseCase{
		{name: "cloud src", url: "https://bitbucket.org/ws/repo/src/main/catalog-info.yaml", want: bc("ws", "repo", "main", "catalog-info.yaml", false)},
		{name: "cloud raw", url: "https://bitbucket.org/ws/repo/raw/main/a.md", want: bc("ws", "repo", "main", "a.md", false), wantURL: "https://bitbucket.org/ws/repo/src/main/a.md"},
		{name: "cloud dir", url: "https://bitbucket.org/ws/repo/src/main/docs/", want: bc("ws", "repo", "main", "docs", true)},
		{name: "cloud ref root", url: "https://bitbucket.org/ws/repo/src/main", want: bc("ws", "repo", "main", "", true), wantURL: "https://bitbucket.org/ws/repo/src/main/"},
		{name: "cloud src without ref", url: "https://bitbucket.org/ws/repo/src", want: bc("ws", "repo", "", "", true), wantURL: "https://bitbucket.org/ws/repo"},
		{name: "cloud repo", url: "https://bitbucket.org/ws/repo", want: bc("ws", "repo", "", "", true)},
		{name: "cloud workspace", url: "https://bitbucket.org/ws", want: bc("ws", "", "", "", false)},
		{name: "cloud commit and at branch", url: "https://bitbucket.org/ws/repo/src/abc123/a.md?at=main", want: bc("ws", "repo", "abc123", "a.md", false), wantURL: "https://bitbucket.org/ws/repo/src/abc123/a.md"},
		{name: "cloud slash branch with at", url: "https://bitbucket.org/ws/repo/src/feature/x/a.md?at=feature%2Fx", want: bc("ws", "repo", "feature/x", "a.md", false)},
		{name: "cloud spaces", url: "https://bitbucket.org/ws/repo/src/main/my%20file.md", want: bc("ws", "repo", "main", "my file.md", false)},
		{name: "cloud pull requests", url: "https://bitbucket.org/ws/repo/pull-requests/1", wantErr: "unsupported Bitbucket Cloud URL /pull-requests/"},
		{name: "cloud raw without path", url: "https://bitbucket.org/ws/repo/raw/main", wantErr: "needs a file path"},
		{name: "cloud raw without ref", url: "https://bitbucket.org/ws/repo/raw", wantErr: "needs a ref"},
		{name: "cloud root", url: "https://bitbucket.org/", wantErr: "names no workspace"},

		{name: "server browse", url: "https://bitbucket.example.com:7990/projects/PROJ/repos/api/browse/catalog-info.yaml", want: bs("PROJ", "api", "", "catalog-info.yaml", false)},
		{name: "server browse at", url: "https://bitbucket.example.com:7990/projects/PROJ/repos/api/browse/docs/a.md?at=refs%2Fheads%2Ffeature%2Fx", want: bs("PROJ", "api", "refs/heads/feature/x", "docs/a.md", false)},
		{name: "server browse at unescaped", url: "https://bitbucket.example.com:7990/projects/PROJ/repos/api/browse/a.md?at=main", want: bs("PROJ", "api", "main", "a.md", false)},
		{name: "server raw", url: "https://bitbucket.example.com:7990/projects/PROJ/repos/api/raw/a.md?at=main", want: bs("PROJ", "api", "main", "a.md", false), wantURL: "https://bitbucket.example.com:7990/projects/PROJ/repos/api/browse/a.md?at=main"},
		{name: "server dir", url: "https://bitbucket.example.com:7990/projects/PROJ/repos/api/browse/docs/", want: bs("PROJ", "api", "", "docs", true)},
		{name: "server browse root", url: "https://bitbucket.example.com:7990/projects/PROJ/repos/api/browse", want: bs("PROJ", "api", "", "", true)},
		{name: "server repo", url: "https://bitbucket.example.com:7990/projects/PROJ/repos/api", want: bs("PROJ", "api", "", "", true), wantURL: "https://bitbucket.example.com:7990/projects/PROJ/repos/api/browse"},
		{name: "server project", url: "https://bitbucket.example.com:7990/projects/PROJ", want: bs("PROJ", "", "", "", false)},
		{name: "server user repo", url: "https://bitbucket.example.com:7990/users/jdoe/repos/dots/browse/a.md", want: bs("~jdoe", "dots", "", "a.md", false)},
		{name: "server tilde project", url: "https://bitbucket.example.com:7990/projects/~jdoe/repos/dots/browse/a.md", want: bs("~jdoe", "dots", "", "a.md", false), wantURL: "https://bitbucket.example.com:7990/users/jdoe/repos/dots/browse/a.md"},
		{name: "server user", url: "https://bitbucket.example.com:7990/users/jdoe", want: bs("~jdoe", "", "", "", false)},
		{name: "server unicode", url: "https://bitbucket.example.com:7990/projects/P/repos/r/browse/d%C3%A9j%C3%A0%20vu.md", want: bs("P", "r", "", "déjà vu.md", false)},
		{name: "server context path", url: "https://bb.example.com/bitbucket/projects/P/repos/r/browse/a.md?at=main", want: ctx("P", "r", "main", "a.md", false)},
		{name: "server missing context path", url: "https://bb.example.com/projects/P/repos/r/browse/a.md", wantErr: "must start with /bitbucket/"},
		{name: "server wrong port", url: "https://bitbucket.example.com/projects/P/repos/r", wantErr: "no integration"},
		{name: "server commits", url: "https://bitbucket.example.com:7990/projects/P/repos/r/commits", wantErr: "unsupported Bitbucket Server URL /commits/"},
		{name: "server no repo", url: "https://bitbucket.example.com:7990/projects/P/repos", wantErr: "unsupported Bitbucket Server URL"},
		{name: "server raw no path", url: "https://bitbucket.example.com:7990/projects/P/repos/r/raw", wantErr: "needs a file path"},
		{name: "server other page", url: "https://bitbucket.example.com:7990/dashboard", wantErr: "unsupported Bitbucket Server URL"},
		{name: "server empty user", url: "https://bitbucket.example.com:7990/projects/~/repos/r", wantErr: "names no user"},
		{name: "server tilde user", url: "https://bitbucket.example.com:7990/users/~jdoe/repos/dots/browse/a.md", want: bs("~jdoe", "dots", "", "a.md", false), wantURL: "https://bitbucket.example.com:7990/users/jdoe/repos/dots/browse/a.md"},
		{name: "server tilde only user", url: "https://bitbucket.example.com:7990/users/~/repos/r", wantErr: "names no user"},
		{name: "server double tilde project", url: "https://bitbucket.example.com:7990/projects/~~jdoe/repos/r", wantErr: "with one ~"},
		{name: "server bad at", url: "https://bitbucket.example.com:7990/projects/P/repos/r/browse/a?at=a//b", wantErr: "query parameter at"},
	})
}

func TestURLErrors(t *testing.T) {
	r := testRegistry(t)
	tests := []struct {
		name    string
		loc     Location
		wantErr string
	}{
		{"unknown host", Location{Kind: GitHub, Host: "nowhere.example", Owner: "o"}, "no integration"},
		{"kind mismatch", Location{Kind: GitLab, Host: "github.com", Owner: "o"}, "of kind \"gitlab\""},
		{"no owner", Location{Kind: GitHub, Host: "github.com"}, "no owner"},
		{"path without repo", Location{Kind: GitHub, Host: "github.com", Owner: "o", Path: "a"}, "no repository"},
		{"github path without ref", Location{Kind: GitHub, Host: "github.com", Owner: "o", Repo: "r", Path: "a"}, "needs a ref"},
		{"gitlab path without ref", Location{Kind: GitLab, Host: "gitlab.com", Owner: "o", Repo: "r", Path: "a"}, "needs a ref"},
		{"bitbucket cloud path without ref", Location{Kind: BitbucketCloud, Host: "bitbucket.org", Owner: "o", Repo: "r", Path: "a"}, "needs a ref"},
		{"traversal in path", Location{Kind: GitHub, Host: "github.com", Owner: "o", Repo: "r", Ref: "main", Path: "a/../../b"}, "traversal"},
		{"encoded traversal in path", Location{Kind: GitHub, Host: "github.com", Owner: "o", Repo: "r", Ref: "main", Path: "%2e%2e/b"}, "traversal"},
		{"traversal in ref", Location{Kind: GitHub, Host: "github.com", Owner: "o", Repo: "r", Ref: "../x", Path: "b"}, ". or .."},
		{"slash in repo", Location{Kind: GitHub, Host: "github.com", Owner: "o", Repo: "r/x"}, "must not contain /"},
		{"dot owner", Location{Kind: GitHub, Host: "github.com", Owner: ".."}, "must not be . or .."},
		{"reserved owner", Location{Kind: GitHub, Host: "github.com", Owner: "settings"}, "GitHub page"},
		{"gitlab dash group", Location{Kind: GitLab, Host: "gitlab.com", Owner: "a/-", Repo: "r"}, "\"-\""},
		{"gitlab legacy-looking root", Location{Kind: GitLab, Host: "gitlab.com", Owner: "a/b/blob", Repo: "r"}, "legacy"},
		{"gitlab groups namespace", Location{Kind: GitLab, Host: "gitlab.com", Owner: "groups/a", Repo: "r"}, "groups"},
		{"control char", Location{Kind: GitHub, Host: "github.com", Owner: "o", Repo: "r", Ref: "main", Path: "a\x00"}, "control"},
		{"empty path segment", Location{Kind: GitHub, Host: "github.com", Owner: "o", Repo: "r", Ref: "main", Path: "a//b"}, "//"},
		{"bitbucket server bare tilde", Location{Kind: BitbucketServer, Host: "bb.example.com", Owner: "~", Repo: "r"}, "no user"},
		{"bitbucket server double tilde", Location{Kind: BitbucketServer, Host: "bb.example.com", Owner: "~~jdoe", Repo: "r"}, "with one ~"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.URL(tt.loc)
			if err == nil {
				t.Fatalf("URL(%+v) = %q, nil; want error containing %q", tt.loc, got, tt.wantErr)
			}
			if c := errcode.CodeOf(err); c != errcode.InvalidArgument {
				t.Errorf("CodeOf(err) = %v; want InvalidArgument", c)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("URL() error = %q; want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
