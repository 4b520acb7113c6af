package ldaporg_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/org/ldaporg"
)

// A Backstage catalog.providers.ldapOrg block becomes one Reader per id;
// Read returns the users and groups as a sorted org.Snapshot.
func Example() {
	yaml := []byte(`
catalog:
  providers:
    ldapOrg:
      corp:
        target: ldaps://ldap.example.org
        bind:
          dn: cn=reader,ou=system,dc=example,dc=org
          secret: ${LDAP_SECRET}
        users:
          - dn: ou=people,dc=example,dc=org
            options:
              filter: (objectClass=inetOrgPerson)
              paged: true
        groups:
          - dn: ou=groups,dc=example,dc=org
            options:
              filter: (objectClass=groupOfNames)
              paged: { pageSize: 200 }
            set:
              spec.type: team
`)
	cfg, err := config.LoadBytes(context.Background(), &config.Options{Lookup: func(string) (string, bool) { return "s3cret", true }}, yaml)
	if err != nil {
		log.Fatal(err)
	}
	var providers map[string]ldaporg.Config
	if err := cfg.Decode("catalog.providers.ldapOrg", &providers); err != nil {
		log.Fatal(err)
	}
	r, err := ldaporg.New(providers["corp"], nil)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	fmt.Println(providers["corp"].Groups[0].Options.Paged.PageSize, providers["corp"].Users[0].Options.Paged.PageSize)
	// snap, err := r.Read(ctx): 10,000 users and 500 groups in
	// ceil(10000/500) + ceil(500/200) searches.

	// Output:
	// 200 500
}

func ExampleNormalizeDN() {
	a, _ := ldaporg.NormalizeDN("CN=Devs, OU=Groups,DC=Example,DC=Org")
	b, _ := ldaporg.NormalizeDN("cn=devs,ou=groups,dc=example,dc=org")
	fmt.Println(a == b, a)
	// Output:
	// true cn=devs,ou=groups,dc=example,dc=org
}

func ExampleDecodeGUID() {
	raw := []byte{0x3d, 0x2c, 0x1b, 0x0a, 0x5f, 0x4e, 0x71, 0x60, 0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9}
	s, _ := ldaporg.DecodeGUID(raw)
	fmt.Println(s)
	// Output:
	// 0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9
}

func ExampleDecodeSID() {
	// objectSid of a domain's Domain Admins group (RID 512).
	raw := []byte{1, 5, 0, 0, 0, 0, 0, 5, 0x15, 0, 0, 0, 0xdc, 0xf4, 0xdc, 0x3b, 0x83, 0x3d, 0x2b, 0x46, 0x82, 0x8b, 0xa6, 0x28, 0, 2, 0, 0}
	s, _ := ldaporg.DecodeSID(raw)
	fmt.Println(s)
	// Output:
	// S-1-5-21-1004336348-1177238915-682003330-512
}
