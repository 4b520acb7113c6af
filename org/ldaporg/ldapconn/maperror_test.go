package ldapconn

import (
	"errors"
	"net/url"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scmkit/scmkit/errcode"
)

// A directory's limits are not rate limits: no wait makes the same search
// fit its size limit (InvalidArgument: page, or narrow the filter), and a
// time or administrative limit is the directory giving up (Unavailable).
// They were RateLimited with no RetryAt, which invites blind retries.
func TestMapErrorLimits(t *testing.T) {
	p := &Pool{u: &url.URL{Scheme: "ldaps", Host: "dc1.example.com"}}
	for _, tc := range []struct {
		code uint16
		want errcode.Code
	}{
		{ldap.LDAPResultSizeLimitExceeded, errcode.InvalidArgument},
		{ldap.LDAPResultTimeLimitExceeded, errcode.Unavailable},
		{ldap.LDAPResultAdminLimitExceeded, errcode.Unavailable},
		{ldap.LDAPResultInvalidCredentials, errcode.Unauthorized},
		{ldap.LDAPResultBusy, errcode.Unavailable},
	} {
		err := p.mapError("op", ldap.NewError(tc.code, errors.New("x")))
		if got := errcode.CodeOf(err); got != tc.want {
			t.Errorf("%s: %v; want %v", ldap.LDAPResultCodeMap[tc.code], got, tc.want)
		}
		if _, ok := errcode.RetryAt(err); ok {
			t.Errorf("%s: a RetryAt without a wait the directory named", ldap.LDAPResultCodeMap[tc.code])
		}
	}
}
