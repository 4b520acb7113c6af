package scm

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
)

// TestCheckSpecBoundsAreExact: 20 topics of up to 50 characters pass, a
// 21st topic or a 51st character does not; a description of 2000 bytes
// passes.
func TestCheckSpecBoundsAreExact(t *testing.T) {
	topics := func(n int) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf("topic-%d", i)
		}
		return s
	}
	for _, tc := range []struct {
		name string
		spec RepositorySpec
		ok   bool
	}{
		{"20 topics", RepositorySpec{Topics: topics(20)}, true},
		{"21 topics", RepositorySpec{Topics: topics(21)}, false},
		{"50-character topic", RepositorySpec{Topics: []string{strings.Repeat("t", 50)}}, true},
		{"51-character topic", RepositorySpec{Topics: []string{strings.Repeat("t", 51)}}, false},
		{"2000-byte description", RepositorySpec{Description: strings.Repeat("d", 2000)}, true},
	} {
		if msg := checkSpec(integrations.GitHub, &tc.spec); (msg == "") != tc.ok {
			t.Errorf("%s: checkSpec = %q; want ok %v", tc.name, msg, tc.ok)
		}
	}
}

// TestCheckAccessRefusesNamesThatChangeTheURL: a team or user name that
// would change the grant's URL (a '%' escape, '?', '#', a '/' in a user
// name) or is over 255 bytes is refused; a team path with '/' is not.
func TestCheckAccessRefusesNamesThatChangeTheURL(t *testing.T) {
	for _, tc := range []struct {
		a  Access
		ok bool
	}{
		{Access{Team: "platform", Permission: Write}, true},
		{Access{Team: "acme/platform", Permission: Write}, true},
		{Access{Team: "..%2f..%2fadmins", Permission: Write}, false},
		{Access{User: "a%2e", Permission: Read}, false},
		{Access{User: "a?b", Permission: Read}, false},
		{Access{User: "a#b", Permission: Read}, false},
		{Access{User: "acme/bob", Permission: Read}, false},
		{Access{User: strings.Repeat("u", 255), Permission: Read}, true},
		{Access{User: strings.Repeat("u", 256), Permission: Read}, false},
	} {
		if msg := checkAccess(tc.a); (msg == "") != tc.ok {
			t.Errorf("checkAccess(%+v) = %q; want ok %v", tc.a, msg, tc.ok)
		}
	}
}
