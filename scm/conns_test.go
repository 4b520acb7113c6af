package scm_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"testing"
	"testing/fstest"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// connsWorld is one adapter's fake holding acme/basic (README.md and a
// 256 KiB big.bin of random bytes), and a client over a counting transport.
type connsWorld struct {
	c        *scm.Client
	fileURL  func(path string) string
	treeURL  string
	injector interface {
		Inject(fake.Fault)
		ClearFaults()
	}
}

func connsWorlds(t *testing.T) map[string]func(tr http.RoundTripper) connsWorld {
	const tok = "conns-token-000000000000000000000000000"
	big := make([]byte, 256<<10) // incompressible: an archive over a limit is not read to its end
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	files := fstest.MapFS{"README.md": {Data: []byte("# basic\n")}, "big.bin": {Data: big}}
	client := func(tr http.RoundTripper, cfg integrations.Config, kind integrations.Kind, open driver.Opener) *scm.Client {
		return adaptertest.NewClient(t, cfg, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{kind: open}, Transport: tr,
			Retry: scm.RetryOptions{MaxRetries: -1}})
	}
	return map[string]func(http.RoundTripper) connsWorld{
		"github": func(tr http.RoundTripper) connsWorld {
			s := fakegithub.New(&fakegithub.Options{Tokens: []string{tok}})
			t.Cleanup(s.Close)
			if _, err := s.AddFS(fakegithub.Repo{Owner: "acme", Name: "basic", DefaultBranch: "main"}, files); err != nil {
				t.Fatal(err)
			}
			repo := "https://" + s.Host() + "/acme/basic"
			return connsWorld{c: client(tr, integrations.Config{GitHub: []integrations.GitHubConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
				Token: integrations.NewSecret(tok)}}}, integrations.GitHub, githubscm.Opener(nil)),
				fileURL: func(p string) string { return repo + "/blob/main/" + p }, treeURL: repo + "/tree/main", injector: s}
		},
		"gitlab": func(tr http.RoundTripper) connsWorld {
			s := fakegitlab.New(&fakegitlab.Options{Tokens: []string{tok}})
			t.Cleanup(s.Close)
			if _, _, err := s.AddFS(fakegitlab.Project{Namespace: "acme", Path: "basic", DefaultBranch: "main"}, files); err != nil {
				t.Fatal(err)
			}
			repo := s.URL() + "/acme/basic"
			return connsWorld{c: client(tr, integrations.Config{GitLab: []integrations.GitLabConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(), BaseURL: s.URL(),
				Token: integrations.NewSecret(tok)}}}, integrations.GitLab, gitlabscm.Opener(nil)),
				fileURL: func(p string) string { return repo + "/-/blob/main/" + p }, treeURL: repo + "/-/tree/main", injector: s}
		},
		"bitbucketCloud": func(tr http.RoundTripper) connsWorld {
			s := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Users: map[string]string{"bot@example.com": tok}})
			t.Cleanup(s.Close)
			if _, err := s.AddFS(fakebitbucketcloud.Repo{Workspace: "acme", Slug: "basic", MainBranch: "main"}, files); err != nil {
				t.Fatal(err)
			}
			repo := s.URL() + "/acme/basic"
			return connsWorld{c: client(tr, integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
				Username: "bot@example.com", Token: integrations.NewSecret(tok)}}}, integrations.BitbucketCloud, bitbucketcloudscm.Opener(nil)),
				fileURL: func(p string) string { return repo + "/src/main/" + p }, treeURL: repo + "/src/" + url.PathEscape("main") + "/", injector: s}
		},
		"bitbucketServer": func(tr http.RoundTripper) connsWorld {
			s := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{tok}})
			t.Cleanup(s.Close)
			if _, err := s.AddFS(fakebitbucketserver.Repo{Project: "ACME", Name: "basic", DefaultBranch: "main"}, files); err != nil {
				t.Fatal(err)
			}
			repo := s.URL() + "/projects/ACME/repos/basic"
			return connsWorld{c: client(tr, integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{Host: s.Host(), APIBaseURL: s.APIBaseURL(),
				Token: integrations.NewSecret(tok)}}}, integrations.BitbucketServer, bitbucketserverscm.Opener(nil)),
				fileURL: func(p string) string { return repo + "/browse/" + p + "?at=refs%2Fheads%2Fmain" },
				treeURL: repo + "/browse?at=refs%2Fheads%2Fmain", injector: s}
		},
	}
}

// TestConnectionsAfterFailedReads reads through every adapter while its
// fake fails (404, 401, 500, 429 beyond the wait cap, a truncated body),
// and reads a file and a tree over their limits and a tree whose caller
// gives up: afterwards no connection of the client's transport is left
// open, so every answer's body was closed on every error path, and the
// error answers (all but the truncated ones) left their connection for the
// next request.
func TestConnectionsAfterFailedReads(t *testing.T) {
	faults := []struct {
		name   string
		fault  fake.Fault
		mayAsk bool // a revalidation's 304 is not truncated: the read may succeed
	}{
		{"not found", fake.Fault{Kind: fake.FaultNotFound}, false},
		{"unauthorized", fake.Fault{Kind: fake.FaultUnauthorized}, false},
		{"server error", fake.Fault{Kind: fake.FaultServerError}, false},
		{"rate limited beyond the cap", fake.Fault{Kind: fake.FaultTooManyRequests, RetryAfter: time.Hour}, false},
		{"truncated body", fake.Fault{Kind: fake.FaultTruncatedBody}, true},
	}
	for name, mk := range connsWorlds(t) {
		t.Run(name, func(t *testing.T) {
			conns := httpxtest.CountConns(t)
			w := mk(conns.Transport())
			if _, err := w.c.ReadFile(t.Context(), w.fileURL("README.md"), nil); err != nil {
				t.Fatalf("a plain read: %v", err)
			}
			for _, f := range faults {
				w.injector.Inject(f.fault)
				for range 2 {
					if _, err := w.c.ReadFile(t.Context(), w.fileURL("README.md"), nil); err == nil && !f.mayAsk {
						t.Errorf("%s: ReadFile succeeded", f.name)
					}
					if _, err := w.c.ReadTree(t.Context(), w.treeURL, nil); err == nil && !f.mayAsk {
						t.Errorf("%s: ReadTree succeeded", f.name)
					}
				}
				w.injector.ClearFaults()
				if n := conns.Dialed(); !f.mayAsk && n != 1 {
					t.Errorf("after %s: %d connections dialled, want 1 (error answers drained, their connection reused)", f.name, n)
				}
			}
			if _, err := w.c.ReadFile(t.Context(), w.fileURL("big.bin"), &scm.ReadFileOptions{MaxBytes: 1 << 10}); errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("a file over MaxBytes: %v, want InvalidArgument", err)
			}
			if _, err := w.c.ReadTree(t.Context(), w.treeURL, &scm.TreeOptions{MaxBytes: 1 << 10}); err == nil {
				t.Error("a tree over MaxBytes was read")
			}
			for _, d := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
				ctx, cancel := context.WithTimeout(t.Context(), d)
				w.c.ReadTree(ctx, w.treeURL, nil) // given up at some point of the read, or read in time
				cancel()
			}
			t.Logf("%d connections dialled", conns.Dialed())
			conns.CheckNoneLeft(t)
		})
	}
}
