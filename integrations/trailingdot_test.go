package integrations

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// TestTrailingDotHostIsRefusedWithUsableAdvice: "github.com." names the
// same machine as github.com but is not matched (nothing is sent to it
// with a credential); the error says to drop the dot, not to configure
// "github.com.", which validation refuses.
func TestTrailingDotHostIsRefusedWithUsableAdvice(t *testing.T) {
	var r Registry
	for _, u := range []string{"https://github.com./acme/repo/blob/main/x", "https://GitLab.com.:443/g/p/-/blob/main/x"} {
		_, err := r.Parse(u)
		if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Fatalf("Parse(%s) = %v; want InvalidArgument", u, err)
		}
		if strings.Contains(err.Error(), "add an entry") || !strings.Contains(err.Error(), "trailing dot") {
			t.Errorf("Parse(%s) = %v; want advice to drop the trailing dot", u, err)
		}
	}
	_, err := r.Parse("https://unknown.example./x")
	if !strings.Contains(err.Error(), "add an entry") {
		t.Errorf("Parse(unknown.example.) = %v; want the usual advice", err)
	}
}
