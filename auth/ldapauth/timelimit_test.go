package ldapauth_test

import (
	"net"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// fakeDirectory answers every bind with success and every search with
// resultCode (no entry): a directory that is overloaded (timeLimitExceeded,
// adminLimitExceeded) or finds several entries (sizeLimitExceeded).
func fakeDirectory(t *testing.T, resultCode int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func(nc net.Conn) {
				defer nc.Close()
				for {
					nc.SetReadDeadline(time.Now().Add(5 * time.Second))
					p, err := ber.ReadPacket(nc)
					if err != nil || len(p.Children) < 2 {
						return
					}
					tag, code := ber.Tag(1), int64(0) // BindResponse, success
					switch p.Children[1].Tag {
					case 0: // BindRequest
					case 3: // SearchRequest
						tag, code = 5, resultCode // SearchResultDone
					default:
						return
					}
					msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
					msg.AppendChild(p.Children[0])
					res := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "Response")
					res.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, code, "resultCode"))
					res.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
					res.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "diagnosticMessage"))
					msg.AppendChild(res)
					if _, err := nc.Write(msg.Bytes()); err != nil {
						return
					}
				}
			}(nc)
		}
	}()
	return "ldap://" + ln.Addr().String()
}

// A directory that gives up on the user search (a time or admin limit:
// it is overloaded) is the directory failing, not the user: the sign-in
// is not "invalid username or password", and it does not count toward
// the username's back-off. Only a size limit (the search asks for two
// entries at most) means the username matches several entries.
func TestDirectoryLimitIsNotTheUsersFailure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		code  int64
		blame bool
	}{
		{"timeLimitExceeded", 3, false},
		{"adminLimitExceeded", 11, false},
		{"sizeLimitExceeded", 4, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c ldapauth.Config
			a := &c.LDAPAuthenticationOptions
			a.UserSearchBase = "ou=people,dc=example,dc=org"
			a.AdminDN = "cn=service,dc=example,dc=org"
			a.AdminPassword = integrations.NewSecret("service-password")
			a.LDAPOpts.URL = ldapauth.StringList{fakeDirectory(t, tc.code)}
			a.StartTLS = new(bool)
			c.Insecure = true
			c.Backoff = &ldapauth.BackoffConfig{FreeAttempts: 1, FreeAttemptsPerAddress: 100, InitialDelay: ldapauth.Duration(time.Hour), MaxDelay: ldapauth.Duration(time.Hour)}
			au := newAuth(t, c, nil)
			_, err := au.AuthenticateFrom(t.Context(), "alice", "alice-password", "")
			if got := errcode.CodeOf(err) == errcode.Unauthorized; got != tc.blame {
				t.Fatalf("sign-in: %v; want Unauthorized %v", err, tc.blame)
			}
			// A second attempt is delayed only when the first was the user's.
			_, err = au.AuthenticateFrom(t.Context(), "alice", "alice-password", "")
			if backingOff := errcode.CodeOf(err) == errcode.RateLimited; backingOff != tc.blame {
				t.Fatalf("second sign-in: %v; want backing off %v", err, tc.blame)
			}
		})
	}
}
