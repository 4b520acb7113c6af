package rbac

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/permission"
)

// decodePermission decodes the permission section of an app-config
// document as an embedder does.
func decodePermission(t *testing.T, doc string) *Config {
	t.Helper()
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := cfg.Decode("permission", &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// hasWarning reports whether one of ws contains every part.
func hasWarning(ws []string, parts ...string) bool {
	return slices.ContainsFunc(ws, func(w string) bool {
		for _, p := range parts {
			if !strings.Contains(w, p) {
				return false
			}
		}
		return true
	})
}

// TestConfigWarnsWhenDisabled: a permission.rbac block without
// permission.enabled: true (missing, or misplaced under rbac) means every
// request is allowed, as in Backstage; the policy was loaded and never
// consulted without a word. Warnings now says so, naming the key.
func TestConfigWarnsWhenDisabled(t *testing.T) {
	for name, doc := range map[string]string{
		"missing": `
permission:
  rbac:
    policies-csv-file: ./policy.csv
`,
		"misplaced": `
permission:
  rbac:
    enabled: true
    policies-csv-file: ./policy.csv
`,
		"false": `
permission:
  enabled: false
  rbac:
    admin:
      superUsers: [{name: user:default/dave}]
`,
	} {
		c := decodePermission(t, doc)
		ws := c.Warnings()
		if !hasWarning(ws, "permission.enabled is not true", "every permission request is allowed", "permission.rbac is ignored") {
			t.Errorf("%s: warnings %q do not say the policy is ignored", name, ws)
		}
		if name == "misplaced" && !hasWarning(ws, "permission.rbac.enabled:", "permission.enabled") {
			t.Errorf("%s: warnings %q do not point to permission.enabled", name, ws)
		}
	}
	// Built by hand, not decoded: the fields tell.
	c := &Config{}
	c.RBAC.PoliciesCSVFile = "policy.csv"
	if !hasWarning(c.Warnings(), "permission.enabled is not true") {
		t.Errorf("hand-built config: %q", c.Warnings())
	}
	on := decodePermission(t, "permission:\n  enabled: true\n  rbac:\n    policies-csv-file: ./policy.csv\n    policyFileReload: false\n")
	if ws := on.Warnings(); len(ws) != 0 {
		t.Errorf("enabled, known keys: warnings %q", ws)
	}
	if ws := decodePermission(t, "permission:\n  enabled: false\n").Warnings(); len(ws) != 0 {
		t.Errorf("disabled without a policy: warnings %q", ws)
	}
}

// TestConfigWarnsUnreadKeys: typos and Backstage keys scmkit does not act
// on were dropped silently (policiesCsvFile loaded an empty policy, all
// DENY, with no hint). Each is now a warning naming its path.
func TestConfigWarnsUnreadKeys(t *testing.T) {
	c := decodePermission(t, `
permission:
  enabled: true
  enable: true
  rbac:
    policiesCsvFile: ./policy.csv
    MaxDepth: 2
    policyFileReload: true
    pluginsWithPermission: [kubernetes]
    conditionalMetadataRetry: {maxAttempts: 3}
    admin:
      superUsers:
        - name: user:default/dave
          nmae: x
    defaultPermissions:
      defaultRole: role:default/everyone
      basicPermissions:
        - permission: catalog.entity.read
          policy: read
`)
	ws := c.Warnings()
	for _, want := range [][]string{
		{"permission.enable:", "not a key"},
		{"permission.rbac.policiesCsvFile:", "not a key"},
		{"permission.rbac.MaxDepth:", "read as maxDepth"},
		{"permission.rbac.policyFileReload:", "Live.ReloadFiles"},
		{"permission.rbac.pluginsWithPermission:", "ignored"},
		{"permission.rbac.conditionalMetadataRetry:", "ignored"},
		{"permission.rbac.admin.superUsers[0].nmae:", "not a key"},
		{"permission.rbac.defaultPermissions.basicPermissions[0].policy:", "not a key"},
	} {
		if !hasWarning(ws, want...) {
			t.Errorf("no warning with %q in %q", want, ws)
		}
	}
	if hasWarning(ws, "permission.enabled is not true") {
		t.Errorf("enabled config warned as disabled: %q", ws)
	}
	if len(ws) != 8 {
		t.Errorf("%d warnings, want 8: %q", len(ws), ws)
	}
	// encoding/json's own Unmarshal goes through the same method.
	var j Config
	if err := json.Unmarshal([]byte(`{"enabled":true,"rbac":{"policies-csv-file":"a.csv","policiesCsvFile":"b.csv"}}`), &j); err != nil {
		t.Fatal(err)
	}
	if j.RBAC.PoliciesCSVFile != "a.csv" || !hasWarning(j.Warnings(), "permission.rbac.policiesCsvFile:") {
		t.Errorf("json.Unmarshal: %+v, %q", j.RBAC, j.Warnings())
	}
	// A value of the wrong type is still the decoder's error, naming the path.
	cfg, err := config.LoadBytes(context.Background(), nil, []byte("permission:\n  enabled: true\n  rbac:\n    maxDepth: two\n"))
	if err != nil {
		t.Fatal(err)
	}
	var bad Config
	if err := cfg.Decode("permission", &bad); errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "maxDepth") {
		t.Errorf("maxDepth: two: %v", err)
	}
}

// TestDefaultPermissions: permission.rbac.defaultPermissions was dropped,
// so every user lost the RBAC plugin's default grants (frank read →
// DENY). Every signed-in user now holds the default role with its basic
// permissions; an anonymous caller does not; the files may not name the
// role; a role without basic permissions, or a bad action, is refused.
func TestDefaultPermissions(t *testing.T) {
	csv, _ := os.ReadFile("testdata/policy.csv")
	fsys := fstest.MapFS{"policy.csv": {Data: csv},
		"clash.csv": {Data: []byte("p, role:default/everyone, catalog-entity, delete, allow\n")}}
	doc := `
permission:
  enabled: true
  rbac:
    policies-csv-file: ./policy.csv
    defaultPermissions:
      defaultRole: role:default/everyone
      basicPermissions:
        - permission: catalog.entity.read
          action: read
        - permission: scaffolder-action
        - permission: catalog.entity.delete
          action: delete
          effect: deny
`
	c := decodePermission(t, doc)
	if ws := c.Warnings(); len(ws) != 0 {
		t.Errorf("warnings %q", ws)
	}
	p, err := Load(fsys, c, testOrg())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	decide := func(name, who string) permission.Decision {
		t.Helper()
		var u = user(who)
		if who == "" {
			u = nil
		}
		d, err := p.Decide(ctx, permission.Query{Permission: perm(name)}, u)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// frank is not in the organisation; dave is, with no group.
	for _, who := range []string{"user:default/frank", "user:default/dave"} {
		d := decide(permission.CatalogEntityRead, who)
		if d.Result != permission.Allow || d.Reason.Role != "role:default/everyone" || !strings.Contains(d.Reason.String(), "defaultPermissions") {
			t.Errorf("%s read: %s (%s)", who, d.Result, d.Reason)
		}
	}
	if d := decide(permission.CatalogEntityRead, ""); d.Result != permission.Deny {
		t.Errorf("anonymous read: %s (%s)", d.Result, d.Reason)
	}
	if d := decide(permission.ScaffolderActionExecute, "user:default/frank"); d.Result != permission.Allow {
		t.Errorf("action defaults to use: %s (%s)", d.Result, d.Reason)
	}
	// A deny line of the default role wins over dave's catalog-admin
	// role (p, role:default/catalog-admin, catalog-entity, delete, allow).
	if d := decide(permission.CatalogEntityDelete, "user:default/dave"); d.Result != permission.Deny || d.Reason.Role != "role:default/everyone" {
		t.Errorf("dave delete: %s (%s)", d.Result, d.Reason)
	}
	// The policy's own lines still apply: alice registers, frank not.
	if decide(permission.CatalogEntityCreate, "user:default/alice").Result != permission.Allow ||
		decide(permission.CatalogEntityCreate, "user:default/frank").Result != permission.Deny {
		t.Error("the CSV's lines no longer apply as before")
	}
	// The rebuilt policy (a new organisation) keeps the default role.
	p2, err := p.WithMembership(&Membership{})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := p2.Decide(ctx, permission.Query{Permission: perm(permission.CatalogEntityRead)}, user("user:default/alice")); d.Result != permission.Allow {
		t.Errorf("WithMembership lost the default role: %s", d.Reason)
	}

	for name, mod := range map[string]func(*Config){
		"csv names the role":  func(c *Config) { c.RBAC.PoliciesCSVFile = "clash.csv" },
		"no basicPermissions": func(c *Config) { c.RBAC.DefaultPermissions.BasicPermissions = nil },
		"no defaultRole":      func(c *Config) { c.RBAC.DefaultPermissions.DefaultRole = "" },
		"bad action":          func(c *Config) { c.RBAC.DefaultPermissions.BasicPermissions[0].Action = "reads" },
		"bad role":            func(c *Config) { c.RBAC.DefaultPermissions.DefaultRole = "group:default/everyone" },
	} {
		c := decodePermission(t, doc)
		mod(c)
		p, err := Load(fsys, c, testOrg())
		if p != nil || errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "defaultPermissions") && !strings.Contains(err.Error(), "default role") {
			t.Errorf("%s: %v, %v", name, p, err)
		}
	}
}

// TestPolicyDecisionPrecedence: permission.rbac.policyDecisionPrecedence
// was dropped, so "basic" (a role's permission lines before its
// conditional policies) was decided as "conditional".
func TestPolicyDecisionPrecedence(t *testing.T) {
	fsys := fstest.MapFS{
		"p.csv": {Data: []byte("g, group:default/team-a, role:default/owner\np, role:default/owner, catalog-entity, read, allow\n")},
	}
	cond, err := os.ReadFile("testdata/conditional.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fsys["c.yaml"] = &fstest.MapFile{Data: cond}
	bob := user("user:default/bob")
	for prec, want := range map[string][2]permission.Result{
		"":            {permission.Conditional, permission.Conditional},
		"conditional": {permission.Conditional, permission.Conditional},
		// read has a p line of bob's role: it decides; update has none:
		// the conditional policy does.
		"basic": {permission.Allow, permission.Conditional},
	} {
		c := &Config{Enabled: true}
		c.RBAC.PoliciesCSVFile, c.RBAC.ConditionalPoliciesFile, c.RBAC.PolicyDecisionPrecedence = "p.csv", "c.yaml", prec
		p, err := Load(fsys, c, testOrg())
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{permission.CatalogEntityRead, permission.CatalogEntityRefresh} {
			d, err := p.Decide(context.Background(), permission.Query{Permission: perm(name)}, bob)
			if err != nil || d.Result != want[i] {
				t.Errorf("%q %s: %s (%s), %v; want %s", prec, name, d.Result, d.Reason, err, want[i])
			}
		}
	}
	c := &Config{Enabled: true}
	c.RBAC.PolicyDecisionPrecedence = "permission"
	if _, err := Load(fsys, c, nil); errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "policyDecisionPrecedence") {
		t.Errorf("bad value: %v", err)
	}
	if ws := decodePermission(t, "permission:\n  enabled: true\n  rbac:\n    policyDecisionPrecedence: basic\n").Warnings(); len(ws) != 0 {
		t.Errorf("warnings %q", ws)
	}
}
