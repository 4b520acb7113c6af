package ldapconn_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org/ldaporg/ldapconn"
)

// TestNewRedactsURL: a URL New refuses is quoted without its user
// information, and one that does not parse is not quoted at all.
func TestNewRedactsURL(t *testing.T) {
	for _, raw := range []string{
		"ftp://admin:s3cr3t@ldap.example",
		"ldaps://cn=admin:s3cr3t@ldap.example:636",
		"ldap s://admin:s3cr3t@ldap.example",
	} {
		_, err := ldapconn.New(ldapconn.Options{URL: raw})
		if errcode.CodeOf(err) != errcode.InvalidArgument || strings.Contains(fmt.Sprintf("%v %+v", err, err), "s3cr3t") {
			t.Errorf("New(%q) = %v; want InvalidArgument without the secret", raw, err)
		}
	}
}
