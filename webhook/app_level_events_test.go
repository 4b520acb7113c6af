package webhook

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/integrations"
)

// Regression (second review, session 22):
// app-level events name no repository, installation or
// organization by design (GitHub's ping when the App's webhook is set up,
// github_app_authorization when a user revokes the App): they belong to
// no owner, so allowedInstallationOwners cannot leave them out, yet they
// are now refused (400): GitHub shows the App's webhook as failing, and a
// portal never hears that a user revoked it.
func TestAppLevelEventsAccepted(t *testing.T) {
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
	for i, tc := range []struct{ event, body string }{
		{"ping", `{"zen":"Keep it logically awesome.","hook_id":109948940,"hook":{"type":"App","id":109948940,"name":"web","active":true,"events":["push"],"config":{"content_type":"json","insecure_ssl":"0","url":"https://portal.example.com/webhooks"},"app_id":1}}`},
		{"github_app_authorization", `{"action":"revoked","sender":{"login":"alice","id":1,"type":"User"}}`},
	} {
		body := []byte(tc.body)
		h := githubHeaders(body, fmt.Sprint("app-ev", i))
		h.Set("X-GitHub-Event", tc.event)
		if _, err := r.Parse(t.Context(), h, body); err != nil {
			t.Errorf("%s: %v", tc.event, err)
		}
	}
}
