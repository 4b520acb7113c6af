package integrations

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse checks that Parse never panics and that, when it succeeds,
// URL(loc) parses back to the same Location. It also runs ResolveURL,
// EditURL, AllowsAnonymous and the builders on the input for panics, and
// checks that Lookup agrees with ByURL, Parse and AllowsAnonymous.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"https://github.com/acme/api/blob/main/catalog-info.yaml",
		"https://github.com/acme/api/tree/feature/x/docs?at=feature%2Fx",
		"https://github.com/acme/api.git",
		"https://github.com/orgs/acme",
		"https://github.com/acme/api/blob/main/%252e%252e/x",
		"https://ghe.example.com:8443/acme/api/raw/v1/a%20b.md",
		"https://gitlab.com/acme/platform/api/-/blob/main/docs/a.md",
		"https://gitlab.com/acme/api/blob/main/a.md",
		"https://gitlab.com/groups/acme/platform",
		"https://git.example.com/gitlab/acme/api/-/tree/main/",
		"https://bitbucket.org/ws/repo/src/main/docs/",
		"https://bitbucket.org/ws/repo/src/abc/a.md?at=main",
		"https://bitbucket.example.com:7990/projects/P/repos/r/browse/a.md?at=refs%2Fheads%2Fmain",
		"https://bitbucket.example.com:7990/users/jdoe/repos/r/raw/a",
		"https://bitbucket.example.com:7990/users/~jdoe/repos/r/browse/a",
		"https://bitbucket.example.com:7990/projects/~~jdoe/repos/r",
		"https://ｇｉｔｈｕｂ.com/o/r/blob/main/a.md",
		"https://GÍT.example.com:8443/o/r",
		"https://bb.example.com/bitbucket/projects/P/repos/r",
		"https://github.com/acme/api/blob/main/h%C3%A9llo.md",
		"http://GITHUB.com:80/a/b/tree/c/d/",
		"https://github.com/a/b/blob/c/%25zz%2e%2e",
		"https://github.com.evil.example/acme/api/blob/main/a.md",
		"https://github.com:8443/acme/api",
		"https://evil.example\\@github.com/acme/api",
	} {
		f.Add(s)
	}
	r, err := NewRegistry(testConfig())
	if err != nil {
		f.Fatalf("NewRegistry() = %v", err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		_, _ = r.ResolveURL(raw, "../x.md", 3)
		_, _ = r.ResolveURL(raw, "/x.md", 0)
		_, _ = r.EditURL(raw)
		_ = r.AllowsAnonymous(raw)
		checkLookup(t, r, raw)
		loc, err := r.Parse(raw)
		if err != nil {
			if loc != (Location{}) {
				t.Fatalf("Parse(%q) returned %+v with error %v", raw, loc, err)
			}
			return
		}
		// The host is the input's own, as a browser or net/http reads it:
		// a URL never parses to another host (whose credential it would
		// then get).
		if u, err := url.Parse(raw); err != nil || loc.Host != urlHost(u.Host) {
			t.Fatalf("Parse(%q) = host %q; the URL's host is %q", raw, loc.Host, u.Host)
		}
		if loc.Owner == "" || loc.Host == "" || loc.Kind == "" {
			t.Fatalf("Parse(%q) = %+v: missing kind, host or owner", raw, loc)
		}
		if hasDotSegment(loc.Path) || hasDotSegment(loc.Ref) || hasDotSegment(loc.Owner) || hasDotSegment(loc.Repo) {
			t.Fatalf("Parse(%q) = %+v: traversal got through", raw, loc)
		}
		if strings.HasPrefix(loc.Path, "/") || strings.HasSuffix(loc.Path, "/") {
			t.Fatalf("Parse(%q) = %+v: path has a leading or trailing slash", raw, loc)
		}
		u, err := r.URL(loc)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v, but URL(loc) = %v", raw, loc, err)
		}
		back, err := r.Parse(u)
		if err != nil {
			t.Fatalf("Parse(%q) = %+v; URL = %q; Parse(URL) = %v", raw, loc, u, err)
		}
		if diff := cmp.Diff(loc, back); diff != "" {
			t.Fatalf("round trip of %q via %q (-first +second):\n%s", raw, u, diff)
		}
		in, _ := r.ByHost(loc.Host)
		_, _ = in.FileAPIURL(loc)
		_, _ = in.RawURL(loc)
		_, _ = in.ArchiveURL(loc)
	})
}

// FuzzNewRegistry checks that NewRegistry never panics, never shows a
// token in its error and, when it succeeds, finds the entry by its host.
func FuzzNewRegistry(f *testing.F) {
	f.Add(uint8(0), "ghe.example.com:8443", "https://ghe.example.com:8443/api/v3/", "", "tok")
	f.Add(uint8(1), "git.example.com", "https://git.example.com/gitlab/api/v4", "https://git.example.com/gitlab", "tok")
	f.Add(uint8(2), "bitbucket.org", "", "", " tok ")
	f.Add(uint8(3), "bbs.example.com:7990", "https://bbs.example.com:7990/ctx/rest/api/1.0", "", "tok")
	f.Add(uint8(4), "*.example.com:80-90", "", "/docs", "")
	f.Add(uint8(0), "GHE.example.com", "https://u:p@x", "", "tok")
	f.Fuzz(func(t *testing.T, kind uint8, host, api, base, tok string) {
		secret := "SECRET-" + tok
		var cfg Config
		switch kind % 5 {
		case 0:
			cfg.GitHub = []GitHubConfig{{Host: host, APIBaseURL: api, RawBaseURL: base, Token: NewSecret(secret)}}
		case 1:
			cfg.GitLab = []GitLabConfig{{Host: host, APIBaseURL: api, BaseURL: base, Token: NewSecret(secret)}}
		case 2:
			cfg.BitbucketCloud = []BitbucketCloudConfig{{Host: host, APIBaseURL: api, Username: base, Token: NewSecret(secret)}}
		case 3:
			cfg.BitbucketServer = []BitbucketServerConfig{{Host: host, APIBaseURL: api, Username: base, Password: NewSecret(secret)}}
		case 4:
			cfg.ReadingAllow = []ReadingAllow{{Host: host, Paths: []string{base}}}
		}
		r, err := NewRegistry(cfg)
		if err != nil {
			if in := host + api + base; !strings.Contains(in, "SECRET-") && strings.Contains(err.Error(), secret) {
				t.Fatalf("error shows the token: %v", err)
			}
			return
		}
		if kind%5 == 4 {
			_ = r.AllowsAnonymous("https://" + strings.TrimPrefix(host, "*.") + base)
			return
		}
		want := host
		if want == "" {
			want = map[uint8]string{0: GitHubHost, 2: BitbucketCloudHost}[kind%5]
		}
		in, ok := r.ByHost(want)
		if !ok || in.Host != NormalizeHost(want) {
			t.Fatalf("ByHost(%q) = %v, %v after NewRegistry accepted it", want, in, ok)
		}
		for _, w := range r.Warnings() {
			if in := host + api + base; !strings.Contains(in, "SECRET-") && strings.Contains(w, secret) {
				t.Fatalf("warning shows the token: %v", w)
			}
		}
		_, err = r.URL(Location{Kind: in.Kind, Host: in.Host, Owner: "o", Repo: "r", Ref: "main", Path: "a.md"})
		if in.Disabled != nil {
			// An entry Backstage starts with but that cannot work: every
			// use fails, naming its config path.
			if err == nil || !strings.Contains(err.Error(), in.ConfigPath) {
				t.Fatalf("URL() on a disabled integration = %v; want an error naming %s", err, in.ConfigPath)
			}
			return
		}
		if err != nil {
			t.Fatalf("URL() on the new integration = %v", err)
		}
	})
}
