package bitbucketserverscm_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// TestErrorInfoAsDocumented: each line of the package doc's error table
// ("Names and errors") is what Driver.ErrorInfo does: the doc once said
// that every AuthorisationException is PermissionDenied (an anonymous one
// stays Unauthorized) and that 501 is Unavailable.
func TestErrorInfoAsDocumented(t *testing.T) {
	doc := adaptertest.PackageDoc(t, "bitbucketserverscm.go")
	d := &bitbucketserverscm.Driver{}
	authz := []bitbucketserverscm.ErrorMessage{{ExceptionName: "com.atlassian.bitbucket.AuthorisationException", Message: "insufficient permissions"}}
	status := func(s int, exc string) *bitbucketserverscm.APIError {
		e := &bitbucketserverscm.APIError{Status: s, User: "alice"}
		if exc != "" {
			e.Errors = []bitbucketserverscm.ErrorMessage{{ExceptionName: exc}}
		}
		return e
	}
	for _, c := range []struct {
		doc  string // what the package doc says
		errs []*bitbucketserverscm.APIError
		want errcode.Code
	}{
		{"400 InvalidArgument (as is any other 4xx not named here)", []*bitbucketserverscm.APIError{status(400, ""), status(418, ""), status(422, "")}, errcode.InvalidArgument},
		{"401 Unauthorized", []*bitbucketserverscm.APIError{status(401, "com.atlassian.bitbucket.auth.IncorrectPasswordAuthenticationException")}, errcode.Unauthorized},
		{"PermissionDenied with an AuthorisationException when the answer names the user in X-AUSERNAME",
			[]*bitbucketserverscm.APIError{{Status: 401, Errors: authz, User: "alice"}}, errcode.PermissionDenied},
		{"an anonymous request gets the same exception and stays Unauthorized",
			[]*bitbucketserverscm.APIError{{Status: 401, Errors: authz}}, errcode.Unauthorized},
		{"403 PermissionDenied", []*bitbucketserverscm.APIError{status(403, "")}, errcode.PermissionDenied},
		{"404 NotFound", []*bitbucketserverscm.APIError{status(404, "")}, errcode.NotFound},
		{"409 Conflict", []*bitbucketserverscm.APIError{status(409, "")}, errcode.Conflict},
		{"AlreadyExists for DuplicatePullRequestException", []*bitbucketserverscm.APIError{status(409, "com.atlassian.bitbucket.pull.DuplicatePullRequestException")}, errcode.AlreadyExists},
		{"412 Conflict", []*bitbucketserverscm.APIError{status(412, "")}, errcode.Conflict},
		{"429 RateLimited", []*bitbucketserverscm.APIError{{Status: 429, RateLimited: true}}, errcode.RateLimited},
		{"501 Unimplemented", []*bitbucketserverscm.APIError{status(501, "")}, errcode.Unimplemented},
		{"any other 5xx Unavailable", []*bitbucketserverscm.APIError{status(500, ""), status(502, ""), status(503, "")}, errcode.Unavailable},
	} {
		if !strings.Contains(doc, c.doc) {
			t.Errorf("the package doc does not say %q", c.doc)
		}
		for _, e := range c.errs {
			if got := d.ErrorInfo(e).Code; got != c.want {
				t.Errorf("%q: HTTP %d (user %q) is %v; want %v", c.doc, e.Status, e.User, got, c.want)
			}
		}
	}
}
