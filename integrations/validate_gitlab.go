package integrations

import (
	"fmt"
)

func (v *validator) gitlab(i int, c GitLabConfig) *Integration {
	entry := fmt.Sprintf("integrations.gitlab[%d]", i)
	var host string
	hostOK := false
	if c.Host == "" {
		v.add(entry+".host", "host is required, e.g. gitlab.example.com")
	} else {
		host, hostOK = v.host(entry, c.Host)
	}
	api, _, apiOK := v.baseURL(entry+".apiBaseUrl", "apiBaseUrl", c.APIBaseURL)
	if c.APIBaseURL == "" {
		switch {
		case host == GitLabHost:
			api = GitLabAPIBaseURL
		case hostOK:
			v.add(entry+".apiBaseUrl", "apiBaseUrl is required for %s (only gitlab.com has a default); usually https://%s/api/v4", quote(host), host)
			apiOK = false
		}
	}
	base, baseURL, baseOK := v.baseURL(entry+".baseUrl", "baseUrl", c.BaseURL)
	if c.BaseURL == "" && hostOK {
		base, baseOK = "https://"+host, true
	} else if baseOK && hostOK && NormalizeHost(baseURL.Host) != host {
		v.add(entry+".baseUrl", "baseUrl %s is not on host %s; baseUrl is the web address of this GitLab, e.g. https://%s/gitlab for an instance under /gitlab", quote(base), quote(host), host)
		baseOK = false
	}
	if baseOK && host == GitLabHost && baseURL != nil {
		// As in Backstage, gitlab.com has no sub-path.
		base = baseURL.Scheme + "://" + host
	}
	c.Host, c.APIBaseURL, c.BaseURL = host, api, base
	c.Token = trimSecret(c.Token)
	c.Credentials = v.scoped(entry, GitLab, c.Credentials)
	if !hostOK || !apiOK || !baseOK {
		return nil
	}
	return &Integration{Kind: GitLab, Host: host, APIBaseURL: api, BaseURL: base, ConfigPath: entry, GitLab: &c}
}
