package gitlabscm_test

import (
	"bytes"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// TestNothingLoggedWithoutLogger: nothing reaches the standard logger or
// slog's default logger when no *slog.Logger is given, not even when the
// client gives up on a redirect loop (net/http's client logged "RoundTripper
// returned a response & error" when the driver's transport under
// client-go returned both) or a server keeps failing.
func TestNothingLoggedWithoutLogger(t *testing.T) {
	var std, def bytes.Buffer
	log.SetOutput(&std)
	oldDefault := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&def, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		log.SetOutput(os.Stderr)
		slog.SetDefault(oldDefault)
	})

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.RequestURI(), "loop"):
			http.Redirect(w, r, r.URL.String(), http.StatusFound) // a loop
		default:
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	host := srv.Listener.Addr().String()
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: host, APIBaseURL: srv.URL + "/api/v4", BaseURL: srv.URL, Token: integrations.NewSecret("glpat-nolog-token")}}}
	c := adaptertest.NewClient(t, cfg, &scm.Options{
		Drivers: map[integrations.Kind]driver.Opener{integrations.GitLab: gitlabscm.Opener(nil)},
		Retry:   scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond},
	})
	_, err := c.ReadFile(t.Context(), srv.URL+"/acme/loop/-/blob/main/README.md", nil)
	if err == nil {
		t.Fatal("ReadFile through a redirect loop succeeded; want an error")
	}
	for _, err := range c.ListRepositories(t.Context(), srv.URL+"/groups/loop", nil) {
		if err == nil {
			t.Fatal("ListRepositories through a redirect loop succeeded; want an error")
		}
		break
	}
	if _, err = c.ReadTree(t.Context(), srv.URL+"/acme/loop/-/tree/main/docs", nil); err == nil {
		t.Fatal("ReadTree through a redirect loop succeeded; want an error")
	}
	_, err = c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: srv.URL + "/acme/loop", Branch: "b", Title: "t",
		Changes: []scm.Change{{Path: "a.txt", Content: []byte("a")}}})
	if err == nil {
		t.Fatal("OpenPullRequest on a failing server succeeded; want an error")
	}
	_, err = c.ReadFile(t.Context(), srv.URL+"/acme/other/-/blob/main/README.md", nil)
	if err == nil {
		t.Fatal("ReadFile from a failing server succeeded; want an error")
	}
	if std.Len() > 0 || def.Len() > 0 {
		t.Errorf("lines logged without a logger:\nstandard logger: %q\nslog default: %q", std.String(), def.String())
	}
}
