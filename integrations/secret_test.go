package integrations

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

const secretValue = "ghp-TOP-SECRET-VALUE"

func TestSecretRedaction(t *testing.T) {
	s := NewSecret(secretValue)
	cred := ScopedCredential{Owners: []string{"acme"}, Token: s, Password: s}
	cfg := GitHubConfig{Host: "github.com", Token: s, Apps: []GitHubAppConfig{{AppID: 1, PrivateKey: s, ClientSecret: s, WebhookSecret: s}}, Credentials: []ScopedCredential{cred}}
	holder := struct {
		Name string
		Tok  Secret
		tok  Secret
		Ptr  *Secret
	}{"x", s, s, &s}
	in := &Integration{Kind: GitHub, Host: "github.com", GitHub: &cfg}
	values := map[string]any{"secret": s, "pointer": &s, "credential": cred, "config": cfg, "holder": holder, "integration": in, "full config": Config{GitHub: []GitHubConfig{cfg}}}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X", "%q", "%10s", "%-8v", "%T %v"}
	for name, v := range values {
		for _, verb := range verbs {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, secretValue) || strings.Contains(out, fmt.Sprintf("%x", secretValue)) {
				t.Errorf("Sprintf(%q, %s) leaks the secret: %s", verb, name, out)
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("json.Marshal(%s) = %v", name, err)
		}
		if strings.Contains(string(b), secretValue) {
			t.Errorf("json.Marshal(%s) leaks the secret: %s", name, b)
		}
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		} {
			var buf bytes.Buffer
			slog.New(h(&buf)).Info("msg", "value", v, slog.Any("any", v))
			if strings.Contains(buf.String(), secretValue) {
				t.Errorf("slog output for %s leaks the secret: %s", name, buf.String())
			}
		}
	}
	if got := fmt.Sprint(s); got != "[redacted]" {
		t.Errorf("Sprint(secret) = %q; want [redacted]", got)
	}
	if got := fmt.Sprintf("%#v", s); got != `integrations.Secret("[redacted]")` {
		t.Errorf("%%#v = %q; want integrations.Secret(\"[redacted]\")", got)
	}
	if got := fmt.Sprint(Secret{}); got != "" {
		t.Errorf("Sprint(empty) = %q; want empty", got)
	}
	if b, _ := json.Marshal(s); string(b) != `"[redacted]"` {
		t.Errorf("json = %s; want \"[redacted]\"", b)
	}
	if s.Reveal() != secretValue {
		t.Errorf("Reveal() = %q; want the value", s.Reveal())
	}
}

func TestSecretBasics(t *testing.T) {
	var s Secret
	if !s.IsZero() || s.Reveal() != "" || !NewSecret("").IsZero() {
		t.Errorf("zero Secret: IsZero=%v Reveal=%q; want true, \"\"", s.IsZero(), s.Reveal())
	}
	if err := s.UnmarshalText([]byte("abc")); err != nil || s.Reveal() != "abc" {
		t.Errorf("UnmarshalText: %q, %v; want abc", s.Reveal(), err)
	}
	if !s.Equal(NewSecret("abc")) || s.Equal(NewSecret("abd")) {
		t.Errorf("Equal: got wrong answer")
	}
	if b, _ := s.MarshalText(); string(b) != "[redacted]" {
		t.Errorf("MarshalText = %q; want [redacted]", b)
	}
}

// TestErrorsNeverShowSecrets checks Parse and builder errors for URLs with
// user info and for Locations, besides the config errors checked in
// TestNewRegistryReportsEverythingAtOnce.
func TestErrorsNeverShowSecrets(t *testing.T) {
	r := testRegistry(t)
	for _, u := range []string{
		"https://user:" + secretValue + "@github.com/acme/api",
		"https://" + secretValue + "@unknown.example/x",
		"https://x:" + secretValue + "@exa mple.com/",
	} {
		_, err := r.Parse(u)
		if err == nil || strings.Contains(err.Error(), secretValue) {
			t.Errorf("Parse(URL with user info) = %v; want an error without the secret", err)
		}
	}
	// Base URLs with passwords disable their entries: neither the warning
	// nor the error of a call through the entry shows the secret.
	reg, err := NewRegistry(Config{GitLab: []GitLabConfig{{Host: "g.example.com", APIBaseURL: "https://u:" + secretValue + "@g.example.com/api/v4", BaseURL: "ftp://u:" + secretValue + "@g.example.com"}}})
	if err != nil || strings.Contains(strings.Join(reg.Warnings(), "\n"), secretValue) || len(reg.Warnings()) == 0 {
		t.Errorf("NewRegistry(base URLs with passwords) = %v, warnings %q; want a warning without the secret", err, reg.Warnings())
	}
	if _, err := reg.Parse("https://g.example.com/a/b"); err == nil || strings.Contains(err.Error(), secretValue) {
		t.Errorf("Parse() through a disabled entry = %v; want an error without the secret", err)
	}
	// A token put in apiBaseUrl by mistake is never quoted, whatever it
	// looks like.
	for _, tok := range []string{secretValue, "ghp_" + secretValue, "x"} {
		reg, err = NewRegistry(Config{GitHub: []GitHubConfig{{Host: "ghe.example.com", APIBaseURL: tok}}, BitbucketServer: []BitbucketServerConfig{{Host: "bbs.example.com", APIBaseURL: tok}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range reg.Warnings() {
			if strings.Contains(w, strconvQuote(tok)) {
				t.Errorf("warning %q quotes the value %q", w, tok)
			}
		}
	}
}

func strconvQuote(s string) string { return quote(s) }

// A Secret's JSON is "[redacted]", which does not unmarshal back into a
// Secret: a configuration written back from a marshalled one fails to load
// rather than sending "[redacted]" to GitHub as a token.
func TestSecretJSONIsOneWay(t *testing.T) {
	in := struct{ Token Secret }{NewSecret("ghp_real")}
	js, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := struct{ Token Secret }{NewSecret("kept")}
	err = json.Unmarshal(js, &out)
	if errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("unmarshalling %s = %v; want InvalidArgument", js, err)
	}
	if out.Token.Reveal() != "kept" {
		t.Errorf("a refused value changed the secret to %q", out.Token.Reveal())
	}
	var s Secret
	if err := s.UnmarshalText([]byte("ghp_other")); err != nil || s.Reveal() != "ghp_other" {
		t.Errorf("UnmarshalText(ghp_other) = %v, %q", err, s.Reveal())
	}
}
