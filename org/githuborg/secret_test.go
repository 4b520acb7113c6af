package githuborg_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org/githuborg"
)

// TestNewRedactsGitHubURL: an unusable githubUrl is quoted without its
// user information (a token).
func TestNewRedactsGitHubURL(t *testing.T) {
	reg, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = githuborg.New(githuborg.Config{ID: "x", GitHubURL: "git+https://x-access-token:ghp_s3cr3t@github.com"}, &githuborg.Options{Registry: reg, Resolver: res})
	if err == nil || strings.Contains(err.Error(), "ghp_s3cr3t") {
		t.Errorf("New = %v; must fail without showing the token", err)
	}
}
