package integrations

import (
	"fmt"
	"strings"
)

// NewRegistry validates cfg, applies Backstage's defaults and appends the
// implicit entries for github.com, gitlab.com and bitbucket.org where they
// are not configured. It reports every problem at once, each as a
// *FieldError with its config path.
func NewRegistry(cfg Config) (*Registry, error) {
	// NOTE(bootstrap): minimal version; full validation lands with the
	// integrations work.
	r := &Registry{}
	for i, c := range cfg.GitHub {
		c := c
		if c.Host == "" {
			c.Host = GitHubHost
		}
		c.Host = NormalizeHost(c.Host)
		if c.Host == GitHubHost {
			if c.APIBaseURL == "" {
				c.APIBaseURL = GitHubAPIBaseURL
			}
			if c.RawBaseURL == "" {
				c.RawBaseURL = GitHubRawBaseURL
			}
		}
		c.APIBaseURL = strings.TrimRight(c.APIBaseURL, "/")
		c.RawBaseURL = strings.TrimRight(c.RawBaseURL, "/")
		r.list = append(r.list, &Integration{Kind: GitHub, Host: c.Host, APIBaseURL: c.APIBaseURL, RawBaseURL: c.RawBaseURL,
			BaseURL: "https://" + c.Host, ConfigPath: fmt.Sprintf("integrations.github[%d]", i), GitHub: &c})
	}
	if _, ok := r.ByHost(GitHubHost); !ok {
		r.list = append(r.list, defaultGitHub())
	}
	return r, nil
}
