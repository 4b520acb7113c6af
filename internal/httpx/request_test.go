package httpx_test

import (
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

func TestEscapePath(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
	}{
		{"plain", "docs/index.md", "docs/index.md"},
		{"spaces and hashes", "my docs/a #1.md", "my%20docs/a%20%231.md"},
		{"query characters", "a?b/c%d", "a%3Fb/c%25d"},
		{"branch with a slash", "feature/x", "feature/x"},
		{"empty", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := httpx.EscapePath(tt.in); got != tt.want {
				t.Errorf("EscapePath(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCallError(t *testing.T) {
	coded := &errcode.Error{Code: errcode.RateLimited, Host: "api.example.com"}
	for _, tt := range []struct {
		name     string
		err      error
		wantMsg  string
		wantCode errcode.Code
	}{
		{"network error in url.Error", &url.Error{Op: "Get", URL: "https://api.example.com/x?token=SECRET", Err: io.ErrUnexpectedEOF},
			"GET /x: unexpected EOF", errcode.Unknown},
		{"errcode.Error in url.Error", &url.Error{Op: "Get", URL: "https://api.example.com/x?token=SECRET", Err: coded},
			coded.Error(), errcode.RateLimited},
		{"bare error", io.EOF, "GET /x: EOF", errcode.Unknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := httpx.CallError("GET", "/x", tt.err)
			if err.Error() != tt.wantMsg || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("got %q; want %q, without the query string", err, tt.wantMsg)
			}
			if got := errcode.CodeOf(err); got != tt.wantCode {
				t.Errorf("code %v; want %v", got, tt.wantCode)
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				t.Errorf("got %v, still wrapping the *url.Error", err)
			}
		})
	}
}
