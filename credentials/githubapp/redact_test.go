package githubapp_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/internal/redact/redacttest"
)

// TestNothingShowsASecret formats every public type, and the errors, every
// way a program might print or log them, and checks that no token, JWT or
// key material appears.
func TestNothingShowsASecret(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 42, Login: "acme", Selection: "selected", Repos: []string{"a"}})
	tok, err := s.app.Token(t.Context(), "acme", "a")
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := s.app.JWT(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	inst, _ := s.app.Installation(t.Context(), "acme")
	_, notSelected := s.app.Token(t.Context(), "acme", "b")
	_, notInstalled := s.app.Token(t.Context(), "nobody", "")

	secrets := []string{tok.Token, jwt.Token, "PRIVATE KEY", strings.Split(apptest.PrivateKeyPEM(), "\n")[1]}
	values := map[string]any{
		"Token":         *tok,
		"*Token":        tok,
		"JWT":           jwt,
		"*App":          s.app,
		"Installation":  inst,
		"Options":       githubapp.Options{ConfigPath: "x"},
		"not selected":  notSelected,
		"not installed": notInstalled,
		// Exported fields only: fmt cannot call methods on unexported
		// ones (see the package documentation).
		"struct holding them": struct {
			T   githubapp.Token
			P   *githubapp.Token
			App *githubapp.App
		}{*tok, tok, s.app},
	}
	for name, v := range values {
		redacttest.Hidden(t, name, v, secrets...)
	}
	if got := fmt.Sprint(tok); !strings.Contains(got, "installation 42") {
		t.Errorf("Token prints as %q; want its source", got)
	}
}
