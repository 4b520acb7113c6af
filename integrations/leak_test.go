package integrations

import (
	"fmt"
	"strings"
	"testing"
)

// TestMessagesNeverQuoteASecretInAURLOrHost: a token pasted into a URL's
// query or fragment (?private_token=, #access_token=) or into a host as
// user information never appears in NewRegistry's errors or warnings, or
// in anything the registry prints; the message still names the key and
// shows the rest of the value.
func TestMessagesNeverQuoteASecretInAURLOrHost(t *testing.T) {
	const sec = "glpat-SuperSecretValue123"
	tests := []struct {
		name string
		cfg  Config
		want string // in the message
	}{
		{"apiBaseUrl query", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3?private_token=" + sec}}},
			`apiBaseUrl "https://ghe.example.com/api/v3" must not have a query or fragment`},
		{"apiBaseUrl fragment", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3#access_token=" + sec}}},
			`apiBaseUrl "https://ghe.example.com/api/v3" must not have a query or fragment`},
		{"tokenUrl query", Config{BitbucketCloud: []BitbucketCloudConfig{{TokenURL: "https://bitbucket.org/site/oauth2/access_token?client_secret=" + sec}}},
			`tokenUrl "https://bitbucket.org/site/oauth2/access_token" must not have a query or fragment`},
		{"rawBaseUrl query and bad port", Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3", RawBaseURL: "https://raw.example.com:99999/?t=" + sec}}},
			"rawBaseUrl"},
		{"host with user information", Config{GitHub: []GitHubConfig{{Host: "x-access-token:" + sec + "@ghe.example.com"}}},
			"it must not include a user name"},
		{"host as a URL with user information", Config{GitLab: []GitLabConfig{{Host: "https://oauth2:" + sec + "@gitlab.example.com/api/v4", APIBaseURL: "https://gitlab.example.com/api/v4"}}},
			"is not a valid host"},
		{"host with a query", Config{GitLab: []GitLabConfig{{Host: "gitlab.example.com/?private_token=" + sec, APIBaseURL: "https://gitlab.example.com/api/v4"}}},
			"is not a valid host"},
		{"reading.allow host with user information", Config{ReadingAllow: []ReadingAllow{{Host: "u:" + sec + "@docs.example.com"}}},
			"is not a valid host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := NewRegistry(tt.cfg)
			var all []string
			if err != nil {
				all = append(all, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
			}
			if reg != nil {
				all = append(all, reg.Warnings()...)
				for _, in := range reg.List() {
					if in.Disabled != nil {
						all = append(all, in.Disabled.Error())
					}
				}
			}
			text := strings.Join(all, "\n")
			if strings.Contains(text, sec) {
				t.Errorf("the secret appears in:\n%s", text)
			}
			if !strings.Contains(text, tt.want) {
				t.Errorf("no message contains %q:\n%s", tt.want, text)
			}
		})
	}
}
