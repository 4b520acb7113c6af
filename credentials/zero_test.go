package credentials

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// TestZeroResolver: a Resolver not made by NewResolver says so, instead of
// "no integration is configured for host github.com" (NewResolver(nil,
// nil) does know github.com).
func TestZeroResolver(t *testing.T) {
	var r Resolver
	for _, req := range []Request{{Host: "github.com"}, {URL: "https://github.com/acme/repo"}} {
		_, err := r.Resolve(t.Context(), req)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "NewResolver") {
			t.Errorf("Resolve(%+v) = %v; want InvalidArgument naming NewResolver", req, err)
		}
		_, _, err = r.Explain(t.Context(), req)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "NewResolver") {
			t.Errorf("Explain(%+v) = %v; want InvalidArgument naming NewResolver", req, err)
		}
	}
}
