package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

var loopbackHTTPS = regexp.MustCompile(`https://127\.0\.0\.1[:/]`)

// TestQuickstart runs the whole quickstart and checks the facts it prints:
// the request counts are the library's budgets, and no secret of the fake
// world ever appears in the output.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out, "../../testdata/app-config.yaml"); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		// The resolver: a cold GitHub App owner costs the lookup and the
		// mint, a cached one nothing.
		`read acme/service-003 \(cold\)\s+app\s+integrations\.github\[0\]\.apps\[0\] installation \d+\s+2\n`,
		`read acme/service-006 \(cached\)\s+app\s+integrations\.github\[0\]\.apps\[0\] installation \d+\s+0\n`,
		`read acme-labs/experiments\s+token\s+integrations\.github\[0\]\.credentials\[0\]`,
		`alice reads acme/service-003\s+user\s+sign-in \(alice\)\s+0\n`,
		`write that must be the user's, no user\s+none\s+see \[\d\] below \(Unauthorized\)`,
		`read acme-ws/billing\s+app\s+integrations\.bitbucketCloud\[0\] oauth consumer\s+1\n`,
		`read intranet\.example\.com\s+none\s+see \[\d\] below \(PermissionDenied\)`,
		// Discovery: 301 repositories in 4 GraphQL pages.
		`98 catalog files in 301 repositories of acme \(archived ones skipped\): 4 requests`,
		`re-reading catalog-info\.yaml with its ETag: NotModified, 1 request`,
		// The template: one GraphQL query, no archive.
		`go-service: 1 request \(one GraphQL query`,
		`-rwxr-xr-x\s+\d+ skeleton/scripts/run\.sh`,
		// The pull request: refused without the user, 5 requests as her,
		// 1 to find it again, and only one pull request.
		`writes that must be the user's are refused: Unauthorized`,
		`as alice: 8 files in one commit [0-9a-f]{12}, pull request #1 opened: 5 requests`,
		`again \(same branch\): .* pull request #1 already open, returned as is: 1 request\n`,
		`pull requests on acme/service-003: 1\n`,
		`GitLab\s+2 entities, 1 request\s+2 files, 1 request\s+#1, 3 requests\s+existing #1, 1 request`,
		`Bitbucket Cloud\s+2 entities, 1 request\s+2 files, 1 request\s+#1, 3 requests`,
		`Bitbucket Server\s+2 entities, 1 request\s+2 files, 1 request\s+#1, 14 requests`,
	} {
		if !regexp.MustCompile(want).MatchString(got) {
			t.Errorf("output does not match %q", want)
		}
	}
	for name, secret := range secrets {
		if name == "GITHUB_APP_KEY" {
			secret = strings.Split(secret, "\n")[1] // a line of the key
		}
		if strings.Contains(got, secret) {
			t.Errorf("output shows the secret %s", name)
		}
	}
	if strings.Contains(got, userToken) {
		t.Error("output shows the user's token")
	}
	// The first screen: no wall of "variable not set" warnings, at most
	// one line that explains them; every fake shown with the scheme it
	// serves (plain http).
	if n := strings.Count(got, "is not set"); n > 0 {
		t.Errorf("output has %d \"is not set\" warnings; want them folded into one line", n)
	}
	if n := strings.Count(got, "variables are not set"); n > 1 {
		t.Errorf("output explains the unset variables %d times; want at most once", n)
	}
	if loopbackHTTPS.MatchString(got) {
		t.Errorf("output shows a fake server with https://; the fakes serve plain http")
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}
