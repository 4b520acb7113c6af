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

// FuzzUsernameKey checks the back-off key folds what the directory folds:
// a key is its own key (so folding is complete), and a username spelled
// with fullwidth or upper-case letters, or with soft hyphens between its
// characters, has the key of the plain one.
func FuzzUsernameKey(f *testing.F) {
	for _, s := range []string{"alice", "John Smith", "ｂｏｂ", "straße", "b\u00adob", "ǅemal", "İstanbul", "ﬁ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, user string) {
		if checkInput(user, "pw") != nil {
			return // never reaches the back-off
		}
		k := usernameKey(user)
		if usernameKey(k) != k {
			t.Fatalf("usernameKey(%q) = %q, whose key is %q", user, k, usernameKey(k))
		}
		var wide, hyphened strings.Builder
		for _, r := range user {
			switch {
			case r >= '!' && r <= '~':
				wide.WriteRune(r - '!' + '！') // the fullwidth form, NFKC-equivalent
			default:
				wide.WriteRune(r)
			}
			hyphened.WriteRune(r)
			hyphened.WriteRune('\u00ad')
		}
		if w := usernameKey(strings.ToUpper(wide.String())); w != usernameKey(strings.ToUpper(user)) {
			t.Fatalf("fullwidth %q has key %q, %q has %q", wide.String(), w, user, usernameKey(strings.ToUpper(user)))
		}
		if h := usernameKey(hyphened.String()); h != k {
			t.Fatalf("%q with soft hyphens has key %q, want %q", user, h, k)
		}
	})
}
