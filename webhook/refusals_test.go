package webhook

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// TestPayloadRepositoryURLMustNameARepository: a signed push whose
// repository URL names only an owner (or nothing a configured integration
// reads as a repository) is refused, not answered as an event of a
// repository with no name.
func TestPayloadRepositoryURLMustNameARepository(t *testing.T) {
	body := load(t, "github-push.json")
	for _, url := range []string{"https://github.com/acme", "https://github.com/"} {
		b := bytes.Replace(body, []byte(`"html_url": "https://github.com/acme/service"`), []byte(`"html_url": "`+url+`"`), 1)
		if bytes.Equal(b, body) {
			t.Fatal("testdata no longer holds the repository's html_url")
		}
		r := newReceiver(t, "github.com", nil)
		ev, err := r.Parse(t.Context(), githubHeaders(b, "d"), b)
		if errcode.CodeOf(err) != errcode.InvalidArgument || ev != nil {
			t.Errorf("repository URL %q: Parse = %+v, %v; want InvalidArgument", url, ev, err)
		}
	}
}

// TestGitHubNameBounds: a login or team slug is at most 100 bytes of
// letters, digits, '-', '_' and '.'; one byte more, or a '/' (a path step
// in the URLs built from it), is refused.
func TestGitHubNameBounds(t *testing.T) {
	for _, tc := range []struct {
		login string
		ok    bool
	}{
		{strings.Repeat("a", 100), true},
		{strings.Repeat("a", 101), false},
		{"acme/evil", false},
		{"acme%2fevil", false},
		{"a.b_c-D9", true},
	} {
		body := []byte(`{"action": "member_added", "membership": {"user": {"login": "` + tc.login + `"}}, "organization": {"login": "acme"}}`)
		h := githubHeaders(body, "d")
		h.Set("X-Github-Event", "organization")
		_, err := newReceiver(t, "github.com", nil).Parse(t.Context(), h, body)
		if tc.ok && err != nil || !tc.ok && errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("login %q: %v; want accepted %v", tc.login, err, tc.ok)
		}
	}
}

// TestDeliveryIDLimitIsExact: a delivery id of maxDeliveryID bytes is
// accepted, one byte more is refused.
func TestDeliveryIDLimitIsExact(t *testing.T) {
	body := load(t, "github-push.json")
	for _, tc := range []struct {
		n  int
		ok bool
	}{{maxDeliveryID, true}, {maxDeliveryID + 1, false}} {
		_, err := newReceiver(t, "github.com", nil).Parse(t.Context(), githubHeaders(body, strings.Repeat("d", tc.n)), body)
		if tc.ok && err != nil || !tc.ok && errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%d-byte delivery id: %v; want accepted %v", tc.n, err, tc.ok)
		}
	}
}

// TestSignatureNeedsItsAlgorithmPrefix: the right HMAC-SHA256 in hex, but
// without the "sha256=" GitHub writes before it, is not a signature.
func TestSignatureNeedsItsAlgorithmPrefix(t *testing.T) {
	body := load(t, "github-push.json")
	for _, sig := range []string{
		strings.TrimPrefix(sign(body, secret), "sha256="),
		"SHA256=" + strings.TrimPrefix(sign(body, secret), "sha256="),
		"sha1=" + strings.TrimPrefix(sign(body, secret), "sha256="),
	} {
		h := githubHeaders(body, "d")
		h.Set("X-Hub-Signature-256", sig)
		ev, err := newReceiver(t, "github.com", nil).Parse(t.Context(), h, body)
		if errcode.CodeOf(err) != errcode.Unauthorized || ev != nil {
			t.Errorf("signature %.12q...: %v; want Unauthorized", sig, err)
		}
	}
}

// TestHandlerRefusesOtherMethods: only POST reaches Parse; any other
// method is 405 with an Allow header, and fn is not called.
func TestHandlerRefusesOtherMethods(t *testing.T) {
	r := newReceiver(t, "github.com", nil)
	body := load(t, "github-push.json")
	called := false
	h := r.Handler(func(_ context.Context, _ *Event) error { called = true; return nil })
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req := httptest.NewRequest(m, "/hook", bytes.NewReader(body))
		req.Header = githubHeaders(body, "d-"+m)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != http.MethodPost {
			t.Errorf("%s: %d, Allow %q; want 405, POST", m, w.Code, w.Header().Get("Allow"))
		}
	}
	if called {
		t.Error("a request that is not a POST reached fn")
	}
}
