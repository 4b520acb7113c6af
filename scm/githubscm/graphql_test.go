package githubscm

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestQueriesMatchGitHubSchema validates every GraphQL query the driver
// sends against GitHub's schema (the fake's embedded copy of
// @octokit/graphql-schema's type definitions).
func TestQueriesMatchGitHubSchema(t *testing.T) {
	paths := []string{"a.txt", "dir/b.txt", "dir"}
	tests := []struct {
		name  string
		query string
	}{
		{"FindFiles", findFilesQuery},
		{"PreparePullRequest with base", prepareQuery(true, paths, map[string]any{})},
		{"PreparePullRequest default branch", prepareQuery(false, paths, map[string]any{})},
		{"PreparePullRequest no path", prepareQuery(false, nil, map[string]any{})},
		{"CheckPaths", checkQuery(100, paths, map[string]any{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := fakegithub.ValidateQuery(tt.query); err != nil {
				t.Errorf("invalid against GitHub's schema: %v\n%s", err, tt.query)
			}
		})
	}
	// The validator catches what GitHub would refuse.
	for _, bad := range []string{
		`query($o: String!) { repositoryOwner(login: $o) { repositories(first: 1) { nodes { nope } } } }`,
		`query($o: String) { repositoryOwner(login: $o) { login } }`,
		`query($o: String!) { repositoryOwner(login: $o) { login } repository(owner: $o) { name } }`,
		`query { repository(owner: "a", name: "b") { ref(qualifiedName: "x") { associatedPullRequests(states: [OPENED], first: 1) { totalCount } } } }`,
		`query($o: String!, $unused: Int) { repositoryOwner(login: $o) { login } }`,
		`query { repository(owner: "a", name: "b") { object(expression: "HEAD:x") { oid ... on Repository { name } } } }`,
	} {
		if err := fakegithub.ValidateQuery(bad); err == nil {
			t.Errorf("ValidateQuery(%s) found no error; want one", bad)
		}
	}
}

func TestAPIURLs(t *testing.T) {
	for _, tt := range []struct {
		api, base, upload, graphql string
	}{
		{"https://api.github.com", "https://api.github.com/", "https://uploads.github.com/", "https://api.github.com/graphql"},
		{"https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/uploads/", "https://ghe.example.com/api/graphql"},
		{"https://ghe.example.com:8443/api/v3/", "https://ghe.example.com:8443/api/v3/", "https://ghe.example.com:8443/api/uploads/", "https://ghe.example.com:8443/api/graphql"},
		{"http://127.0.0.1:9999", "http://127.0.0.1:9999/", "http://127.0.0.1:9999/", "http://127.0.0.1:9999/graphql"},
	} {
		d, err := New(githubIntegration(tt.api), nil)
		if err != nil {
			t.Fatalf("New(%s): %v", tt.api, err)
		}
		if d.base.String() != tt.base || d.upload.String() != tt.upload || d.graphqlURL != tt.graphql {
			t.Errorf("New(%s): base %s upload %s graphql %s; want %s %s %s", tt.api, d.base, d.upload, d.graphqlURL, tt.base, tt.upload, tt.graphql)
		}
	}
}

func githubIntegration(api string) *integrations.Integration {
	return &integrations.Integration{Kind: integrations.GitHub, Host: "h", APIBaseURL: api}
}

func TestRedact(t *testing.T) {
	const secret = "TOKEN_SHOULD_NOT_SHOW"
	dl := "https://codeload.example.com/acme/svc/legacy.tar.gz/refs/heads/main?token=" + secret + "&x=1"
	u, _ := url.Parse(dl)
	resp := &http.Response{StatusCode: 500, Request: &http.Request{Method: "GET", URL: u}, Header: http.Header{}}
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"transport error", &url.Error{Op: "Get", URL: dl, Err: errors.New("connection refused")}},
		{"error answer", &github.ErrorResponse{Response: resp, Message: "boom"}},
		{"rate limit", &github.RateLimitError{Response: resp, Message: "limited"}},
		{"secondary limit", &github.AbuseRateLimitError{Response: resp, Message: "slow down"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg := redact(tt.err).Error()
			if strings.Contains(msg, secret) {
				t.Errorf("redacted error shows the token: %s", msg)
			}
			if !strings.Contains(msg, "codeload.example.com") {
				t.Errorf("redacted error %q lost the host", msg)
			}
		})
	}
	if got := u.Query().Get("token"); got != secret {
		t.Errorf("redact changed the caller's URL: token = %q", got)
	}
}
