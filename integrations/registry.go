package integrations

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
	// BaseURL is the web base URL without a trailing slash: "https://HOST",
	// plus the sub-path of a self-managed GitLab ("https://host/gitlab").
	BaseURL string
	// ConfigPath says where the entry came from: "integrations.github[0]",
	// or "integrations.github (default github.com)" for an implicit one.
	ConfigPath string

	// Exactly one of these is set, matching Kind; it is the entry with its
	// defaults applied.
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
	// /-/tree/, a path ending in "/"), false for a file or unknown.
	Tree bool
}

// Registry knows every configured host and what its URLs mean. Build one
// with [NewRegistry]; the zero value, like an empty one, knows the public
// hosts github.com, gitlab.com and bitbucket.org. A Registry is immutable
// and safe for concurrent use.
type Registry struct {
	list []*Integration
}
