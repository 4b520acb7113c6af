package githubscm

import (
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// TestNewRefusesCommitAuthor: an author git refuses in a commit ('<',
// '>', a newline or a NUL byte in the name or email) is refused by New.
func TestNewRefusesCommitAuthor(t *testing.T) {
	in := &integrations.Integration{Kind: integrations.GitHub, Host: "github.com", APIBaseURL: "https://api.github.com"}
	for _, tc := range []struct {
		author Signature
		ok     bool
	}{
		{Signature{Name: "Ada Lovelace", Email: "ada@example.com"}, true},
		{Signature{}, true},
		{Signature{Name: "a>b", Email: "a@b"}, false},
		{Signature{Name: "a<b", Email: "a@b"}, false},
		{Signature{Name: "n", Email: "a@b\ncommitter x <x@y> 0 +0000"}, false},
		{Signature{Name: "n\x00", Email: "a@b"}, false},
		{Signature{Name: "n", Email: "<a@b>"}, false},
	} {
		_, err := New(in, &Options{CommitAuthor: &tc.author})
		if (err == nil) != tc.ok || (err != nil && errcode.CodeOf(err) != errcode.InvalidArgument) {
			t.Errorf("New with CommitAuthor %+v = %v; want accepted %v, else InvalidArgument", tc.author, err, tc.ok)
		}
	}
}
