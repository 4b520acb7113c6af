package integrations

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
)

func (v *validator) github(i int, c GitHubConfig) *Integration {
	entry := fmt.Sprintf("integrations.github[%d]", i)
	host, hostOK := v.host(entry, c.Host, GitHubHost, "")
	var disabled error
	api, apiURL := v.lenientURL(entry, "apiBaseUrl", c.APIBaseURL, &disabled)
	raw, _ := v.lenientURL(entry, "rawBaseUrl", c.RawBaseURL, &disabled)
	if host == GitHubHost {
		if c.APIBaseURL == "" {
			api = GitHubAPIBaseURL
		}
		if c.RawBaseURL == "" {
			raw = GitHubRawBaseURL
		}
	} else if hostOK && disabled == nil && c.APIBaseURL == "" {
		if c.RawBaseURL == "" {
			disabled = v.disable(entry, entry+".apiBaseUrl", fmt.Sprintf("%s is not github.com, so there is no default: set apiBaseUrl (%s) or rawBaseUrl", quote(host), gitHubAPIAdvice(host)))
		} else {
			v.warn(entry+".apiBaseUrl", fmt.Sprintf("not set: only raw file reads through rawBaseUrl can work; every GitHub API operation fails until apiBaseUrl is set (%s)", gitHubAPIAdvice(host)))
		}
	}
	if disabled != nil {
		api, raw, apiURL = "", "", nil
	}
	c.Host, c.APIBaseURL, c.RawBaseURL = host, api, raw
	c.Token = trimSecret(c.Token)
	c.Apps = v.githubApps(entry, c.Apps)
	c.Credentials = v.scoped(entry, GitHub, c.Credentials)
	if !hostOK {
		return nil
	}
	return &Integration{Kind: GitHub, Host: host, APIBaseURL: api, RawBaseURL: raw,
		BaseURL: webBase(host, apiURL), ConfigPath: entry, GitHub: &c, Disabled: disabled}
}

// gitHubAPIAdvice says where the REST API of a GitHub host usually is:
// https://api.SUBDOMAIN.ghe.com for GitHub Enterprise Cloud with data
// residency, https://HOST/api/v3 for GitHub Enterprise Server.
func gitHubAPIAdvice(host string) string {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	if strings.HasSuffix(name, ".ghe.com") {
		return "for GitHub Enterprise Cloud with data residency usually https://api." + host
	}
	return "for GitHub Enterprise Server usually https://" + host + "/api/v3"
}

func (v *validator) githubApps(entry string, apps []GitHubAppConfig) []GitHubAppConfig {
	if len(apps) == 0 {
		return nil
	}
	out := make([]GitHubAppConfig, len(apps))
	ids := map[int64]string{}
	for j, a := range apps {
		path := fmt.Sprintf("%s.apps[%d]", entry, j)
		switch {
		case a.AppID == 0:
			v.add(path+".appId", "appId is required: the App ID shown on the GitHub App's settings page")
		case a.AppID < 0:
			v.add(path+".appId", "appId %d must be a positive number: the App ID shown on the GitHub App's settings page", a.AppID)
		case ids[a.AppID] != "":
			v.add(path+".appId", "app %d is already configured at %s", a.AppID, ids[a.AppID])
		default:
			ids[a.AppID] = path
		}
		key := strings.TrimSpace(strings.ReplaceAll(a.PrivateKey.Reveal(), `\n`, "\n"))
		if msg := rsaKeyProblem(key); msg != "" {
			v.add(path+".privateKey", "%s", msg)
		}
		a.PrivateKey = NewSecret(key)
		switch {
		case a.ClientID != "" && a.ClientSecret.IsZero():
			v.add(path+".clientSecret", "clientId is set but clientSecret is not; set both (for user sign-in) or neither")
		case a.ClientID == "" && !a.ClientSecret.IsZero():
			v.add(path+".clientId", "clientSecret is set but clientId is not; set both (for user sign-in) or neither")
		}
		if a.AllowedInstallationOwners != nil {
			owners := make([]string, len(a.AllowedInstallationOwners))
			for k, o := range a.AllowedInstallationOwners {
				owners[k] = strings.TrimSpace(o)
				if owners[k] == "" {
					v.add(fmt.Sprintf("%s.allowedInstallationOwners[%d]", path, k), "owner is empty")
				}
			}
			a.AllowedInstallationOwners = owners
		}
		out[j] = a
	}
	return out
}

// rsaKeyProblem says why key is not a PEM-encoded RSA private key (PKCS#1
// or PKCS#8), or returns "". The message never quotes the key.
func rsaKeyProblem(key string) string {
	const help = "; paste the private key downloaded from the GitHub App's settings page (-----BEGIN RSA PRIVATE KEY-----)"
	if key == "" {
		return "privateKey is required" + help
	}
	block, _ := pem.Decode([]byte(key))
	if block == nil {
		return "privateKey is not PEM-encoded" + help
	}
	if _, enc := block.Headers["Proc-Type"]; enc {
		return "privateKey is encrypted; GitHub Apps need an unencrypted key" + help
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return "privateKey is not a valid PKCS#1 RSA private key; check that the whole key was copied" + help
		}
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return "privateKey is not a valid PKCS#8 private key; check that the whole key was copied" + help
		}
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return fmt.Sprintf("privateKey is a %T key, not RSA; GitHub Apps use RSA keys", k)
		}
	default:
		return fmt.Sprintf("privateKey is a %q PEM block, not an RSA private key", block.Type) + help
	}
	return ""
}
