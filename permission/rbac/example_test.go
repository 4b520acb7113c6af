package rbac_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/permission"
	"github.com/scmkit/scmkit/permission/rbac"
)

// Only members of group:default/platform-team may register components.
func Example() {
	csv := `p, role:default/registrar, catalog.entity.create, create, allow
p, role:default/registrar, catalog.location.create, create, allow
g, group:default/platform-team, role:default/registrar
`
	file, err := rbac.ParseCSV("policy.csv", strings.NewReader(csv))
	if err != nil {
		log.Fatal(err)
	}
	org := &rbac.Membership{Users: map[string][]string{
		"user:default/alice": {"group:default/platform-team"},
		"user:default/bob":   {"group:default/team-a"},
	}}
	policy, err := rbac.New([]*rbac.File{file}, org, nil)
	if err != nil {
		log.Fatal(err)
	}
	authz := permission.NewAuthorizer(policy, nil)
	for _, ref := range []string{"user:default/alice", "user:default/bob"} {
		who := identity.Principal{User: &identity.User{EntityRef: ref}}
		ok, why, err := authz.Allowed(context.Background(), who, permission.MustKnown(permission.CatalogEntityCreate), "")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ref, ok)
		fmt.Println(" ", why)
	}
	// Output:
	// user:default/alice true
	//   rbac: allowed by a policy line of one of the user's roles [p, role:default/registrar, catalog.entity.create, create, allow at policy.csv:1] via group:default/platform-team [g, group:default/platform-team, role:default/registrar at policy.csv:3]
	// user:default/bob false
	//   rbac: none of the user's roles has a policy line for this permission or its resource type and action (default deny)
}

// The permission section of app-config.yaml, decoded with the config
// package.
func ExampleConfig() {
	yaml := []byte(`
permission:
  enabled: true
  rbac:
    policies-csv-file: ./rbac-policy.csv
    maxDepth: 2
    admin:
      superUsers:
        - name: user:default/alice
`)
	cfg, err := config.LoadBytes(context.Background(), nil, yaml)
	if err != nil {
		log.Fatal(err)
	}
	var c rbac.Config
	if err := cfg.Decode("permission", &c); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Enabled, c.RBAC.PoliciesCSVFile, *c.RBAC.MaxDepth, c.RBAC.Admin.SuperUsers[0].Name)
	// Output:
	// true ./rbac-policy.csv 2 user:default/alice
}

// Warnings after decoding: permission.enabled is missing, so Backstage
// (and scmkit) allow every request and never consult the policy, and a
// key is misspelt, so the policy file would not be loaded. Log them at
// startup.
func ExampleConfig_Warnings() {
	yaml := []byte(`
permission:
  rbac:
    policiesCsvFile: ./rbac-policy.csv
    defaultPermissions:
      defaultRole: role:default/everyone
      basicPermissions:
        - permission: catalog-entity
          action: read
`)
	cfg, err := config.LoadBytes(context.Background(), nil, yaml)
	if err != nil {
		log.Fatal(err)
	}
	var c rbac.Config
	if err := cfg.Decode("permission", &c); err != nil {
		log.Fatal(err)
	}
	for _, w := range c.Warnings() {
		fmt.Println(w)
	}
	// Output:
	// permission.enabled is not true: every permission request is allowed and permission.rbac is ignored (as in Backstage); set permission.enabled: true to apply the policy
	// permission.rbac.policiesCsvFile: not a key scmkit reads; ignored (a typo?)
}

// The policy files named as in a Backstage config: here an absolute path,
// as in a container image; a relative one is taken from the backend's
// working directory (the first argument).
func ExampleLoadFiles() {
	dir, err := os.MkdirTemp("", "rbac")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	csvPath := filepath.Join(dir, "rbac-policy.csv")
	csv := "p, role:default/catalog-readers, catalog-entity, read, allow\n"
	if err := os.WriteFile(csvPath, []byte(csv), 0o600); err != nil {
		log.Fatal(err)
	}
	var c rbac.Config
	c.Enabled, c.RBAC.PoliciesCSVFile = true, csvPath
	if _, err := rbac.LoadFiles(".", &c, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println("loaded")
	// Output: loaded
}
