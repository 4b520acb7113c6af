package integrations

import (
	"strings"
	"testing"
)

// GitHub Enterprise Cloud with data residency (SUBDOMAIN.ghe.com) serves
// its REST API at https://api.SUBDOMAIN.ghe.com, not under /api/v3: the
// advice for a missing apiBaseUrl names the right one.
func TestGitHubAPIBaseURLAdvice(t *testing.T) {
	for _, tt := range []struct {
		cfg  GitHubConfig
		want string
	}{
		{GitHubConfig{Host: "acme.ghe.com"}, "https://api.acme.ghe.com"},
		{GitHubConfig{Host: "acme.ghe.com", RawBaseURL: "https://raw.acme.ghe.com"}, "https://api.acme.ghe.com"},
		{GitHubConfig{Host: "ghe.example.com"}, "https://ghe.example.com/api/v3"},
	} {
		r, err := NewRegistry(Config{GitHub: []GitHubConfig{tt.cfg}})
		if err != nil {
			t.Fatalf("NewRegistry(%+v) = %v", tt.cfg, err)
		}
		msg := strings.Join(r.Warnings(), "\n")
		if !strings.Contains(msg, "usually "+tt.want+")") {
			t.Errorf("warnings for %+v = %q; want advice naming %s", tt.cfg, msg, tt.want)
		}
		if tt.cfg.Host == "acme.ghe.com" && strings.Contains(msg, "/api/v3") {
			t.Errorf("warnings for %+v = %q; advise /api/v3, which GHE.com does not serve", tt.cfg, msg)
		}
	}
}
