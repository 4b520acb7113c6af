package scm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// TestPerUserViewRedactsUnderEveryVerb: a per-user view holds the user's
// sources (a refresh token among them); no verb, no JSON and no slog
// record of the view, of its UserCredentials, or of a struct embedding
// the view shows a secret.
func TestPerUserViewRedactsUnderEveryVerb(t *testing.T) {
	cfg := integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: "github.com", Token: integrations.NewSecret("ghp_configsecret")}}}
	c := adaptertest.NewClient(t, cfg, nil)
	tok := &oauth2.Token{AccessToken: "ghu_accesssecret", RefreshToken: "ghr_refreshsecret", Expiry: time.Now().Add(time.Hour)}
	users := scm.UserCredentials{
		"github.com":     credentials.UserSource(&oauth2.Config{ClientSecret: "web-client-secret"}, tok, nil),
		"gitlab.example": credentials.FromOAuth2(oauth2.StaticTokenSource(tok)),
	}
	view := c.ForUser(users, &scm.UserOptions{RequireUserForWrites: true})
	type embedding struct {
		name string
		view *scm.Client
		u    scm.UserCredentials
	}
	values := map[string]any{
		"view":               view,
		"client":             c,
		"UserCredentials":    users,
		"unexported fields":  embedding{"x", view, users},
		"*unexported fields": &embedding{"x", view, users},
		"exported fields":    struct{ V *scm.Client }{view},
	}
	secrets := []string{"ghu_accesssecret", "ghr_refreshsecret", "web-client-secret", "ghp_configsecret"}
	for name, v := range values {
		var out []string
		for _, verb := range []string{"%s", "%q", "%v", "%+v", "%#v", "%x", "%X", "%d"} {
			out = append(out, verb+": "+fmt.Sprintf(verb, v))
		}
		if js, err := json.Marshal(v); err == nil {
			out = append(out, "JSON: "+string(js))
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("value", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("value", "v", v)
		out = append(out, "slog: "+buf.String())
		for _, o := range out {
			for _, s := range secrets {
				for _, form := range []string{s, fmt.Sprintf("%x", s), fmt.Sprintf("%X", s)} {
					if strings.Contains(o, form) {
						t.Errorf("%s shows %s: %s", name, s, o)
					}
				}
			}
		}
	}
	if got, want := fmt.Sprint(view), "scm.Client(0 drivers; user credentials for github.com, gitlab.example)"; got != want {
		t.Errorf("fmt.Sprint(view) = %q; want %q", got, want)
	}
}
