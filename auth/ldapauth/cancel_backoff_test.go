package ldapauth_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/integrations"
)

// slowBindDirectory finds every username as one entry and answers a bind
// as that entry with invalidCredentials after delay (a directory under
// load, or an AD that counts the failure towards its lockout either way);
// the service account's bind succeeds at once. userBinds counts the binds
// as a user that reached it.
func slowBindDirectory(t *testing.T, delay time.Duration, userBinds *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	const userDN = "uid=alice,ou=people,dc=example,dc=org"
	answer := func(nc net.Conn, id *ber.Packet, tag ber.Tag, code int64) error {
		msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
		msg.AppendChild(id)
		res := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "Response")
		res.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, code, "resultCode"))
		res.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
		res.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "diagnosticMessage"))
		msg.AppendChild(res)
		_, err := nc.Write(msg.Bytes())
		return err
	}
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
					op := p.Children[1]
					switch op.Tag {
					case 0: // BindRequest: version, name, auth
						name := ""
						if len(op.Children) > 1 {
							name = op.Children[1].Data.String()
						}
						if name == userDN {
							userBinds.Add(1)
							time.Sleep(delay)
							if answer(nc, p.Children[0], 1, 49) != nil { // invalidCredentials
								return
							}
							continue
						}
						if answer(nc, p.Children[0], 1, 0) != nil {
							return
						}
					case 3: // SearchRequest: one entry, then done
						msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
						msg.AppendChild(p.Children[0])
						e := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 4, nil, "SearchResultEntry")
						e.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, userDN, "objectName"))
						e.AppendChild(ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes"))
						msg.AppendChild(e)
						if _, err := nc.Write(msg.Bytes()); err != nil {
							return
						}
						if answer(nc, p.Children[0], 5, 0) != nil {
							return
						}
					default:
						return
					}
				}
			}(nc)
		}
	}()
	return "ldap://" + ln.Addr().String()
}

// Regression (final review, session 22):
// a caller that gives up while the user's bind is at the
// directory (a client closing the request; here a short deadline) has
// its attempt taken back (blame false: the error is the context's), yet
// the directory received the bind and, for a wrong password, counts it
// towards its own lockout. Guesses cancelled so never meet the back-off:
// far more than FreeAttempts wrong binds reach the directory, which is
// what the back-off exists to prevent (config.go: "Attempts refused by
// the back-off never reach the directory, so they cannot lock the account
// there").
func TestCancelledSignInsCountAgainstTheBackoff(t *testing.T) {
	var binds atomic.Int64
	var c ldapauth.Config
	a := &c.LDAPAuthenticationOptions
	a.UserSearchBase = "ou=people,dc=example,dc=org"
	a.AdminDN = "cn=service,dc=example,dc=org"
	a.AdminPassword = integrations.NewSecret("service-password")
	a.LDAPOpts.URL = ldapauth.StringList{slowBindDirectory(t, 300*time.Millisecond, &binds)}
	a.StartTLS = new(bool)
	c.Insecure = true
	c.Backoff = &ldapauth.BackoffConfig{FreeAttempts: 3, FreeAttemptsPerAddress: 100, InitialDelay: ldapauth.Duration(time.Hour), MaxDelay: ldapauth.Duration(time.Hour)}
	au := newAuth(t, c, nil)
	for range 10 {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		_, err := au.AuthenticateFrom(ctx, "alice", "guess", "192.0.2.7")
		cancel()
		t.Logf("cancelled attempt: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	if n := binds.Load(); n > 3 {
		t.Errorf("%d wrong-password binds reached the directory with FreeAttempts 3: cancelled attempts are taken back", n)
	}
}
