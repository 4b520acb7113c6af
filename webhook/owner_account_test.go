package webhook

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/integrations"
)

// Regression (final review, session 22):
// the allowedInstallationOwners check runs only when
// the event names a repository: an installation's events without one
// (organization, membership, team, installation...) from an owner the app
// does not serve are accepted and recorded in the delivery store, though
// the package doc says the events of other owners are refused.
func TestOwnerlessEventOfOtherOwnerRefused(t *testing.T) {
	reg, err := integrations.NewRegistry(integrations.Config{
		GitHub: []integrations.GitHubConfig{{Host: "github.com", Apps: []integrations.GitHubAppConfig{{
			AppID: 1, ClientID: "Iv1.x", ClientSecret: integrations.NewSecret("cs"), PrivateKey: integrations.NewSecret(testKey),
			WebhookSecret: integrations.NewSecret(secret), AllowedInstallationOwners: []string{"acme"},
		}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(reg, "github.com", &Options{Deliveries: NewMemoryDeliveries(0, nil)})
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"another owner's installation", `{"action":"member_added","membership":{"user":{"login":"mallory"}},"organization":{"login":"evil-org"},"installation":{"id":99,"account":{"login":"evil-org"}}}`, false},
		{"another organization", `{"action":"member_added","organization":{"login":"evil-org"}}`, false},
		{"no owner at all", `{"action":"revoked","sender":{"login":"mallory"}}`, false},
		{"the app's owner", `{"action":"member_added","membership":{"user":{"login":"alice"}},"organization":{"login":"ACME"},"installation":{"id":7,"account":{"login":"ACME"}}}`, true},
	} {
		body := []byte(tc.body)
		h := githubHeaders(body, fmt.Sprint("ev", i))
		h.Set("X-GitHub-Event", "organization")
		_, err := r.Parse(t.Context(), h, body)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v; want accepted %v", tc.name, err, tc.ok)
		}
	}
}
