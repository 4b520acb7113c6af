package integrations

import "strings"

// Integration is one validated, normalised integration: a configured entry
// with its defaults applied, or an implicit default for a public host.
type Integration struct {
	Kind Kind
	// Host is the web host, lower-case, with a non-default port kept and
	// :443/:80 dropped, e.g. "github.com", "git.example.com:8443".
	Host string
	// APIBaseURL is the REST API base URL without a trailing slash, e.g.
	// "https://api.github.com", "https://ghe.example.com/api/v3",
	// "https://git.example.com/gitlab/api/v4", "https://api.bitbucket.org/2.0",
	// "https://bb.example.com/rest/api/1.0". May be empty for a GitHub entry
	// that has only RawBaseURL.
	APIBaseURL string
	// RawBaseURL is GitHub's raw-content base URL, or "".
	RawBaseURL string
	// BaseURL is the web base URL without a trailing slash: "https://HOST"
	// (or "http://HOST" when the API base URL on the same host is plain
	// http), plus the sub-path of a self-managed GitLab
	// ("https://host/gitlab") or the context path of a Bitbucket Server,
	// taken from its apiBaseUrl ("https://host/bitbucket").
	BaseURL string
	// ConfigPath says where the entry came from: "integrations.github[0]",
	// or "integrations.github (default github.com)" for an implicit one.
	ConfigPath string

	// Disabled, when not nil, says why the entry cannot be used: it has a
	// value that Backstage accepts at start-up but that cannot work, such
	// as an apiBaseUrl that is not a URL. The entry keeps its host, so its
	// URLs are neither read anonymously nor sent elsewhere, and every
	// operation through it (Parse, URL, the URL builders, the scm client)
	// fails with this error: an *errcode.Error with code InvalidArgument
	// whose message names the config path. [NewRegistry] reports it as a
	// warning.
	Disabled error

	// Exactly one of these is set, matching Kind; it is the entry with its
	// defaults applied, tokens trimmed as Backstage trims them and a GitHub
	// App's private key with literal \n sequences turned into newlines.
	GitHub          *GitHubConfig
	GitLab          *GitLabConfig
	BitbucketCloud  *BitbucketCloudConfig
	BitbucketServer *BitbucketServerConfig
}

// Location is what a URL on a known host points at.
type Location struct {
	Kind Kind
	Host string // the integration's host
	// Owner is the GitHub org or user, the GitLab namespace path (nested
	// groups joined by "/"), the Bitbucket Cloud workspace, or the
	// Bitbucket Server project key (as written in the URL; keys are
	// case-insensitive). "~user" for a Bitbucket Server personal repo.
	Owner string
	Repo  string // repository name or slug; "" for an owner-level URL
	Ref   string // branch, tag or commit; "" means the default branch
	Path  string // slash-separated, no leading or trailing slash; "" is the repo root
	// Tree is true when the URL names a directory (GitHub /tree/, GitLab
	// /-/tree/, a path ending in "/", the repository root), false for a
	// file or unknown, and for an owner-level URL.
	Tree bool
}

// Registry knows every configured host and what its URLs mean. Build one
// with [NewRegistry]; the zero value, like an empty one, knows the public
// hosts github.com, gitlab.com and bitbucket.org. A Registry is immutable
// and safe for concurrent use.
type Registry struct {
	list        []*Integration
	allow       []ReadingAllow
	rules       []allowRule
	warnings    []string
	unsupported []UnsupportedEntry
}

// Warnings returns messages about settings that NewRegistry accepted but
// that deserve attention (a deprecated Bitbucket Cloud app password, a
// disabled entry), each prefixed with its config path, e.g.
// "integrations.bitbucketCloud[0].appPassword: Atlassian removed ...".
// Embedders should log them once at start-up. A registry made by
// [NewRegistryWith] with [RegistryOptions.Warn] set has none: they went to
// that function instead (config.Load does this, so that they are reported
// once, in config.Config.Warnings, with the file they come from).
func (r *Registry) Warnings() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.warnings...)
}

// Unsupported returns the entry of an integration section scmkit does not
// serve (see [Config.Unsupported]) whose host is host, if any. Hosts
// compare as in [Registry.ByHost]; an entry whose host is a service domain
// (awsS3's amazonaws.com, azureBlobStorage's blob.core.windows.net) also
// matches its sub-domains.
func (r *Registry) Unsupported(host string) (UnsupportedEntry, bool) {
	if r == nil {
		return UnsupportedEntry{}, false
	}
	host = NormalizeHost(host)
	for _, u := range r.unsupported {
		if u.Host == "" {
			continue
		}
		if u.Host == host || (u.Section == "awsS3" || u.Section == "azureBlobStorage") && strings.HasSuffix(host, "."+u.Host) {
			return u, true
		}
	}
	return UnsupportedEntry{}, false
}

// ReadingAllow returns a copy of the validated backend.reading.allow
// entries (paths cleaned).
func (r *Registry) ReadingAllow() []ReadingAllow {
	if r == nil {
		return nil
	}
	out := make([]ReadingAllow, len(r.allow))
	for i, a := range r.allow {
		out[i] = ReadingAllow{Host: a.Host, Paths: append([]string(nil), a.Paths...)}
	}
	return out
}
