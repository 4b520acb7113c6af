package ldapauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org/ldaporg"
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

// Wiring sign-in and org reading into a portal, as the README shows. (Not
// run: it needs a directory.)
func Example_wiring() {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	run := func() error {
		cfg, err := config.Load(ctx, &config.Options{Lookup: os.LookupEnv}, "app-config.yaml")
		if err != nil {
			return err
		}
		handler, err := auth.New(&auth.Options{BaseURL: "https://portal.example.com/api/auth", Secret: integrations.NewSecret(os.Getenv("SESSION_SECRET"))})
		if err != nil {
			return err
		}

		lc, ok, err := ldapauth.DecodeConfig(cfg, "production") // auth.providers.ldap.production
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("auth.providers.ldap.production is not configured")
		}
		ldap, err := ldapauth.New(lc, &ldapauth.Options{Logger: logger})
		if err != nil {
			return err // e.g. plain ldap:// without StartTLS and without insecure: true
		}
		defer ldap.Close()
		if err := handler.Register("ldap", "production", ldap); err != nil {
			return err
		}
		// ClientAddr puts r.RemoteAddr in the context, so failures also back off per client address.
		http.Handle("/api/auth/", ldapauth.ClientAddr(handler))

		providers, err := ldaporg.DecodeConfig(cfg) // every catalog.providers.ldapOrg.<id>, each with its ID
		if err != nil {
			return err
		}
		for _, pc := range providers {
			reader, err := ldaporg.New(pc, nil)
			if err != nil {
				return err
			}
			defer reader.Close()
			snap, err := reader.Read(ctx) // *org.Snapshot: sorted, valid, never partial
			if err != nil {
				return err
			}
			if err := snap.WriteYAML(os.Stdout); err != nil {
				return err
			}
		}
		return nil
	}
	if err := run(); err != nil {
		log.Print(err)
	}
}
