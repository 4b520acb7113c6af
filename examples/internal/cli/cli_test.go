package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantPos []string
		wantX   string
		wantB   bool
	}{
		{name: "flags first", args: []string{"-x", "1", "-b", "u"}, wantPos: []string{"u"}, wantX: "1", wantB: true},
		{name: "flags after", args: []string{"u", "-x", "2", "v", "-b"}, wantPos: []string{"u", "v"}, wantX: "2", wantB: true},
		{name: "double dash", args: []string{"-x", "3", "--", "-b", "u"}, wantPos: []string{"-b", "u"}, wantX: "3"},
		{name: "positional then double dash", args: []string{"u", "--", "-x"}, wantPos: []string{"u", "-x"}},
		{name: "none", args: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			x := fs.String("x", "", "")
			b := fs.Bool("b", false, "")
			pos, err := Parse(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPos, pos); diff != "" {
				t.Errorf("positional (-want +got):\n%s", diff)
			}
			if *x != tt.wantX || *b != tt.wantB {
				t.Errorf("flags: got x=%q b=%v; want x=%q b=%v", *x, *b, tt.wantX, tt.wantB)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "https://github.com/acme/svc/blob/main/a.yaml", "https://github.com/acme/svc/blob/main/a.yaml"},
		{"user info", "https://x-access-token:ghs_secret@github.com/acme/svc", "https://github.com/acme/svc"},
		{"query token", "https://gitlab.com/a/b/-/raw/main/f?private_token=glpat-secret&at=main", "https://gitlab.com/a/b/-/raw/main/f?at=main"},
		{"fragment", "https://github.com/a/b/blob/main/f#L3", "https://github.com/a/b/blob/main/f"},
		{"bitbucket server ref", "https://bb.example.com/projects/P/repos/r/browse/f?at=refs/heads/main",
			"https://bb.example.com/projects/P/repos/r/browse/f?at=refs/heads/main"},
		{"unparsable", "https://a b\x7f", "(unparsable URL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCounter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := NewCounter(http.DefaultTransport)
	if got, want := c.String(), "0 HTTP requests"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	hc := &http.Client{Transport: c}
	for range 3 {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if got, want := c.String(), "3 HTTP requests ("+host+" 3)"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	if got := c.Total(); got != 3 {
		t.Errorf("Total() = %d; want 3", got)
	}
}

func TestHint(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		err  error
		want string // a substring; "" means no hint
	}{
		{"unauthorized", &scm.Error{Code: scm.Unauthorized}, "check the token"},
		{"not found", &scm.Error{Code: scm.NotFound}, "private repositories"},
		{"rate limited", &scm.Error{Code: scm.RateLimited, RetryAt: at}, "try again after " + at.Local().Format(time.DateTime)},
		{"unknown", errors.New("boom"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Hint(tt.err)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Hint = %q; want one containing %q", got, tt.want)
			}
		})
	}
}

func TestOpenUserTokenNeedsIntegration(t *testing.T) {
	t.Setenv("SCMKIT_CLI_TEST_USER", "gho_user")
	c := Common{Configs: []string{writeConfig(t, "integrations: {}\n")}, UserTokenEnv: "SCMKIT_CLI_TEST_USER"}
	var stderr bytes.Buffer
	_, err := c.Open(t.Context(), &stderr, "https://unknown.example.net/a/b", nil)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "not on the host of any integration") {
		t.Fatalf("Open: got %v; want a usage error about the host", err)
	}
	if strings.Contains(err.Error(), "gho_user") {
		t.Errorf("the error shows the token: %v", err)
	}
	env, err := c.Open(t.Context(), &stderr, "https://github.com/acme/svc", nil)
	if err != nil || !env.User {
		t.Fatalf("Open for github.com: got %+v, %v; want a user client", env, err)
	}
}

func TestOpenWarnings(t *testing.T) {
	c := Common{Configs: []string{writeConfig(t, "integrations:\n  github:\n    - host: github.com\n      token: ${SCMKIT_CLI_TEST_UNSET}\n")}}
	var stderr bytes.Buffer
	if _, err := c.Open(t.Context(), &stderr, "https://github.com/acme", nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "warning: ") || !strings.Contains(stderr.String(), "SCMKIT_CLI_TEST_UNSET") {
		t.Errorf("stderr lacks a warning naming the unset variable; got %q", stderr.String())
	}
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "app-config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
