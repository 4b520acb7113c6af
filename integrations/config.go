package integrations

// Kind names a provider.
type Kind string

// The providers scmkit knows. The values are the keys of Backstage's
// integrations: section.
const (
	GitHub          Kind = "github"
	GitLab          Kind = "gitlab"
	BitbucketCloud  Kind = "bitbucketCloud"
	BitbucketServer Kind = "bitbucketServer"
)

// Config is the integrations: section of a Backstage app-config.yaml, plus
// backend.reading.allow. The config package fills it from YAML; embedders
// may also build it in code. Field comments give the YAML key.
type Config struct {
	GitHub          []GitHubConfig          // integrations.github[]
	GitLab          []GitLabConfig          // integrations.gitlab[]
	BitbucketCloud  []BitbucketCloudConfig  // integrations.bitbucketCloud[]
	BitbucketServer []BitbucketServerConfig // integrations.bitbucketServer[]

	// ReadingAllow is backend.reading.allow: hosts that may be read
	// anonymously although no integration is configured for them.
	ReadingAllow []ReadingAllow

	// Unsupported lists the entries of Backstage integration sections
	// scmkit does not serve (integrations.azure, awsS3, gerrit, ...). They
	// are not used; the registry only remembers their hosts, so that a
	// URL on one of them is refused with an error naming the section
	// that would serve it in Backstage.
	Unsupported []UnsupportedEntry
}

// UnsupportedEntry is one entry of a Backstage integration section that
// scmkit does not serve.
type UnsupportedEntry struct {
	// Section is the key under integrations, e.g. "azure", "gerrit" or
	// the removed "bitbucket".
	Section string
	// Path is the entry's config path, e.g. "integrations.azure[0]".
	Path string
	// Host is the host the entry serves in Backstage (its host key, or
	// the section's default such as dev.azure.com); "" if unknown.
	Host string
}

// ReadingAllow is one entry of backend.reading.allow.
type ReadingAllow struct {
	// Host is a lower-case host name or IP address, or a wildcard
	// "*.example.com" that matches every sub-domain at any depth (not the
	// apex), optionally followed by ":port" or a range ":low-high". Without
	// a port only the scheme's default port matches.
	Host string // host
	// Paths, if set, restricts reading to URLs whose normalised path
	// matches one of these, as in Backstage: a path without a trailing
	// slash matches itself and what lies below it ("/docs" allows "/docs"
	// and "/docs/a", not "/docsx"); a path ending in "/" matches only what
	// lies below that directory ("/docs/" allows "/docs/" and "/docs/a",
	// not "/docs"). Empty means every path.
	Paths []string // paths
}

// ScopedCredential is scmkit's extension to Backstage's config: a credential
// that applies only to some owners (GitHub orgs and users, GitLab groups,
// Bitbucket workspaces or project keys) on its host. Where several match,
// the most specific owner wins (for GitLab, the longest group path); the
// entry's own token remains the host-wide fallback.
type ScopedCredential struct {
	Owners   []string // owners
	Token    Secret   // token
	Username string   // username (Basic auth, Bitbucket)
	Password Secret   // password (Bitbucket Server Basic auth)
}

// GitHubConfig is one entry of integrations.github.
type GitHubConfig struct {
	Host        string             // host; default github.com
	APIBaseURL  string             // apiBaseUrl; default https://api.github.com for github.com only
	RawBaseURL  string             // rawBaseUrl; default https://raw.githubusercontent.com for github.com only
	Token       Secret             // token
	Apps        []GitHubAppConfig  // apps
	Credentials []ScopedCredential // credentials (scmkit extension)
}

// GitHubAppConfig is one entry of integrations.github[].apps.
type GitHubAppConfig struct {
	AppID                     int64    // appId (number or numeric string)
	PrivateKey                Secret   // privateKey (PEM RSA; literal \n sequences become newlines)
	ClientID                  string   // clientId
	ClientSecret              Secret   // clientSecret
	WebhookSecret             Secret   // webhookSecret
	AllowedInstallationOwners []string // allowedInstallationOwners (case-insensitive)
	PublicAccess              bool     // publicAccess
}

// GitLabConfig is one entry of integrations.gitlab.
type GitLabConfig struct {
	Host       string // host
	APIBaseURL string // apiBaseUrl; default https://gitlab.com/api/v4 for gitlab.com only
	// BaseURL is the web address of the instance; default https://HOST.
	// Its path is the instance's sub-path. It may be on another host than
	// Host (a proxy or vanity domain in front of the instance): URLs are
	// still matched on Host.
	BaseURL     string             // baseUrl
	Token       Secret             // token
	Retry       *GitLabRetry       // retry
	Credentials []ScopedCredential // credentials (scmkit extension)
}

// GitLabRetry is integrations.gitlab[].retry, Backstage's retry policy for
// one GitLab instance. scmkit honours MaxRetries (the number of retries
// after the first attempt; 0 disables retrying for this host) and
// RetryStatusCodes (when set, only those statuses are retried, waiting as
// the server says; otherwise 429 and 5xx); MaxAPIRequestsPerMinute is
// validated and kept for embedders but not otherwise used.
type GitLabRetry struct {
	MaxRetries              int   // maxRetries; Backstage's default 0
	RetryStatusCodes        []int // retryStatusCodes
	MaxAPIRequestsPerMinute int   // maxApiRequestsPerMinute; -1 (default) is unlimited
}

// BitbucketCloudConfig is one entry of integrations.bitbucketCloud.
//
// Authentication, in Backstage's order of precedence: ClientID+ClientSecret
// (an OAuth consumer, client-credentials grant); Username+Token (an
// Atlassian API token, Basic); Token alone (a repository, project or
// workspace access token, Bearer); Username+AppPassword (legacy: Atlassian
// removed app passwords on 2026-07-28, accepted with a warning).
type BitbucketCloudConfig struct {
	// Host is bitbucket.org in Backstage, where it cannot be changed;
	// scmkit lets tests point it elsewhere.
	Host string // host; default bitbucket.org
	// APIBaseURL is https://api.bitbucket.org/2.0 in Backstage; scmkit
	// lets tests point it elsewhere.
	APIBaseURL string // apiBaseUrl
	// TokenURL is the OAuth token endpoint for ClientID/ClientSecret;
	// default https://bitbucket.org/site/oauth2/access_token.
	TokenURL     string             // tokenUrl (scmkit extension)
	Username     string             // username
	Token        Secret             // token
	AppPassword  Secret             // appPassword (legacy)
	ClientID     string             // clientId
	ClientSecret Secret             // clientSecret
	Credentials  []ScopedCredential // credentials (scmkit extension)
}

// BitbucketServerConfig is one entry of integrations.bitbucketServer.
type BitbucketServerConfig struct {
	Host        string             // host (required)
	APIBaseURL  string             // apiBaseUrl; default https://HOST/rest/api/1.0
	Token       Secret             // token (Bearer); wins over username+password
	Username    string             // username
	Password    Secret             // password
	Credentials []ScopedCredential // credentials (scmkit extension)
}
