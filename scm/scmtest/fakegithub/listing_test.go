package fakegithub_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// Listing pages carry a weak ETag that depends on the token, as GitHub's
// (Vary: Accept, Authorization): the same token's ETag is answered 304
// (counted in NotModified), another token's gets the page again, and so
// does the same token's once the listing changed.
func TestListingETagPerToken(t *testing.T) {
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{"token-a", "token-b"}})
	defer s.Close()
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "one"}); err != nil {
		t.Fatal(err)
	}
	get := func(token, inm string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.APIBaseURL()+"/orgs/acme/repos?per_page=100", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	a := get("token-a", "")
	etag := a.Header.Get("ETag")
	if a.StatusCode != 200 || !strings.HasPrefix(etag, `W/"`) || !strings.Contains(a.Header.Get("Vary"), "Authorization") {
		t.Fatalf("first page: %d, ETag %q, Vary %q; want 200, a weak ETag, Vary with Authorization", a.StatusCode, etag, a.Header.Get("Vary"))
	}
	tests := []struct {
		name, token string
		add         bool
		want        int
	}{
		{"same token, unchanged", "token-a", false, http.StatusNotModified},
		{"other token", "token-b", false, http.StatusOK},
		{"same token, a new repository", "token-a", true, http.StatusOK},
	}
	for _, tt := range tests {
		if tt.add {
			if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "two"}); err != nil {
				t.Fatal(err)
			}
		}
		before := s.Stats().NotModified
		resp := get(tt.token, etag)
		nm := s.Stats().NotModified - before
		if resp.StatusCode != tt.want || (nm == 1) != (tt.want == http.StatusNotModified) {
			t.Errorf("%s: %d (NotModified +%d); want %d", tt.name, resp.StatusCode, nm, tt.want)
		}
	}
}
