package gitlabscm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
)

func testDriver(t *testing.T, now time.Time) *Driver {
	t.Helper()
	d, err := New(&integrations.Integration{Kind: integrations.GitLab, Host: "gitlab.example.com",
		APIBaseURL: "https://gitlab.example.com/gitlab/api/v4", BaseURL: "https://gitlab.example.com/gitlab",
		ConfigPath: "integrations.gitlab[0]"}, &Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// answer builds the error client-go or the driver makes of an answer.
func answer(status int, header map[string]string, body string) error {
	u, _ := url.Parse("https://gitlab.example.com/gitlab/api/v4/projects/acme%2Fsvc")
	resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)),
		Request: &http.Request{Method: http.MethodGet, URL: u}}
	for k, v := range header {
		resp.Header.Set(k, v)
	}
	return responseError(resp)
}

func TestErrorInfo(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	d := testDriver(t, now)
	reset := now.Add(time.Hour)
	for _, tc := range []struct {
		name      string
		err       error
		want      errcode.Code
		wantRetry time.Time
	}{
		{"nil", nil, errcode.OK, time.Time{}},
		{"404 project", answer(404, nil, `{"message":"404 Project Not Found"}`), errcode.NotFound, time.Time{}},
		{"404 file", answer(404, nil, `{"message":"404 File Not Found"}`), errcode.NotFound, time.Time{}},
		{"404 from Workhorse", answer(404, nil, "Not Found\n"), errcode.NotFound, time.Time{}},
		{"client-go 404 sentinel", fmt.Errorf("get: %w", gitlab.ErrNotFound), errcode.NotFound, time.Time{}},
		{"401", answer(401, nil, `{"message":"401 Unauthorized"}`), errcode.Unauthorized, time.Time{}},
		{"403", answer(403, nil, `{"message":"403 Forbidden"}`), errcode.PermissionDenied, time.Time{}},
		{"403 rate limited", answer(403, map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10)}, ""),
			errcode.RateLimited, reset},
		{"409 merge request exists", answer(409, nil, `{"message":["Another open merge request already exists for this source branch: !1"]}`),
			errcode.AlreadyExists, time.Time{}},
		{"400 file exists", answer(400, nil, `{"message":"A file with this name already exists"}`), errcode.AlreadyExists, time.Time{}},
		{"400 branch exists", answer(400, nil, `{"message":"Branch already exists"}`), errcode.AlreadyExists, time.Time{}},
		{"400 file changed", answer(400, nil, `{"message":"The file has changed since you started editing it: a.txt"}`), errcode.Conflict, time.Time{}},
		{"400 parameter", answer(400, nil, `{"error":"branch is missing"}`), errcode.InvalidArgument, time.Time{}},
		{"422 object message", answer(422, nil, `{"message":{"base":["Invalid"],"title":["is too long"]}}`), errcode.InvalidArgument, time.Time{}},
		{"422 already exists", answer(422, nil, `{"message":{"name":["has already been taken","already exists"]}}`), errcode.AlreadyExists, time.Time{}},
		{"405 keyset refused", answer(405, nil, `{"message":"405 Method Not Allowed"}`), errcode.InvalidArgument, time.Time{}},
		{"429 Retry-After", answer(429, map[string]string{"Retry-After": "3600"}, `{"message":{"error":"This endpoint has been requested too many times. Try again later."}}`),
			errcode.RateLimited, reset},
		{"429 RateLimit-Reset", answer(429, map[string]string{"RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10), "RateLimit-Remaining": "0"}, "Retry later\n"),
			errcode.RateLimited, reset},
		{"429 bare", answer(429, nil, "Retry later\n"), errcode.RateLimited, time.Time{}},
		{"500", answer(500, nil, `{"message":"500 Internal Server Error"}`), errcode.Unavailable, time.Time{}},
		{"502 HTML", answer(502, nil, "<html>GitLab is not responding</html>"), errcode.Unavailable, time.Time{}},
		{"graphql complexity", &GraphQLError{Status: 200, Errors: []GraphQLErrorItem{{Message: "Query has complexity of 300, which exceeds max complexity of 250"}}},
			errcode.InvalidArgument, time.Time{}},
		{"graphql unknown", &GraphQLError{Status: 200, Errors: []GraphQLErrorItem{{Message: "Something odd"}}}, errcode.Unknown, time.Time{}},
		{"our own", errcode.New(errcode.NotModified, "", "unchanged"), errcode.NotModified, time.Time{}},
		{"canceled", fmt.Errorf("wrapped: %w", context.Canceled), errcode.Canceled, time.Time{}},
		{"deadline", context.DeadlineExceeded, errcode.DeadlineExceeded, time.Time{}},
		{"truncated", fmt.Errorf("decoding: %w", io.ErrUnexpectedEOF), errcode.Unavailable, time.Time{}},
		{"other", errors.New("boom"), errcode.Unknown, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := d.ErrorInfo(tc.err)
			if info.Code != tc.want {
				t.Errorf("ErrorInfo(%v).Code = %v; want %v", tc.err, info.Code, tc.want)
			}
			if !info.RetryAt.Equal(tc.wantRetry) {
				t.Errorf("ErrorInfo(%v).RetryAt = %v; want %v", tc.err, info.RetryAt, tc.wantRetry)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{`{"message":"404 Project Not Found"}`, "404 Project Not Found"},
		{`{"message":["Another open merge request already exists for this source branch: !1"]}`,
			"Another open merge request already exists for this source branch: !1"},
		{`{"message":{"base":["Invalid"],"title":["is too long","is bad"]}}`, "Invalid; title is too long; is bad"},
		{`{"message":{"error":"This endpoint has been requested too many times. Try again later."}}`,
			"This endpoint has been requested too many times. Try again later."},
		{`{"error":"invalid_token","error_description":"Token was revoked."}`, "invalid_token: Token was revoked."},
		{`{"error":"branch is missing"}`, "branch is missing"},
		{"Retry later\n", "Retry later"},
		{"", ""},
	} {
		err := answer(400, nil, tc.body)
		var er *gitlab.ErrorResponse
		if !errors.As(err, &er) {
			t.Fatalf("responseError(%q) = %T; want *gitlab.ErrorResponse", tc.body, err)
		}
		if er.Message != tc.want {
			t.Errorf("message of %s = %q; want %q", tc.body, er.Message, tc.want)
		}
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name, api string
		wantErr   bool
		wantGQL   string
	}{
		{"gitlab.com", "https://gitlab.com/api/v4", false, "https://gitlab.com/api/graphql"},
		{"sub-path", "https://git.example.com/gitlab/api/v4/", false, "https://git.example.com/gitlab/api/graphql"},
		{"no /api/v4", "https://git.example.com/api", true, ""},
		{"not http", "ftp://git.example.com/api/v4", true, ""},
		{"query", "https://git.example.com/api/v4?x=1", true, ""},
	} {
		d, err := New(&integrations.Integration{Kind: integrations.GitLab, Host: "h", APIBaseURL: tc.api, ConfigPath: "integrations.gitlab[0]"}, nil)
		if tc.wantErr {
			if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "integrations.gitlab[0]") {
				t.Errorf("%s: New = %v; want InvalidArgument naming the config entry", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: New: %v", tc.name, err)
			continue
		}
		if got := d.graphqlURL.String(); got != tc.wantGQL {
			t.Errorf("%s: GraphQL URL %s; want %s", tc.name, got, tc.wantGQL)
		}
	}
	if _, err := New(&integrations.Integration{Kind: integrations.GitHub}, nil); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("New(GitHub integration) = %v; want InvalidArgument", err)
	}
}

func TestCheckRepo(t *testing.T) {
	for _, tc := range []struct {
		owner, name string
		ok          bool
	}{
		{"acme", "svc", true},
		{"acme/platform/tools", "my.repo_x-1", true},
		{"acme/../x", "svc", false},
		{"acme//x", "svc", false},
		{"acme", "..", false},
		{"acme", "-svc", false},
		{"acme", "a b", false},
		{"acme", "a%2Fb", false},
		{"", "svc", false},
	} {
		err := checkRepo(driverRepo(tc.owner, tc.name))
		if (err == nil) != tc.ok {
			t.Errorf("checkRepo(%q, %q) = %v; want ok %v", tc.owner, tc.name, err, tc.ok)
		}
	}
}

func driverRepo(owner, name string) driver.Repo { return driver.Repo{Owner: owner, Name: name} }
