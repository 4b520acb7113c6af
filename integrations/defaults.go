package integrations

// Public hosts and their fixed URLs.
const (
	GitHubHost             = "github.com"
	GitHubAPIBaseURL       = "https://api.github.com"
	GitHubRawBaseURL       = "https://raw.githubusercontent.com"
	GitLabHost             = "gitlab.com"
	GitLabAPIBaseURL       = "https://gitlab.com/api/v4"
	BitbucketCloudHost     = "bitbucket.org"
	BitbucketCloudAPIURL   = "https://api.bitbucket.org/2.0"
	BitbucketCloudTokenURL = "https://bitbucket.org/site/oauth2/access_token"
)

// defaultIntegrations returns fresh implicit entries, as for an empty
// config.
func defaultIntegrations() []*Integration {
	return []*Integration{defaultGitHub(), defaultGitLab(), defaultBitbucketCloud()}
}

func defaultGitHub() *Integration {
	return &Integration{
		Kind: GitHub, Host: GitHubHost, APIBaseURL: GitHubAPIBaseURL, RawBaseURL: GitHubRawBaseURL,
		BaseURL: "https://" + GitHubHost, ConfigPath: "integrations.github (default github.com)",
		GitHub: &GitHubConfig{Host: GitHubHost, APIBaseURL: GitHubAPIBaseURL, RawBaseURL: GitHubRawBaseURL},
	}
}

func defaultGitLab() *Integration {
	return &Integration{
		Kind: GitLab, Host: GitLabHost, APIBaseURL: GitLabAPIBaseURL, BaseURL: "https://" + GitLabHost,
		ConfigPath: "integrations.gitlab (default gitlab.com)",
		GitLab:     &GitLabConfig{Host: GitLabHost, APIBaseURL: GitLabAPIBaseURL, BaseURL: "https://" + GitLabHost},
	}
}

func defaultBitbucketCloud() *Integration {
	return &Integration{
		Kind: BitbucketCloud, Host: BitbucketCloudHost, APIBaseURL: BitbucketCloudAPIURL,
		BaseURL: "https://" + BitbucketCloudHost, ConfigPath: "integrations.bitbucketCloud (default bitbucket.org)",
		BitbucketCloud: &BitbucketCloudConfig{Host: BitbucketCloudHost, APIBaseURL: BitbucketCloudAPIURL, TokenURL: BitbucketCloudTokenURL},
	}
}
