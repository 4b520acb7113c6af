package bbapi

import (
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"basic", "basic"},
		{"ACME", "acme"},
		{"My Service", "my-service"},
		{"My  Service!!", "my-service"},
		{"a.b_c-d", "a.b_c-d"},
		{"already-a.slug_1", "already-a.slug_1"},
		{"Ünïcode Repo", "n-code-repo"},
		{"  --x--  ", "x"},
	} {
		if got := Slug(tc.in); got != tc.want {
			t.Errorf("Slug(%q) = %q; want %q", tc.in, got, tc.want)
		}
		if got := fakebitbucketserver.Slugify(tc.in); got != tc.want {
			t.Errorf("fakebitbucketserver.Slugify(%q) = %q; want %q (the fake and the drivers must agree)", tc.in, got, tc.want)
		}
	}
}

func TestCode(t *testing.T) {
	for _, tc := range []struct {
		status  int
		limited bool
		want    errcode.Code
	}{
		{http.StatusNotModified, false, errcode.NotModified},
		{http.StatusBadRequest, false, errcode.InvalidArgument},
		{http.StatusUnauthorized, false, errcode.Unauthorized},
		{http.StatusForbidden, false, errcode.PermissionDenied},
		{http.StatusForbidden, true, errcode.RateLimited},
		{http.StatusNotFound, false, errcode.NotFound},
		{http.StatusMethodNotAllowed, false, errcode.InvalidArgument},
		{http.StatusConflict, false, errcode.Conflict},
		{http.StatusPreconditionFailed, false, errcode.Conflict},
		{http.StatusRequestEntityTooLarge, false, errcode.InvalidArgument},
		{http.StatusTooManyRequests, true, errcode.RateLimited},
		{http.StatusInternalServerError, false, errcode.Unavailable},
		{http.StatusNotImplemented, false, errcode.Unimplemented},
		{http.StatusServiceUnavailable, false, errcode.Unavailable},
	} {
		if got := Code(tc.status, tc.limited); got != tc.want {
			t.Errorf("Code(%d, %v) = %v; want %v", tc.status, tc.limited, got, tc.want)
		}
	}
}

func TestParseBaseURL(t *testing.T) {
	for _, raw := range []string{"https://api.bitbucket.org/2.0", "http://127.0.0.1:7990/rest/api/1.0"} {
		if _, err := ParseBaseURL("op", "integrations.x[0]", raw); err != nil {
			t.Errorf("ParseBaseURL(%q): %v", raw, err)
		}
	}
	for _, raw := range []string{"", "api.bitbucket.org/2.0", "ftp://host/x", "https://", "https://h/%zz"} {
		_, err := ParseBaseURL("op", "integrations.x[0]", raw)
		if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("ParseBaseURL(%q) = %v; want InvalidArgument", raw, err)
		}
	}
}
