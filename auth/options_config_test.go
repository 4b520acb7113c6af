package auth_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
)

func TestOptionsFromConfig(t *testing.T) {
	load := func(yaml string) *config.Config {
		cfg, err := config.LoadBytes(t.Context(), nil, []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	o, err := auth.OptionsFromConfig(load("app:\n  baseUrl: https://portal.example.com/\nbackend:\n  baseUrl: https://portal.example.com:7007\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.BaseURL != "https://portal.example.com:7007/api/auth" || o.AppURL != "https://portal.example.com" {
		t.Errorf("got BaseURL %q, AppURL %q", o.BaseURL, o.AppURL)
	}
	o, err = auth.OptionsFromConfig(load("backend:\n  baseUrl: https://b.example.com\n"), &auth.Options{BaseURL: "https://other.example.com/api/auth", Environment: "production"})
	if err != nil || o.BaseURL != "https://other.example.com/api/auth" || o.AppURL != "" || o.Environment != "production" {
		t.Errorf("base's fields: %+v, %v; want them kept", o, err)
	}
	for yaml, want := range map[string]string{
		"app:\n  title: x\n":                 "backend.baseUrl: is empty",
		"backend:\n  baseUrl: portal:7007\n": "backend.baseUrl: must be an http(s) base URL",
		"backend:\n  baseUrl: https://b.example.com\napp:\n  baseUrl: ftp://x\n": "app.baseUrl: must be",
		"backend:\n  baseUrl: https://b.example.com/?x=1\n":                      "backend.baseUrl: must be",
		"backend:\n  baseUrl: https://user:pw@b.example.com\n":                   "backend.baseUrl: must be",
		"backend:\n  baseUrl: https:///path\n":                                   "backend.baseUrl: must be",
	} {
		if _, err := auth.OptionsFromConfig(load(yaml), nil); errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want InvalidArgument saying %q", yaml, err, want)
		}
	}
	if o, err := auth.OptionsFromConfig(load("backend:\n  baseUrl: HTTPS://B.example.com\n"), nil); err != nil || o.BaseURL != "https://B.example.com/api/auth" {
		t.Errorf("an upper-case scheme: %+v, %v", o, err)
	}
	// The options build a Handler whose URLs agree with the Issuer's.
	cfg := load("app:\n  baseUrl: http://localhost:3000\nbackend:\n  baseUrl: http://localhost:7007\nauth:\n  session:\n    secret: a-session-secret-of-32-characters\n")
	var ac auth.Config
	if err := cfg.Decode("auth", &ac); err != nil {
		t.Fatal(err)
	}
	o, err = auth.OptionsFromConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ac.NewHandler(o); err != nil {
		t.Errorf("NewHandler(OptionsFromConfig): %v", err)
	}
}
