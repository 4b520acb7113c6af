package integrations

import (
	"testing"
)

func TestByHostByURLOwning(t *testing.T) {
	r := testRegistry(t)
	tests := []struct {
		name, arg string
		fn        func(string) (*Integration, bool)
		wantHost  string // "" means not found
	}{
		{"ByHost exact", "github.com", r.ByHost, "github.com"},
		{"ByHost case", "GitHub.Com", r.ByHost, "github.com"},
		{"ByHost default port", "github.com:443", r.ByHost, "github.com"},
		{"ByHost port", "ghe.example.com:8443", r.ByHost, "ghe.example.com:8443"},
		{"ByHost port missing", "ghe.example.com", r.ByHost, ""},
		{"ByHost api host is not a web host", "api.github.com", r.ByHost, ""},
		{"ByHost default gitlab", "gitlab.com", r.ByHost, "gitlab.com"},
		{"ByURL", "https://GIT.example.com:443/gitlab/a/b", r.ByURL, "git.example.com"},
		{"ByURL port", "https://bitbucket.example.com:7990/projects/P", r.ByURL, "bitbucket.example.com:7990"},
		{"ByURL unparsable", "https://exa mple.com/", r.ByURL, ""},
		{"ByURL relative", "/a/b", r.ByURL, ""},
		{"Owning web host", "github.com", r.Owning, "github.com"},
		{"Owning api host", "api.github.com", r.Owning, "github.com"},
		{"Owning raw host", "raw.githubusercontent.com:443", r.Owning, "github.com"},
		{"Owning bitbucket cloud api", "api.bitbucket.org", r.Owning, "bitbucket.org"},
		{"Owning foreign", "codeload.github.com", r.Owning, ""},
		// The API and raw hosts are matched whole, never as a suffix or prefix.
		{"Owning api host as a suffix", "evilapi.github.com", r.Owning, ""},
		{"Owning api host as a subdomain", "x.api.github.com", r.Owning, ""},
		{"Owning api host as a prefix", "api.github.com.evil.test", r.Owning, ""},
		{"Owning raw host as a suffix", "fakeraw.githubusercontent.com", r.Owning, ""},
		{"Owning api host, other port", "api.github.com:8443", r.Owning, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, ok := tt.fn(tt.arg)
			switch {
			case tt.wantHost == "" && ok:
				t.Errorf("(%q) = %s; want not found", tt.arg, in.Host)
			case tt.wantHost != "" && !ok:
				t.Errorf("(%q) not found; want %s", tt.arg, tt.wantHost)
			case ok && in.Host != tt.wantHost:
				t.Errorf("(%q) = %s; want %s", tt.arg, in.Host, tt.wantHost)
			}
		})
	}
	gh, _ := r.ByHost("github.com")
	if !gh.Owns("API.github.com") || gh.Owns("evil.example") {
		t.Errorf("Owns: got api.github.com=%v, evil.example=%v; want true, false", gh.Owns("API.github.com"), gh.Owns("evil.example"))
	}
}

func TestCredentialFor(t *testing.T) {
	r, err := NewRegistry(Config{
		GitHub: []GitHubConfig{{Token: NewSecret("host-wide"), Credentials: []ScopedCredential{
			{Owners: []string{"acme"}, Token: NewSecret("acme-token")},
			{Owners: []string{"Other", "third"}, Token: NewSecret("other-token")},
		}}},
		GitLab: []GitLabConfig{{Host: "gitlab.com", Credentials: []ScopedCredential{
			{Owners: []string{"acme"}, Token: NewSecret("group")},
			{Owners: []string{"acme/platform"}, Token: NewSecret("subgroup")},
			{Owners: []string{"acme/platform/team/x"}, Token: NewSecret("deep")},
		}}},
		BitbucketServer: []BitbucketServerConfig{{Host: "bbs.example.com", Credentials: []ScopedCredential{
			{Owners: []string{"PROJ"}, Username: "svc", Password: NewSecret("pw")},
		}}},
	})
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	gh, _ := r.ByHost("github.com")
	gl, _ := r.ByHost("gitlab.com")
	bbs, _ := r.ByHost("bbs.example.com")
	tests := []struct {
		name      string
		in        *Integration
		owner     string
		wantToken string // "" means no match
		wantPath  string
	}{
		{"github exact", gh, "acme", "acme-token", "integrations.github[0].credentials[0]"},
		{"github case-insensitive", gh, "ACME", "acme-token", "integrations.github[0].credentials[0]"},
		{"github second owner", gh, "third", "other-token", "integrations.github[0].credentials[1]"},
		{"github config case", gh, "other", "other-token", "integrations.github[0].credentials[1]"},
		{"github no prefix matching", gh, "acme/x", "", ""},
		{"github unknown", gh, "nobody", "", ""},
		{"github empty", gh, "", "", ""},
		{"gitlab group", gl, "acme", "group", "integrations.gitlab[0].credentials[0]"},
		{"gitlab subgroup wins", gl, "acme/platform", "subgroup", "integrations.gitlab[0].credentials[1]"},
		{"gitlab nested under subgroup", gl, "acme/platform/team", "subgroup", "integrations.gitlab[0].credentials[1]"},
		{"gitlab deepest wins", gl, "acme/platform/team/x/y", "deep", "integrations.gitlab[0].credentials[2]"},
		{"gitlab other group under acme", gl, "acme/other", "group", "integrations.gitlab[0].credentials[0]"},
		{"gitlab prefix is by segment", gl, "acmecorp", "", ""},
		{"gitlab slashes trimmed", gl, "/acme/platform/", "subgroup", "integrations.gitlab[0].credentials[1]"},
		{"bitbucket server key case", bbs, "proj", "pw", "integrations.bitbucketServer[0].credentials[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, path, ok := tt.in.CredentialFor(tt.owner)
			if tt.wantToken == "" {
				if ok {
					t.Errorf("CredentialFor(%q) = %s; want no match", tt.owner, path)
				}
				return
			}
			got := c.Token.Reveal()
			if got == "" {
				got = c.Password.Reveal()
			}
			if !ok || got != tt.wantToken || path != tt.wantPath {
				t.Errorf("CredentialFor(%q) = %q, %q, %v; want %q, %q", tt.owner, got, path, ok, tt.wantToken, tt.wantPath)
			}
		})
	}
	if _, tok := gh.Token(); tok.Reveal() != "host-wide" {
		t.Errorf("Token() = %q; want the host-wide fallback", tok.Reveal())
	}
}

func TestToken(t *testing.T) {
	tests := []struct {
		name           string
		cfg            Config
		host           string
		wantUser, want string
	}{
		{"github", Config{GitHub: []GitHubConfig{{Token: NewSecret("t")}}}, "github.com", "", "t"},
		{"github none", Config{}, "github.com", "", ""},
		{"gitlab", Config{GitLab: []GitLabConfig{{Host: "gitlab.com", Token: NewSecret("t")}}}, "gitlab.com", "", "t"},
		{"bitbucket cloud api token", Config{BitbucketCloud: []BitbucketCloudConfig{{Username: "me@example.com", Token: NewSecret("t")}}}, "bitbucket.org", "me@example.com", "t"},
		{"bitbucket cloud access token", Config{BitbucketCloud: []BitbucketCloudConfig{{Token: NewSecret("t")}}}, "bitbucket.org", "", "t"},
		{"bitbucket cloud token wins over app password", Config{BitbucketCloud: []BitbucketCloudConfig{{Username: "me", Token: NewSecret("t"), AppPassword: NewSecret("ap")}}}, "bitbucket.org", "me", "t"},
		{"bitbucket cloud oauth only", Config{BitbucketCloud: []BitbucketCloudConfig{{ClientID: "id", ClientSecret: NewSecret("s")}}}, "bitbucket.org", "", ""},
		{"bitbucket server token", Config{BitbucketServer: []BitbucketServerConfig{{Host: "b.example.com", Token: NewSecret("t"), Username: "u", Password: NewSecret("p")}}}, "b.example.com", "", "t"},
		{"bitbucket server basic", Config{BitbucketServer: []BitbucketServerConfig{{Host: "b.example.com", Username: "u", Password: NewSecret("p")}}}, "b.example.com", "u", "p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRegistry(tt.cfg)
			if err != nil {
				t.Fatalf("NewRegistry() = %v", err)
			}
			in, _ := r.ByHost(tt.host)
			u, tok := in.Token()
			if u != tt.wantUser || tok.Reveal() != tt.want {
				t.Errorf("Token() = %q, %q; want %q, %q", u, tok.Reveal(), tt.wantUser, tt.want)
			}
		})
	}
}
