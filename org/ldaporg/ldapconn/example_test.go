package ldapconn_test

import (
	"fmt"

	"github.com/scmkit/scmkit/org/ldaporg/ldapconn"
)

// New checks the transport before anything is dialled: ldap:// gets
// StartTLS, and plain LDAP needs Insecure.
func ExampleNew() {
	p, err := ldapconn.New(ldapconn.Options{URL: "ldap://ldap.example.org"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.URL(), "plain text:", p.PlainText())

	no := false
	_, err = ldapconn.New(ldapconn.Options{URL: "ldap://ldap.example.org", StartTLS: &no})
	fmt.Println(err)
	// Output:
	// ldap://ldap.example.org:389 plain text: false
	// ldapconn.New: plain ldap:// without StartTLS sends passwords in clear: use ldaps://, StartTLS, or set insecure explicitly (InvalidArgument)
}
