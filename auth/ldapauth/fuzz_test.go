package ldapauth

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/go-ldap/ldap/v3"
)

// FuzzUsernameFilter checks that any accepted username becomes exactly one
// equality assertion on the username attribute: no metacharacter survives
// escaping, and the escaped form decodes back to the username.
func FuzzUsernameFilter(f *testing.F) {
	for _, s := range []string{"alice", "*", "alice)(uid=*", `o*hara (ops)\`, "a\x00b", "ü", "*)(|(uid=*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, user string) {
		if checkInput(user, "pw") != nil {
			if user != "" && !strings.ContainsFunc(user, unicode.IsControl) && len(user) <= MaxUsernameLength && strings.TrimSpace(user) == user && strings.ToValidUTF8(user, "") == user {
				t.Fatalf("refused a plain username %q", user)
			}
			return
		}
		filter := "(uid=" + ldap.EscapeFilter(user) + ")"
		p, err := ldap.CompileFilter(filter)
		if err != nil {
			t.Fatalf("filter %q for %q does not compile: %v", filter, user, err)
		}
		if p.Tag != ldap.FilterEqualityMatch || len(p.Children) != 2 || p.Children[1].Value != user {
			t.Fatalf("username %q became filter %q", user, filter)
		}
	})
}

func FuzzConfig(f *testing.F) {
	f.Add(`{"ldapAuthenticationOptions":{"userSearchBase":"ou=p","adminDn":"cn=a","adminPassword":"x","ldapOpts":{"url":["ldaps://h"]}}}`)
	f.Add(`{"ldapAuthenticationOptions":{"userSearchBase":"ou=p","adminDn":"cn=a","adminPassword":"x","starttls":false,"ldapOpts":{"url":"ldap://h","tlsOptions":{"rejectUnauthorized":false}}},"backoff":{"initialDelay":"1s","maxDelay":300000}}`)
	f.Fuzz(func(t *testing.T, s string) {
		var c Config
		if json.Unmarshal([]byte(s), &c) != nil {
			return
		}
		a, err := New(c, nil)
		if err != nil {
			return
		}
		defer a.Close()
		if a.insecure && !c.Insecure {
			t.Fatalf("insecure transport without insecure: %s", s)
		}
	})
}
