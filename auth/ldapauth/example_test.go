package ldapauth_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/org/ldaporg"
	"github.com/scmkit/scmkit/org/ldaporg/fakead"
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

// Wiring LDAP sign-in and LDAP org reading into a portal, as the README
// shows: one app-config.yaml, auth.providers.ldap.<env> for the sign-in and
// catalog.providers.ldapOrg.<id> for the users and groups. Here the
// directory is org/ldaporg/fakead, an in-process Active Directory fake
// serving ldaps:// with a certificate of its own CA, which Options.TLS
// trusts; against a real directory, leave Options.TLS nil (the system
// roots, or tlsOptions.ca / tls.ca in the config). The form post carries
// the browser's Origin header: /login refuses a request that has neither
// it nor X-Requested-With: XMLHttpRequest.
func Example_wiring() {
	ctx := context.Background()
	const base = "DC=corp,DC=example,DC=com"
	ad, err := fakead.New([]*fakead.Entry{
		{DN: "CN=svc,OU=Service," + base, Attrs: map[string][]string{"objectClass": {"user"}, "cn": {"svc"}}},
		{DN: "CN=Ada Lovelace,OU=Users," + base, Attrs: map[string][]string{"objectClass": {"user"}, "sAMAccountName": {"ada"},
			"cn": {"Ada Lovelace"}, "mail": {"ada@corp.example.com"}, "memberOf": {"CN=Analysts,OU=Groups," + base}}},
		{DN: "CN=Analysts,OU=Groups," + base, Attrs: map[string][]string{"objectClass": {"group"}, "cn": {"analysts"},
			"member": {"CN=Ada Lovelace,OU=Users," + base}}},
	}, map[string]string{"CN=svc,OU=Service," + base: "svc-pw", "CN=Ada Lovelace,OU=Users," + base: "ada-pw"})
	if err != nil {
		log.Fatal(err)
	}
	defer ad.Close()
	env := map[string]string{"LDAP_URL": ad.URL, "LDAP_SECRET": "svc-pw", "SESSION_SECRET": "an-example-session-secret-0123456789"}

	run := func() error {
		cfg, err := config.LoadBytes(ctx, &config.Options{Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}, []byte(`
auth:
  environment: production
  session:
    secret: ${SESSION_SECRET}
  providers:
    ldap:
      production:
        ldapAuthenticationOptions:
          userSearchBase: OU=Users,DC=corp,DC=example,DC=com
          usernameAttribute: sAMAccountName
          adminDn: CN=svc,OU=Service,DC=corp,DC=example,DC=com
          adminPassword: ${LDAP_SECRET}
          ldapOpts:
            url: ${LDAP_URL}
catalog:
  providers:
    ldapOrg:
      corp:
        target: ${LDAP_URL}
        bind:
          dn: CN=svc,OU=Service,DC=corp,DC=example,DC=com
          secret: ${LDAP_SECRET}
        users:
          dn: OU=Users,DC=corp,DC=example,DC=com
          options:
            filter: (objectClass=user)
          map:
            name: sAMAccountName
            rdn: cn
        groups:
          dn: OU=Groups,DC=corp,DC=example,DC=com
          options:
            filter: (objectClass=group)
`))
		if err != nil {
			return err
		}
		trustAD := &tls.Config{RootCAs: ad.CAPool} // nil against a real directory

		// Sign-in: the auth section builds the handler; the LDAP provider
		// is registered on it.
		var ac auth.Config
		if err := cfg.Decode("auth", &ac); err != nil {
			return err
		}
		mux := http.NewServeMux()
		portal := httptest.NewServer(mux)
		defer portal.Close()
		handler, _, err := ac.NewHandler(&auth.Options{BaseURL: portal.URL + "/api/auth"})
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
		ldap, err := ldapauth.New(lc, &ldapauth.Options{TLS: trustAD})
		if err != nil {
			return err // e.g. plain ldap:// without StartTLS and without insecure: true
		}
		defer ldap.Close()
		if err := handler.Register("ldap", "production", ldap); err != nil {
			return err
		}
		// ClientAddr puts r.RemoteAddr in the context, so failures also
		// back off per client address.
		mux.Handle("/api/auth/", ldapauth.ClientAddr(handler))
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			s, err := handler.Session(r)
			if err != nil {
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, "signed in as %s <%s>", s.Identity, s.Identity.Email)
		})

		// The browser posts the sign-in form.
		jar, err := cookiejar.New(nil)
		if err != nil {
			return err
		}
		browser := &http.Client{Jar: jar}
		form := url.Values{"username": {"ada"}, "password": {"ada-pw"}, "redirectUrl": {"/"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, portal.URL+"/api/auth/ldap/login", strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", portal.URL) // a browser sends it with every form post
		resp, err := browser.Do(req)
		if err != nil {
			return err
		}
		page, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		fmt.Println(resp.StatusCode, string(page))

		// Org data: every catalog.providers.ldapOrg.<id>, each with its ID.
		providers, err := ldaporg.DecodeConfig(cfg)
		if err != nil {
			return err
		}
		for _, pc := range providers {
			reader, err := ldaporg.New(pc, &ldaporg.Options{TLS: trustAD})
			if err != nil {
				return err
			}
			defer reader.Close()
			snap, err := reader.Read(ctx) // *org.Snapshot: sorted, valid, never partial
			if err != nil {
				return err
			}
			for _, u := range snap.Users {
				fmt.Println(pc.ID, "user", u.Metadata.Name, u.Spec.MemberOf)
			}
			for _, g := range snap.Groups {
				fmt.Println(pc.ID, "group", g.Metadata.Name, g.Metadata.Annotations["backstage.io/ldap-dn"])
			}
		}
		return nil
	}
	if err := run(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 200 signed in as ldap:ada <ada@corp.example.com>
	// corp user ada [group:default/analysts]
	// corp group analysts CN=Analysts,OU=Groups,DC=corp,DC=example,DC=com
}
