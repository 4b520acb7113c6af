package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

func TestFakeWorld(t *testing.T) {
	out := filepath.Join(t.TempDir(), "entities")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"githubOrg-production", "gitlab-acme", "microsoftGraphOrg-default", "USERS"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, secret := range fakeSecrets {
		if strings.Contains(stdout.String()+stderr.String(), secret) {
			t.Errorf("a secret was printed")
		}
	}
	// Every file is a Backstage catalog file that reads back, valid.
	for _, f := range []struct {
		name          string
		users, groups int
		member, group string
	}{
		{"githubOrg-production.yaml", 6, 4, "alice", "platform-team"},
		{"gitlab-acme.yaml", 5, 5, "erin", "engineering-platform-team"},
		{"microsoftGraphOrg-default.yaml", 6, 5, "bob_acme.example", "platform-team"},
	} {
		snap, err := org.ReadFS(os.DirFS(out), f.name)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if err := snap.Validate(); err != nil {
			t.Errorf("%s: %v", f.name, err)
		}
		if len(snap.Users) != f.users || len(snap.Groups) != f.groups {
			t.Errorf("%s: %d users %d groups, want %d %d", f.name, len(snap.Users), len(snap.Groups), f.users, f.groups)
		}
		if !org.NewIndex(snap).IsMember(org.UserRef("", f.member), org.GroupRef("", f.group)) {
			t.Errorf("%s: %s is not in %s", f.name, f.member, f.group)
		}
	}
}

// githubOrg is one provider of catalog.providers.githubOrg.
type githubOrg struct{ id, org string }

// githubConfig starts a fake GitHub holding organisation acme and writes
// an app-config.yaml in dir with its integration (token tok, from the
// environment) and the providers; it returns the fake and the file's path.
func githubConfig(t *testing.T, dir, tok string, providers ...githubOrg) (*fakegithub.Server, string) {
	t.Helper()
	gh := fakegithub.New(&fakegithub.Options{Tokens: []string{tok}})
	t.Cleanup(gh.Close)
	if err := orgtest.SeedGitHub(gh, "acme"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ORGSYNC_TEST_TOKEN", tok)
	doc := "integrations:\n  github:\n    - host: " + gh.Host() + "\n      apiBaseUrl: " + gh.APIBaseURL() + "\n      token: ${ORGSYNC_TEST_TOKEN}\n" +
		"catalog:\n  providers:\n    githubOrg:\n"
	for _, p := range providers {
		doc += "      - id: " + p.id + "\n        githubUrl: http://" + gh.Host() + "\n        orgs: [" + p.org + "]\n"
	}
	cfg := filepath.Join(dir, "app-config.yaml")
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return gh, cfg
}

func TestConfigFile(t *testing.T) {
	const tok = "ghp_orgsync_config_test"
	dir := t.TempDir()
	_, cfg := githubConfig(t, dir, tok, githubOrg{"a", "acme"}, githubOrg{"b", "missing"})
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-config", cfg, "-out", filepath.Join(dir, "out")}, &stdout, &stderr)
	// One provider fails (no such organisation); the other is written.
	if err == nil || !strings.Contains(err.Error(), "1 of 2 providers failed") || !strings.Contains(stderr.String(), "missing") {
		t.Fatalf("err = %v\nstderr: %s", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "githubOrg-a.yaml")); err != nil {
		t.Error(err)
	}
	if strings.Contains(stdout.String()+stderr.String(), tok) {
		t.Error("the token was printed")
	}
}

func TestNoProviders(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "app-config.yaml")
	if err := os.WriteFile(cfg, []byte("app:\n  title: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-config", cfg, "-out", filepath.Join(dir, "out")}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "no organisational data provider") {
		t.Fatalf("err = %v", err)
	}
}

func TestGraphStateMakesTheNextRunIncremental(t *testing.T) {
	gr := fakegraph.New(&fakegraph.Options{OrgName: "Acme"})
	defer gr.Close()
	if err := orgtest.SeedGraph(gr); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "app-config.yaml")
	t.Setenv("ORGSYNC_TEST_SECRET", gr.ClientSecret())
	doc := "catalog:\n  providers:\n    microsoftGraphOrg:\n      target: " + gr.Target() + "\n      authority: " + gr.URL() +
		"\n      tenantId: " + gr.TenantID() + "\n      clientId: " + gr.ClientID() + "\n      clientSecret: ${ORGSYNC_TEST_SECRET}\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for i := range 2 {
		gr.ResetStats()
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), []string{"-config", cfg, "-out", out}, &stdout, &stderr); err != nil {
			t.Fatalf("run %d: %v\n%s", i, err, stderr.String())
		}
		delta := false
		for _, r := range gr.Requests() {
			delta = delta || strings.Contains(r.Path, "$deltatoken=")
		}
		if delta != (i == 1) {
			t.Errorf("run %d: delta used = %v", i, delta)
		}
	}
	fi, err := os.Stat(filepath.Join(out, ".microsoftGraphOrg-default.state.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v %v", fi, err)
	}
}

// TestProviderIDCannotEscapeTheOutputDirectory: a provider id names the
// output files, so one with a path in it is refused before anything is
// read or written.
func TestProviderIDCannotEscapeTheOutputDirectory(t *testing.T) {
	dir := t.TempDir()
	gh, cfg := githubConfig(t, dir, "ghp_orgsync_escape_test", githubOrg{"x/../../../escaped", "acme"})
	out := filepath.Join(dir, "a", "b", "out")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-config", cfg, "-out", out}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "x/../../../escaped") {
		t.Errorf("err = %v, want the provider id refused", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "escaped.yaml")); err == nil {
		t.Error("a file was written outside the output directory")
	}
	if gh.Stats().API != 0 {
		t.Errorf("%d requests sent", gh.Stats().API)
	}
}
