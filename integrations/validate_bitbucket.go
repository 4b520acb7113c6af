package integrations

import (
	"fmt"
	"net/url"
	"strings"
)

// AppPasswordWarning is the text of the warning for a Bitbucket Cloud
// entry that still uses an app password.
const AppPasswordWarning = "Atlassian removed Bitbucket Cloud app passwords on 2026-07-28; create an API token and set username (your Atlassian account email) and token instead of appPassword"

func (v *validator) bitbucketCloud(i int, c BitbucketCloudConfig) *Integration {
	entry := fmt.Sprintf("integrations.bitbucketCloud[%d]", i)
	host, hostOK := v.host(entry, c.Host, BitbucketCloudHost, "")
	// Backstage does not read apiBaseUrl or tokenUrl (scmkit's extensions
	// for tests): a bad value disables the entry, as for GitHub.
	var disabled error
	api, apiURL := v.lenientURL(entry, "apiBaseUrl", c.APIBaseURL, &disabled)
	tok, _ := v.lenientURL(entry, "tokenUrl", c.TokenURL, &disabled)
	if c.APIBaseURL == "" {
		api, apiURL = BitbucketCloudAPIURL, nil
	}
	if c.TokenURL == "" {
		tok = BitbucketCloudTokenURL
	}
	if disabled != nil {
		api, tok, apiURL = "", "", nil
	}
	c.Host, c.APIBaseURL, c.TokenURL = host, api, tok
	// As in Backstage: appPassword, clientId and clientSecret are trimmed,
	// token is not.
	c.AppPassword = trimSecret(c.AppPassword)
	c.ClientID = strings.TrimSpace(c.ClientID)
	c.ClientSecret = trimSecret(c.ClientSecret)
	switch {
	case c.Username != "" && c.Token.IsZero() && c.AppPassword.IsZero():
		v.add(entry+".username", "username is set but neither token nor appPassword is; add an Atlassian API token as token, or remove username to use token as an access token")
	case c.Username == "" && !c.AppPassword.IsZero():
		v.add(entry+".username", "appPassword needs username (the Bitbucket user name it belongs to)")
	case !c.AppPassword.IsZero():
		v.warn(entry+".appPassword", AppPasswordWarning)
	}
	switch {
	case c.ClientID != "" && c.ClientSecret.IsZero():
		v.add(entry+".clientSecret", "incomplete OAuth configuration: clientId is set but clientSecret is not; both are required")
	case c.ClientID == "" && !c.ClientSecret.IsZero():
		v.add(entry+".clientId", "incomplete OAuth configuration: clientSecret is set but clientId is not; both are required")
	}
	c.Credentials = v.scoped(entry, BitbucketCloud, c.Credentials)
	if !hostOK {
		return nil
	}
	return &Integration{Kind: BitbucketCloud, Host: host, APIBaseURL: api,
		BaseURL: webBase(host, apiURL), ConfigPath: entry, BitbucketCloud: &c, Disabled: disabled}
}

func (v *validator) bitbucketServer(i int, c BitbucketServerConfig) *Integration {
	entry := fmt.Sprintf("integrations.bitbucketServer[%d]", i)
	host, hostOK := v.host(entry, c.Host, "", "bitbucket.example.com")
	var disabled error
	api, apiURL := v.lenientURL(entry, "apiBaseUrl", c.APIBaseURL, &disabled)
	if c.APIBaseURL == "" && hostOK {
		api = "https://" + host + "/rest/api/1.0"
	}
	c.Host, c.APIBaseURL = host, api
	c.Token = trimSecret(c.Token)
	if c.Token.IsZero() {
		switch {
		case c.Username != "" && c.Password.IsZero():
			v.add(entry+".password", "username is set but password is not; set password, or a token instead")
		case c.Username == "" && !c.Password.IsZero():
			v.add(entry+".username", "password is set but username is not; set both, or a token instead")
		}
	}
	c.Credentials = v.scoped(entry, BitbucketServer, c.Credentials)
	if !hostOK {
		return nil
	}
	return &Integration{Kind: BitbucketServer, Host: host, APIBaseURL: api,
		BaseURL: bitbucketServerBase(host, apiURL), ConfigPath: entry, BitbucketServer: &c, Disabled: disabled}
}

// bitbucketServerBase derives the web base URL, with its context path,
// from apiBaseUrl when that is on the same host and ends in /rest/api/...:
// https://host/bitbucket/rest/api/1.0 gives https://host/bitbucket.
func bitbucketServerBase(host string, api *url.URL) string {
	if api == nil || NormalizeHost(api.Host) != host {
		return "https://" + host
	}
	p := strings.TrimRight(api.EscapedPath(), "/")
	for _, suffix := range []string{"/rest/api/1.0", "/rest/api/latest"} {
		if strings.HasSuffix(p, suffix) {
			return api.Scheme + "://" + host + strings.TrimSuffix(p, suffix)
		}
	}
	return api.Scheme + "://" + host
}
