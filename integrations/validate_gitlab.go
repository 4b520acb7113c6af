package integrations

import (
	"fmt"
	"net/url"
	"strings"
)

func (v *validator) gitlab(i int, c GitLabConfig) *Integration {
	entry := fmt.Sprintf("integrations.gitlab[%d]", i)
	host, hostOK := v.host(entry, c.Host, "", "gitlab.example.com")
	var disabled error
	// Backstage refuses to start when apiBaseUrl or baseUrl is not a URL
	// at all; scmkit's stricter rules (http or https, no user name, no
	// query) disable the entry instead.
	check := func(key, raw string) (string, *url.URL, bool) {
		trimmed, u, msg := urlProblem(key, raw)
		switch {
		case msg == "":
			return trimmed, u, true
		case !backstageURL(raw):
			v.add(entry+"."+key, "%s", msg)
			return "", nil, false
		case disabled == nil:
			disabled = v.disable(entry, entry+"."+key, msg)
		}
		return "", nil, true
	}
	api, _, apiOK := check("apiBaseUrl", c.APIBaseURL)
	if c.APIBaseURL == "" {
		switch {
		case host == GitLabHost:
			api = GitLabAPIBaseURL
		case hostOK:
			v.add(entry+".apiBaseUrl", "apiBaseUrl is required for %s (only gitlab.com has a default); usually https://%s/api/v4", quote(host), host)
			apiOK = false
		}
	}
	configured, baseURL, baseOK := check("baseUrl", c.BaseURL)
	base := ""
	switch {
	case !hostOK || !baseOK:
	case baseURL == nil || host == GitLabHost:
		// As in Backstage, gitlab.com has no sub-path.
		scheme := "https"
		if baseURL != nil {
			scheme = baseURL.Scheme
		}
		base = scheme + "://" + host
	default:
		// The web URLs this integration parses and builds are on its
		// host; baseUrl gives their scheme and the instance's sub-path,
		// even when it names another host (a proxy or vanity domain in
		// front of the instance).
		base = baseURL.Scheme + "://" + host + strings.TrimRight(baseURL.EscapedPath(), "/")
	}
	if configured == "" {
		configured = base
	}
	if disabled != nil {
		api = ""
	}
	c.Host, c.APIBaseURL, c.BaseURL = host, api, configured
	c.Token = trimSecret(c.Token)
	c.Retry = v.gitlabRetry(entry+".retry", c.Retry)
	c.Credentials = v.scoped(entry, GitLab, c.Credentials)
	if !hostOK || !apiOK || !baseOK {
		return nil
	}
	return &Integration{Kind: GitLab, Host: host, APIBaseURL: api, BaseURL: base, ConfigPath: entry, GitLab: &c, Disabled: disabled}
}

// backstageURL reports whether Backstage's URL check (the WHATWG URL
// parser) would accept s, approximately: it needs a scheme.
func backstageURL(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	return err == nil && u.Scheme != ""
}

// gitlabRetry validates and copies integrations.gitlab[].retry.
func (v *validator) gitlabRetry(path string, r *GitLabRetry) *GitLabRetry {
	if r == nil {
		return nil
	}
	out := *r
	if out.MaxRetries < 0 {
		v.add(path+".maxRetries", "maxRetries must be 0 or more, got %d", out.MaxRetries)
	}
	out.RetryStatusCodes = append([]int(nil), r.RetryStatusCodes...)
	for k, code := range out.RetryStatusCodes {
		if code < 100 || code > 599 {
			v.add(fmt.Sprintf("%s.retryStatusCodes[%d]", path, k), "%d is not an HTTP status code (100-599)", code)
		}
	}
	if out.MaxAPIRequestsPerMinute == 0 {
		out.MaxAPIRequestsPerMinute = -1
	}
	return &out
}
