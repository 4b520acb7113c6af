package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestSignInStep checks the real sign-in: its request count, that the
// browser holds only the session cookie, and that the pull request step
// then acts with alice's signed-in token (no secret printed).
func TestSignInStep(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out, "../../testdata/app-config.yaml"); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		`alice signed in with GitHub: 3 requests to GitHub \(authorize, token, /user\)`,
		`cookies\s+scmkit-session \(opaque, signed\)\n`,
		`identity\s+github:alice \(GitHub node id U_[A-Za-z0-9_-]+, alice@example\.com\)`,
		`as alice: 8 files in one commit [0-9a-f]{12}, pull request #1 opened: 5 requests`,
	} {
		if !regexp.MustCompile(want).MatchString(got) {
			t.Errorf("output does not match %q", want)
		}
	}
	for _, secret := range []string{"gho_", "quickstart-oauth-secret", "quickstart-session-secret"} {
		if strings.Contains(got, secret) {
			t.Errorf("output shows %q", secret)
		}
	}
}
