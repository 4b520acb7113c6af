package fakegithub_test

import (
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestRawContent checks the raw-content host: paths, refs, visibility,
// ETags and counting.
func TestRawContent(t *testing.T) {
	s := newServer(t, nil)
	if _, err := s.CreateBranch("acme", "widgets", "feature/x", "main"); err != nil {
		t.Fatal(err)
	}
	head, _ := s.Ref("acme", "widgets", "main")
	anon := map[string]string{"Authorization": ""}
	tests := []struct {
		name   string
		path   string
		header map[string]string // nil: the good token
		status int
		body   string
	}{
		{"branch", "/acme/widgets/main/README.md", anon, 200, "# hello-world"},
		{"HEAD is the default branch", "/acme/widgets/HEAD/README.md", anon, 200, "# hello-world"},
		{"commit id", "/acme/widgets/" + head + "/README.md", anon, 200, "# hello-world"},
		{"branch with a slash", "/acme/widgets/feature/x/bin/run.sh", anon, 200, "#!/bin/sh\necho hi\n"},
		{"escaped path", "/acme/widgets/main/docs/a%20b/%C3%BCn%C3%AF.md", anon, 200, "unicode\n"},
		{"symlink is its target path", "/acme/widgets/main/link", anon, 200, "README.md"},
		{"directory", "/acme/widgets/main/docs", anon, 404, "404: Not Found"},
		{"missing file", "/acme/widgets/main/nope.md", anon, 404, "404: Not Found"},
		{"missing ref", "/acme/widgets/nope/README.md", anon, 404, "404: Not Found"},
		{"missing repository", "/acme/nope/main/README.md", anon, 404, "404: Not Found"},
		{"no ref or path", "/acme/widgets/main", anon, 404, "404: Not Found"},
		{"private, anonymous", "/acme/secret/main/x.txt", anon, 404, "404: Not Found"},
		{"private, with a token", "/acme/secret/main/x.txt", nil, 200, "x"},
		{"bad token", "/acme/widgets/main/README.md", map[string]string{"Authorization": "Bearer nope"}, 404, "404: Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Stats()
			resp, body := do(t, s, call{url: s.RawBaseURL() + tt.path, header: tt.header})
			if resp.StatusCode != tt.status || string(body) != tt.body {
				t.Fatalf("GET %s = %d %q; want %d %q", tt.path, resp.StatusCode, body, tt.status, tt.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q; want text/plain; charset=utf-8", ct)
			}
			if tt.status == 200 {
				if got, want := resp.Header.Get("ETag"), `"`+fakegithub.BlobSHA(body)+`"`; got != want {
					t.Errorf("ETag = %s; want the quoted blob id %s", got, want)
				}
			}
			after := s.Stats()
			if after.Raw-before.Raw != 1 || after.API != before.API || after.Download != before.Download {
				t.Errorf("Stats went from %+v to %+v; want one more Raw request and nothing else", before, after)
			}
		})
	}

	t.Run("conditional", func(t *testing.T) {
		u := s.RawBaseURL() + "/acme/widgets/main/README.md"
		resp, _ := do(t, s, call{url: u, header: anon})
		etag := resp.Header.Get("ETag")
		before := s.Stats()
		resp, body := do(t, s, call{url: u, header: map[string]string{"Authorization": "", "If-None-Match": etag}})
		if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != etag {
			t.Fatalf("conditional re-read: %d %q ETag %s; want 304, no body, ETag %s", resp.StatusCode, body, resp.Header.Get("ETag"), etag)
		}
		after := s.Stats()
		if after.Raw-before.Raw != 1 || after.NotModified-before.NotModified != 1 || after.API != before.API {
			t.Errorf("Stats went from %+v to %+v; want one more Raw and NotModified", before, after)
		}
		if got := after.Routes["GET /{owner}/{repo}/{ref}/{path...}"]; got < 2 {
			t.Errorf("raw route count = %d; want at least 2", got)
		}
	})

	t.Run("fault on the raw host only", func(t *testing.T) {
		s.Inject(fake.Fault{Kind: fake.FaultServerError, Host: "raw", Status: 503, Times: 1})
		if resp, _ := do(t, s, call{url: s.APIBaseURL() + "/repos/acme/widgets"}); resp.StatusCode != 200 {
			t.Errorf("API: %d; want 200 (the fault is for the raw host)", resp.StatusCode)
		}
		if resp, _ := do(t, s, call{url: s.RawBaseURL() + "/acme/widgets/main/README.md", header: anon}); resp.StatusCode != 503 {
			t.Errorf("raw: %d; want 503", resp.StatusCode)
		}
	})
}
