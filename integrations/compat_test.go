package integrations

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// TestDisabledEntries: a value Backstage starts with, although it cannot
// work, disables its entry instead of refusing the whole configuration. The
// entry keeps its host; every use of it fails with InvalidArgument naming
// the config path; a warning says so.
func TestDisabledEntries(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		host     string
		url      string
		wantPath string
		wantMsg  string
	}{
		{"github no base url for GHE", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com"}}}, "ghe.example.com", "https://ghe.example.com/acme/api", "integrations.github[0].apiBaseUrl", "https://ghe.example.com/api/v3"},
		{"github unparsable api", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com:99x/api"}}}, "ghe.example.com", "https://ghe.example.com/acme/api", "integrations.github[0].apiBaseUrl", "not a valid URL"},
		{"github relative api", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "/api/v3"}}}, "ghe.example.com", "https://ghe.example.com/acme/api", "integrations.github[0].apiBaseUrl", "https://"},
		{"github ftp raw", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", RawBaseURL: "ftp://ghe.example.com/raw"}}}, "ghe.example.com", "https://ghe.example.com/acme/api", "integrations.github[0].rawBaseUrl", "https://"},
		{"github api with query", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3?x=1"}}}, "ghe.example.com", "https://ghe.example.com/acme/api", "integrations.github[0].apiBaseUrl", "query"},
		{"github api port out of range", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com:99999/api/v3"}}}, "ghe.example.com", "https://ghe.example.com/acme/api", "integrations.github[0].apiBaseUrl", "between 1 and 65535"},
		{"github api dot segments", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/a/../api/v3"}}}, "ghe.example.com", "https://ghe.example.com/acme/api", "integrations.github[0].apiBaseUrl", ". or .."},
		{"github api blank", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "  "}}}, "ghe.example.com", "https://ghe.example.com/acme/api", "integrations.github[0].apiBaseUrl", "empty"},
		{"github api no host", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https:///api"}}}, "ghe.example.com", "https://ghe.example.com/acme/api", "integrations.github[0].apiBaseUrl", "no host"},
		{"gitlab ftp api", Config{GitLab: []GitLabConfig{{Host: "git.example.com", APIBaseURL: "ftp://git.example.com/api/v4"}}}, "git.example.com", "https://git.example.com/acme/api", "integrations.gitlab[0].apiBaseUrl", "https://"},
		{"bitbucket cloud bad token url", Config{BitbucketCloud: []BitbucketCloudConfig{{TokenURL: "::"}}}, "bitbucket.org", "https://bitbucket.org/ws/repo", "integrations.bitbucketCloud[0].tokenUrl", "not a valid URL"},
		// A real deployment's config: Backstage starts, only calls through
		// this entry fail.
		{"bitbucket server api not a URL", Config{BitbucketServer: []BitbucketServerConfig{{Host: "bbs.example.com", APIBaseURL: "bbs.example.com/rest"}}}, "bbs.example.com", "https://bbs.example.com/projects/P/repos/r", "integrations.bitbucketServer[0].apiBaseUrl", "https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRegistry(tt.cfg)
			if err != nil {
				t.Fatalf("NewRegistry() = %v; want the entry loaded, disabled", err)
			}
			in, ok := r.ByHost(tt.host)
			if !ok || in.Disabled == nil {
				t.Fatalf("ByHost(%s) = %+v, %v; want the integration, disabled", tt.host, in, ok)
			}
			if in.APIBaseURL != "" || in.RawBaseURL != "" {
				t.Errorf("disabled integration has APIBaseURL %q, RawBaseURL %q; want none", in.APIBaseURL, in.RawBaseURL)
			}
			ws := r.Warnings()
			if len(ws) != 1 || !strings.HasPrefix(ws[0], tt.wantPath+": ") || !strings.Contains(ws[0], tt.wantMsg) {
				t.Errorf("Warnings() = %q; want one at %s containing %q", ws, tt.wantPath, tt.wantMsg)
			}
			_, err = r.Parse(tt.url)
			if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tt.wantPath) {
				t.Errorf("Parse(%s) = %v; want InvalidArgument naming %s", tt.url, err, tt.wantPath)
			}
			if _, err := r.URL(Location{Host: tt.host, Owner: "o", Repo: "r"}); errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("URL() = %v; want InvalidArgument", err)
			}
			if _, err := in.FileAPIURL(Location{Owner: "o", Repo: "r", Ref: "main", Path: "a"}); errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), in.ConfigPath) {
				t.Errorf("FileAPIURL() = %v; want InvalidArgument naming %s", err, in.ConfigPath)
			}
			if r.AllowsAnonymous(tt.url) {
				t.Errorf("AllowsAnonymous(%s) = true for a disabled integration's host", tt.url)
			}
		})
	}
}

// TestDisabledStillRefusesWhatBackstageRefuses: what makes Backstage refuse
// to start still fails NewRegistry.
func TestDisabledStillRefusesWhatBackstageRefuses(t *testing.T) {
	for _, cfg := range []Config{
		{GitLab: []GitLabConfig{{Host: "git.example.com", APIBaseURL: "git.example.com/api/v4"}}}, // not a URL at all
		{GitLab: []GitLabConfig{{Host: "git.example.com"}}},                                       // no apiBaseUrl
		{GitLab: []GitLabConfig{{Host: "git.example.com", APIBaseURL: "https://git.example.com/api/v4", BaseURL: "git.example.com/gitlab"}}},
		{BitbucketServer: []BitbucketServerConfig{{Host: "BBS.example.com", APIBaseURL: "x"}}}, // invalid host
		{BitbucketCloud: []BitbucketCloudConfig{{Username: "me"}}},                             // username without secret
	} {
		if _, err := NewRegistry(cfg); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("NewRegistry(%+v) = %v; want InvalidArgument", cfg, err)
		}
	}
}

// TestGitHubEnterpriseWithoutAPIBaseURL: rawBaseUrl alone loads, with a
// warning that says to set apiBaseUrl.
func TestGitHubEnterpriseWithoutAPIBaseURL(t *testing.T) {
	r, err := NewRegistry(Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", RawBaseURL: "https://raw.ghe.example.com"}}})
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	in, _ := r.ByHost("ghe.example.com")
	if in.Disabled != nil || in.RawBaseURL != "https://raw.ghe.example.com" || in.APIBaseURL != "" {
		t.Errorf("integration = %+v; want enabled, raw only", in)
	}
	if ws := r.Warnings(); len(ws) != 1 || !strings.Contains(ws[0], "integrations.github[0].apiBaseUrl") || !strings.Contains(ws[0], "https://ghe.example.com/api/v3") {
		t.Errorf("Warnings() = %q; want one saying to set apiBaseUrl", ws)
	}
	if _, err := in.FileAPIURL(Location{Owner: "o", Repo: "r", Ref: "main", Path: "a"}); err == nil || !strings.Contains(err.Error(), "apiBaseUrl") {
		t.Errorf("FileAPIURL() = %v; want an error saying to set apiBaseUrl", err)
	}
	if u, err := in.RawURL(Location{Owner: "o", Repo: "r", Ref: "main", Path: "a"}); err != nil || !strings.HasPrefix(u, "https://raw.ghe.example.com/") {
		t.Errorf("RawURL() = %q, %v; want a raw URL", u, err)
	}
}

// TestGitLabBaseURLOnAnotherHost: a proxy or vanity domain in baseUrl
// loads; URLs are still matched on host, with baseUrl's sub-path; the API
// is apiBaseUrl.
func TestGitLabBaseURLOnAnotherHost(t *testing.T) {
	r, err := NewRegistry(Config{GitLab: []GitLabConfig{{Host: "git.example.com", APIBaseURL: "https://git.example.com/gitlab/api/v4", BaseURL: "https://code.example.org/gitlab/"}}})
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	in, _ := r.ByHost("git.example.com")
	if in.BaseURL != "https://git.example.com/gitlab" || in.APIBaseURL != "https://git.example.com/gitlab/api/v4" || in.GitLab.BaseURL != "https://code.example.org/gitlab" {
		t.Errorf("BaseURL %q, APIBaseURL %q, GitLab.BaseURL %q; want the host with baseUrl's path, the API as configured, baseUrl as configured", in.BaseURL, in.APIBaseURL, in.GitLab.BaseURL)
	}
	loc, err := r.Parse("https://git.example.com/gitlab/acme/api/-/blob/main/catalog-info.yaml")
	if err != nil || loc.Owner != "acme" || loc.Repo != "api" || loc.Path != "catalog-info.yaml" {
		t.Errorf("Parse() = %+v, %v; want acme/api catalog-info.yaml", loc, err)
	}
	if _, ok := r.ByHost("code.example.org"); ok {
		t.Error("ByHost(code.example.org) found an integration; want matching on host only")
	}
	if u, err := in.FileAPIURL(loc); err != nil || !strings.HasPrefix(u, "https://git.example.com/gitlab/api/v4/") {
		t.Errorf("FileAPIURL() = %q, %v; want the API on apiBaseUrl", u, err)
	}
	if ws := r.Warnings(); len(ws) != 0 {
		t.Errorf("Warnings() = %q; want none", ws)
	}
}

// TestUnsupportedSections: a URL on a host of an unsupported section says
// which section would serve it.
func TestUnsupportedSections(t *testing.T) {
	r, err := NewRegistry(Config{Unsupported: []UnsupportedEntry{
		{Section: "azure", Path: "integrations.azure[0]", Host: "dev.azure.com"},
		{Section: "gerrit", Path: "integrations.gerrit[0]", Host: "Gerrit.Example.com:443"},
		{Section: "awsS3", Path: "integrations.awsS3[0]", Host: "amazonaws.com"},
		{Section: "bitbucket", Path: "integrations.bitbucket[0]", Host: "bitbucket.example.net"},
		{Section: "gitea", Path: "integrations.gitea[0]", Host: "not a host"},
	}})
	if err != nil {
		t.Fatalf("NewRegistry() = %v", err)
	}
	tests := []struct{ url, want string }{
		{"https://dev.azure.com/org/project/_git/repo", "integrations.azure[0]"},
		{"https://gerrit.example.com/plugins/gitiles/x", "integrations.gerrit[0]"},
		{"https://bucket.s3.amazonaws.com/key", "integrations.awsS3[0]"},
		{"https://bitbucket.example.net/projects/P/repos/r", "integrations.bitbucketServer"},
	}
	for _, tt := range tests {
		_, err := r.Parse(tt.url)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v; want InvalidArgument naming %s", tt.url, err, tt.want)
		}
	}
	if _, ok := r.Unsupported("other.example.com"); ok {
		t.Error("Unsupported(other.example.com) = true")
	}
	_, err = r.Parse("https://other.example.com/a/b")
	if err == nil || strings.Contains(err.Error(), "does not support") {
		t.Errorf("Parse(other host) = %v; want the plain no-integration error", err)
	}
}

// TestRegistryWarnHook: with RegistryOptions.Warn, warnings go to the hook
// and not to Registry.Warnings, so that they are reported once.
func TestRegistryWarnHook(t *testing.T) {
	var got []string
	r, err := NewRegistryWith(Config{BitbucketCloud: []BitbucketCloudConfig{{Username: "me", AppPassword: NewSecret("pw")}}},
		&RegistryOptions{Warn: func(path, msg string) { got = append(got, path+" | "+msg) }})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"integrations.bitbucketCloud[0].appPassword | " + AppPasswordWarning}; !slices.Equal(got, want) {
		t.Errorf("Warn got %q; want %q", got, want)
	}
	if ws := r.Warnings(); len(ws) != 0 {
		t.Errorf("Warnings() = %q; want none (they went to Warn)", ws)
	}
}

// TestGitLabRetry validates integrations.gitlab[].retry.
func TestGitLabRetry(t *testing.T) {
	r, err := NewRegistry(Config{GitLab: []GitLabConfig{{Host: "gitlab.com", Retry: &GitLabRetry{MaxRetries: 2, RetryStatusCodes: []int{429, 502}}}}})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := r.ByHost("gitlab.com")
	if rt := in.GitLab.Retry; rt == nil || rt.MaxRetries != 2 || !slices.Equal(rt.RetryStatusCodes, []int{429, 502}) || rt.MaxAPIRequestsPerMinute != -1 {
		t.Errorf("Retry = %+v; want 2 retries on 429, 502, no throttling", rt)
	}
	_, err = NewRegistry(Config{GitLab: []GitLabConfig{{Host: "gitlab.com", Retry: &GitLabRetry{MaxRetries: -1, RetryStatusCodes: []int{42}}}}})
	var paths []string
	for _, fe := range FieldErrors(err) {
		paths = append(paths, fe.Path)
	}
	if want := []string{"integrations.gitlab[0].retry.maxRetries", "integrations.gitlab[0].retry.retryStatusCodes[0]"}; !slices.Equal(paths, want) {
		t.Errorf("problems at %q; want %q", paths, want)
	}
	var ce *errcode.Error
	if !errors.As(err, &ce) {
		t.Errorf("err = %v; want an *errcode.Error", err)
	}
}
