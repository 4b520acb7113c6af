package ldaporg

import (
	"slices"
	"testing"

	"github.com/scmkit/scmkit/config"
)

// TestDecodeConfigWarnsOfKeysItDoesNotRead: a misspelt map key (the
// attribute it names would not be read), a misspelt option in a users
// block given as one object and in a groups list are named with their
// paths; schedule and the values of set (any path) are not.
func TestDecodeConfigWarnsOfKeysItDoesNotRead(t *testing.T) {
	doc := `
catalog:
  providers:
    ldapOrg:
      corp:
        target: ldaps://ldap.example.com
        bind: {dn: cn=reader, secret: s}
        users:
          dn: ou=people,dc=example,dc=com
          options: {filter: (uid=*), paged: {pageSize: 100, pagePause: false}}
          map: {nmae: uid}
          set: {metadata.namespace: corp}
        groups:
          - dn: ou=groups,dc=example,dc=com
            options: {fliter: (cn=*)}
        schedule: {frequency: PT30M, timeout: PT3M}
`
	cfg, err := config.LoadBytes(t.Context(), nil, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := DecodeConfig(cfg)
	if err != nil || len(cs) != 1 {
		t.Fatal(cs, err)
	}
	p := "catalog.providers.ldapOrg.corp"
	want := []string{
		p + ".groups[0].options.fliter: not a key scmkit reads here; ignored (a typo for filter?)",
		p + ".users.map.nmae: not a key scmkit reads here; ignored (a typo for name?)",
	}
	if !slices.Equal(cs[0].Warnings, want) {
		t.Errorf("warnings\n%q\nwant\n%q", cs[0].Warnings, want)
	}
}
