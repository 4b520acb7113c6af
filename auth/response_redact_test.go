package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/internal/redact/redacttest"
)

// A Response (what Options.BackstageIdentity hooks and handlers pass
// around) prints and logs without its tokens under every verb and both
// slog handlers, by pointer, and nested under fmt; its JSON, the wire
// body, keeps them.
func TestResponseRedacts(t *testing.T) {
	const access, id, backstage = "gho_SECRETACCESS", "eyJ.SECRETID", "eyJ.SECRETBACKSTAGE"
	bi := &BackstageIdentity{Token: backstage, ExpiresInSeconds: 3600,
		Identity: BackstageUserRef{Type: "user", UserEntityRef: "user:default/alice", OwnershipEntityRefs: []string{"group:default/team"}}}
	r := Response{Profile: Profile{Email: "alice@example.com"},
		ProviderInfo:      ProviderBody{AccessToken: access, IDToken: id, Scope: "read:user", ExpiresInSeconds: 60},
		BackstageIdentity: bi}
	values := map[string]any{
		"Response": r, "*Response": &r, "ProviderBody": r.ProviderInfo, "BackstageIdentity": *bi, "*BackstageIdentity": bi,
		"struct holding a Response": struct{ R Response }{r}, "slice of Responses": []Response{r},
	}
	for name, v := range values {
		var shown []string
		for _, verb := range redacttest.Verbs {
			shown = append(shown, fmt.Sprintf(verb, v))
		}
		if !strings.Contains(name, " ") {
			// slog's JSON handler marshals a container with
			// encoding/json, whose output is the wire body.
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("response", "v", v)
			slog.New(slog.NewTextHandler(&buf, nil)).Info("response", "v", v)
			shown = append(shown, buf.String())
		}
		for _, out := range shown {
			for _, secret := range []string{access, id, backstage} {
				if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
					t.Errorf("%s shows a token: %s", name, out)
				}
			}
		}
	}
	if s := fmt.Sprint(r); !strings.Contains(s, "alice@example.com") || !strings.Contains(s, "user:default/alice") {
		t.Errorf("String = %s; want whose response it is", s)
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{access, id, backstage} {
		if !bytes.Contains(js, []byte(secret)) {
			t.Errorf("the JSON body lost a token: %s", js)
		}
	}
}
