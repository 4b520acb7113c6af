package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"os"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/integrations"
	// internal/testsvc starts the fake world's slapd (startLDAP) and names
	// its seeded accounts; it serves the demo's embedded directory only,
	// never the -config path. A copy of this example outside the module
	// drops it with the fake world (or starts its own directory).
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/org/ldaporg/fakead"
)

// LDAP sign-in: a password provider beside the OAuth ones. The home page
// shows a username and password form that posts to
// /api/auth/ldap/login. In the fake world the directory is a real slapd
// when one is installed (started in a throw-away directory), otherwise the
// in-process fake Active Directory of org/ldaporg/fakead; with -config, it
// is auth.providers.ldap.<auth.environment> of the app-config.

// The fake world's directory account: alice, password "alice-password".
const (
	ldapAliceDN       = "uid=alice,ou=people,dc=example,dc=org"
	ldapAlicePassword = "alice-password"
)

const ldapSeed = `dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
displayName: Alice Liddell
mail: alice@example.com
userPassword: alice-password
`

// ldapDir is the fake world's directory.
type ldapDir struct {
	url, kind string
	roots     *x509.CertPool
	close     func()
}

// startLDAP starts slapd, or the in-process directory when slapd is not
// installed.
func startLDAP() (*ldapDir, error) {
	if dir, err := os.MkdirTemp("", "portal-slapd"); err == nil {
		s, stop, err := testsvc.LaunchSlapd(dir, &testsvc.SlapdOptions{LDIF: []byte(ldapSeed)})
		if err == nil {
			return &ldapDir{url: s.LDAPSURL, kind: "slapd", roots: s.CAPool, close: func() { stop(); os.RemoveAll(dir) }}, nil
		}
		os.RemoveAll(dir)
		if !errors.Is(err, testsvc.ErrNotInstalled) {
			return nil, err
		}
	}
	return startFakeLDAP()
}

// startFakeLDAP starts the in-process directory.
func startFakeLDAP() (*ldapDir, error) {
	ad, err := fakead.New([]*fakead.Entry{{DN: ldapAliceDN, Attrs: map[string][]string{
		"objectClass": {"inetOrgPerson"}, "uid": {"alice"}, "cn": {"Alice Liddell"},
		"displayName": {"Alice Liddell"}, "mail": {"alice@example.com"},
	}}, {DN: testsvc.SlapdServiceDN, Attrs: map[string][]string{"cn": {"reader"}}}},
		map[string]string{ldapAliceDN: ldapAlicePassword, testsvc.SlapdServiceDN: testsvc.SlapdServicePassword})
	if err != nil {
		return nil, err
	}
	return &ldapDir{url: ad.URL, kind: "in-process directory", roots: ad.CAPool, close: func() { ad.Close() }}, nil
}

// addLDAP registers the fake world's LDAP provider.
func (d *ldapDir) addLDAP(deps *deps, env string) (io.Closer, error) {
	var c ldapauth.Config
	o := &c.LDAPAuthenticationOptions
	o.UserSearchBase = testsvc.SlapdPeopleDN
	o.AdminDN, o.AdminPassword = testsvc.SlapdServiceDN, integrations.NewSecret(testsvc.SlapdServicePassword)
	o.LDAPOpts.URL = ldapauth.StringList{d.url}
	return registerLDAP(c, deps, env, &ldapauth.Options{TLS: &tls.Config{RootCAs: d.roots}})
}

// ldapFromConfig registers auth.providers.ldap.<env> of an app-config, if
// it has one.
func ldapFromConfig(cfg *config.Config, deps *deps, env string) (io.Closer, error) {
	c, ok, err := ldapauth.DecodeConfig(cfg, env)
	if err != nil || !ok {
		return nil, err
	}
	return registerLDAP(c, deps, env, nil)
}

func registerLDAP(c ldapauth.Config, deps *deps, env string, o *ldapauth.Options) (io.Closer, error) {
	a, err := ldapauth.New(c, o)
	if err != nil {
		return nil, err
	}
	if err := deps.auth.Register("ldap", env, a); err != nil {
		a.Close()
		return nil, err
	}
	deps.providers = append(deps.providers, "ldap")
	return a, nil
}
