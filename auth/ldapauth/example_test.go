package ldapauth_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/config"
)

// A Backstage auth.providers.ldap.<env> block becomes an Authenticator,
// which the auth.Handler serves at POST /api/auth/ldap/login. New opens no
// connection; the first sign-in does.
func Example() {
	yaml := []byte(`
auth:
  providers:
    ldap:
      production:
        ldapAuthenticationOptions:
          userSearchBase: ou=people,dc=example,dc=org
          usernameAttribute: uid
          adminDn: cn=reader,ou=system,dc=example,dc=org
          adminPassword: ${LDAP_SECRET}
          ldapOpts:
            url: ldaps://ldap.example.org
`)
	cfg, err := config.LoadBytes(context.Background(), &config.Options{Lookup: func(string) (string, bool) { return "s3cret", true }}, yaml)
	if err != nil {
		log.Fatal(err)
	}
	var c ldapauth.Config
	if err := cfg.Decode("auth.providers.ldap.production", &c); err != nil {
		log.Fatal(err)
	}
	a, err := ldapauth.New(c, &ldapauth.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	fmt.Println(a.Info().Type, a.Info().Issuer)
	fmt.Printf("%v\n", c.LDAPAuthenticationOptions.AdminPassword)

	// Mount the handler behind ldapauth.ClientAddr so that the back-off
	// also counts failures per client address:
	//
	//	h.Register("ldap", "production", a)
	//	http.Handle("/api/auth/", ldapauth.ClientAddr(h))

	// Output:
	// ldap ldaps://ldap.example.org:636
	// [redacted]
}

// Plain ldap:// without StartTLS is refused unless insecure is set.
func ExampleNew_insecure() {
	no := false
	var c ldapauth.Config
	o := &c.LDAPAuthenticationOptions
	o.UserSearchBase, o.AdminDN = "ou=people,dc=example,dc=org", "cn=reader,dc=example,dc=org"
	o.AdminPassword.UnmarshalText([]byte("s3cret"))
	o.LDAPOpts.URL = ldapauth.StringList{"ldap://ldap.example.org"}
	o.StartTLS = &no
	_, err := ldapauth.New(c, nil)
	fmt.Println(err)
	// Output:
	// ldapconn.New: plain ldap:// without StartTLS sends passwords in clear: use ldaps://, StartTLS, or set insecure explicitly (InvalidArgument)
}
