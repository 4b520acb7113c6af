package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// FuzzLoadBytes checks that no document and no APP_CONFIG_integrations value
// makes LoadBytes panic, and that every failure is an *errcode.Error.
func FuzzLoadBytes(f *testing.F) {
	names, err := filepath.Glob(filepath.Join(testdata, "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
	}
	f.Add([]byte("integrations:\n  github: [{host: '${HOST}', token: {$file: token.txt}, apps: [{appId: '1'}]}]\n"), `{"gitlab":[{"host":"gitlab.com"}]}`)
	f.Add([]byte("integrations: {$include: inc.yaml#integrations}\n"), "[]")
	f.Add([]byte("integrations:\n  github: [{apps: {$include: self.yaml#a}}]\n"), "null")
	f.Add([]byte("backend: {reading: {allow: [{host: '*.example.org', paths: [/a/]}]}}\n"), `{"bitbucketServer":[{"host":1}]}`)
	f.Add([]byte("integrations:\n  gitlab: [{host: '${HOST:-gitlab.example.com}', apiBaseUrl: 'https://${UNSET:-x:-y}/api/v4', token: '$${T:-}${ TOKEN :- }'}]\n"), "")
	f.Add([]byte("a: &a [*a]\n"), "")
	f.Add([]byte("integrations:\n  github: [{host: ghe.example.com, tokn: x, token: '${UNSET}'}]\n  bitbucketCloud: [{username: u, appPassword: p}]\n"), "")
	f.Add([]byte("? [a]\n: b\n1: 2\n"), "x")

	f.Fuzz(func(t *testing.T, doc []byte, env string) {
		opts := &Options{
			Lookup:  lookupMap(map[string]string{"HOST": "ghe.example.com", "TOKEN": "t"}),
			Environ: []string{"APP_CONFIG_integrations=" + env},
			ReadFile: mapFS(map[string]string{
				"token.txt": "t\n",
				"inc.yaml":  "integrations: {github: [{host: a.example.com, token: '${TOKEN}'}]}\n",
				"self.yaml": "a: {b: {$include: self.yaml#a}}\n",
			}),
		}
		cfg, err := LoadBytes(t.Context(), opts, doc)
		if err != nil {
			var e *errcode.Error
			if !errors.As(err, &e) {
				t.Fatalf("LoadBytes error %v is a %T; want *errcode.Error", err, err)
			}
			if cfg != nil {
				t.Fatal("LoadBytes returned a config with its error")
			}
			return
		}
		if cfg.Registry == nil {
			t.Fatal("LoadBytes returned no registry and no error")
		}
		// The warnings are the package's contract: none appears twice,
		// each names where it comes from, and the same input warns the
		// same way again (no map order leaks into them).
		seen := map[string]bool{}
		for _, w := range cfg.Warnings {
			if seen[w] {
				t.Fatalf("warning %q appears twice", w)
			}
			seen[w] = true
			if !strings.HasPrefix(w, "document 1") && !strings.HasPrefix(w, "APP_CONFIG_") && !strings.Contains(w, ".yaml") {
				t.Fatalf("warning %q names no document", w)
			}
		}
		again, err := LoadBytes(t.Context(), opts, doc)
		if err != nil || !slices.Equal(again.Warnings, cfg.Warnings) {
			t.Fatalf("a second load of the same input: %v; warnings %q, then %q", err, cfg.Warnings, again.Warnings)
		}
	})
}
