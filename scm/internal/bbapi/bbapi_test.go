package bbapi

import (
	"net/http"
	"net/url"
	"strings"
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

func TestCheckPath(t *testing.T) {
	for _, tc := range []struct {
		raw string
		ok  bool
	}{
		{"https://api.bitbucket.org/2.0/repositories/acme/svc/src/main/", true},
		{"https://h/rest/api/1.0/projects/K/repos/a.b/raw/x...y?at=..", true},
		{"https://h/repos/.../raw/%252e%252e", true},
		{"https://h/repos/../raw/x", false},
		{"https://h/repos/./raw/x", false},
		{"https://h/repos/%2e%2E/raw/x", false},
		{"https://h/repos/%2e/raw/x", false},
		{"https://h/repos/x/..", false},
		// An empty slug ("!!!"): merged slashes name another resource.
		{"https://h/2.0/repositories/acme//src/main/x", false},
		{"https://h/rest/api/1.0/projects/K/repos//raw/x", false},
		{"https://h/2.0/repositories/acme/svc/src/main/", true},
		{"https://h/2.0/repositories/acme/svc/src//", false},
		{"https://h/2.0/repositories/acme//", false},
	} {
		u, err := url.Parse(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckPath(u); (err == nil) != tc.ok || err != nil && errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("CheckPath(%s) = %v; want ok %v", tc.raw, err, tc.ok)
		}
	}
}

// FuzzCheckPath: a URL that CheckPath accepts has no segment that is, or
// decodes to, "." or "..".
func FuzzCheckPath(f *testing.F) {
	for _, s := range []string{"/a/b", "/a/../b", "/%2e%2e/x", "/a/%2E/b", "/...", "/a%2f..%2fb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		u, err := url.Parse("https://h" + p)
		if err != nil || CheckPath(u) != nil {
			return
		}
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			dec, _ := url.PathUnescape(seg)
			if seg == "." || seg == ".." || dec == "." || dec == ".." {
				t.Fatalf("CheckPath accepted %q (segment %q)", u.EscapedPath(), seg)
			}
		}
	})
}
