package redact_test

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/internal/redact"
)

// shown is a value whose fields hold a secret; it prints through
// redact.Format.
type shown struct{ token string }

func (v shown) String() string { return "shown(" + redact.Of(v.token) + ")" }
func (v shown) GoString() string {
	return "redact_test.shown{token: " + fmt.Sprintf("%q", redact.Of(v.token)) + "}"
}
func (v shown) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, v.String(), v.GoString())
}

func TestFormat(t *testing.T) {
	v := shown{token: "ghp_secret"}
	for _, tc := range []struct{ format, want string }{
		{"%v", "shown([redacted])"},
		{"%s", "shown([redacted])"},
		{"%+v", "shown([redacted])"},
		{"%d", "shown([redacted])"},
		{"%x", "shown([redacted])"},
		{"%q", `"shown([redacted])"`},
		{"%#v", `redact_test.shown{token: "[redacted]"}`},
	} {
		if got := fmt.Sprintf(tc.format, v); got != tc.want {
			t.Errorf("Sprintf(%q) = %s; want %s", tc.format, got, tc.want)
		}
	}
}

func TestOf(t *testing.T) {
	if got := redact.Of("s3cret"); got != redact.Mark {
		t.Errorf("Of(secret) = %q; want %q", got, redact.Mark)
	}
	if got := redact.Of(""); got != "" {
		t.Errorf(`Of("") = %q; want ""`, got)
	}
}
