package ldapauth_test

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// A directory that refuses StartTLS (answering the extended operation
// with an error, as a server without a certificate does) gets nothing
// else: no bind, no search, no password in clear. The sign-in fails as
// Unavailable; nothing falls back to plain LDAP.
func TestStartTLSRefusedDoesNotFallBackToPlainLDAP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var requests, afterRefusal atomic.Int32
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func(nc net.Conn) {
				defer nc.Close()
				refused := false
				for {
					nc.SetReadDeadline(time.Now().Add(5 * time.Second))
					p, err := ber.ReadPacket(nc)
					if err != nil {
						return
					}
					requests.Add(1)
					if refused {
						afterRefusal.Add(1)
						return
					}
					// ExtendedResponse: protocolError, "StartTLS not supported".
					msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
					msg.AppendChild(p.Children[0]) // the message id
					res := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 24, nil, "Extended Response")
					res.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 2, "resultCode"))
					res.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
					res.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "unsupported extended operation", "diagnosticMessage"))
					msg.AppendChild(res)
					nc.Write(msg.Bytes())
					refused = true
				}
			}(nc)
		}
	}()
	var c ldapauth.Config
	a := &c.LDAPAuthenticationOptions
	a.UserSearchBase = "ou=people,dc=example,dc=org"
	a.AdminDN = "cn=service,dc=example,dc=org"
	a.AdminPassword = integrations.NewSecret("service-password")
	a.LDAPOpts.URL = ldapauth.StringList{"ldap://" + ln.Addr().String()}
	au := newAuth(t, c, nil)
	_, err = au.AuthenticateFrom(t.Context(), "alice", "alice-password", "")
	if code := errcode.CodeOf(err); code == errcode.OK || code == errcode.Unauthorized {
		t.Fatalf("sign-in against a directory refusing StartTLS: %v; want a failure that is not the user's", err)
	}
	time.Sleep(50 * time.Millisecond)
	if requests.Load() == 0 {
		t.Fatal("the fake directory saw no StartTLS request")
	}
	if n := afterRefusal.Load(); n != 0 {
		t.Fatalf("%d requests were sent in clear after StartTLS was refused", n)
	}
}
