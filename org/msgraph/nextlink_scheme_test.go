package msgraph_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/org/msgraph"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
)

// otherSchemeLinks rewrites Graph's nextLinks to the same host under
// another scheme.
var otherSchemeLinks = readertest.Rewrite{Edit: func(resp *http.Response, b []byte) []byte {
	return bytes.ReplaceAll(b, []byte(`"@odata.nextLink":"http://`+resp.Request.URL.Host), []byte(`"@odata.nextLink":"https://`+resp.Request.URL.Host))
}}

// TestNextLinkOfAnotherSchemeIsRefused: a nextLink on the target's host
// but another scheme is not followed (the bearer token goes to the
// configured scheme only).
func TestNextLinkOfAnotherSchemeIsRefused(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	for i := range 1200 {
		f.PutUser(fakegraph.User{DisplayName: fmt.Sprint("u", i), Mail: fmt.Sprintf("u%d@contoso.com", i)})
	}
	if !strings.HasPrefix(f.URL(), "http://") {
		t.Fatalf("the fake is served at %s; the test rewrites plain-http links", f.URL())
	}
	_, err := newReader(t, cfgFor(f), func(o *msgraph.Options) { o.Transport = otherSchemeLinks }).Read(context.Background())
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v; want InvalidArgument refusing the link", err)
	}
}
