package bitbucketcloudscm_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// TestErrorInfoAsDocumented: each line of the package doc's error table
// ("Names and errors") is what Driver.ErrorInfo does: the doc once said
// that every 5xx is Unavailable, but 501 is Unimplemented.
func TestErrorInfoAsDocumented(t *testing.T) {
	doc := adaptertest.PackageDoc(t, "bitbucketcloudscm.go")
	d := &bitbucketcloudscm.Driver{}
	status := func(s ...int) []*bitbucketcloudscm.APIError {
		var out []*bitbucketcloudscm.APIError
		for _, s := range s {
			out = append(out, &bitbucketcloudscm.APIError{Status: s})
		}
		return out
	}
	for _, c := range []struct {
		doc  string // what the package doc says
		errs []*bitbucketcloudscm.APIError
		want errcode.Code
	}{
		{"400 InvalidArgument", status(400), errcode.InvalidArgument},
		{"any other 4xx not named here is InvalidArgument too", status(418, 422), errcode.InvalidArgument},
		{"AlreadyExists for a duplicate pull request", []*bitbucketcloudscm.APIError{{Status: 400, Message: "There is already an open pull request from a to b"}}, errcode.AlreadyExists},
		{"401 Unauthorized", status(401), errcode.Unauthorized},
		{"403 PermissionDenied", status(403), errcode.PermissionDenied},
		{"404 NotFound", status(404), errcode.NotFound},
		{"409 Conflict", status(409), errcode.Conflict},
		{"412 Conflict", status(412), errcode.Conflict},
		{"429 RateLimited", []*bitbucketcloudscm.APIError{{Status: 429, RateLimited: true}}, errcode.RateLimited},
		{"501 Unimplemented", status(501), errcode.Unimplemented},
		{"any other 5xx Unavailable", status(500, 502, 503), errcode.Unavailable},
	} {
		if !strings.Contains(doc, c.doc) {
			t.Errorf("the package doc does not say %q", c.doc)
		}
		for _, e := range c.errs {
			if got := d.ErrorInfo(e).Code; got != c.want {
				t.Errorf("%q: HTTP %d is %v; want %v", c.doc, e.Status, got, c.want)
			}
		}
	}
}
