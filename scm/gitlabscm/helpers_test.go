package gitlabscm_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// world is a fake GitLab with a portable client for it.
type world struct {
	s   *fakegitlab.Server
	c   *scm.Client
	reg *integrations.Registry
}

// worldOptions configure newWorld; the zero value is a fake at the root
// accepting goodToken, and a client holding goodToken.
type worldOptions struct {
	fake      fakegitlab.Options
	config    func(*integrations.GitLabConfig)
	retry     scm.RetryOptions
	driver    *gitlabscm.Options
	transport http.RoundTripper
}

func newWorld(tb testing.TB, o worldOptions) *world {
	tb.Helper()
	if o.fake.Tokens == nil {
		o.fake.Tokens = []string{goodToken}
	}
	s := fakegitlab.New(&o.fake)
	tb.Cleanup(s.Close)
	cfg := integrations.GitLabConfig{Host: s.Host(), APIBaseURL: s.APIBaseURL(), BaseURL: s.URL(),
		Token: integrations.NewSecret(goodToken)}
	if o.config != nil {
		o.config(&cfg)
	}
	reg, err := integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{cfg}})
	if err != nil {
		tb.Fatalf("NewRegistry: %v", err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		tb.Fatalf("NewResolver: %v", err)
	}
	if o.retry == (scm.RetryOptions{}) {
		o.retry = scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second}
	}
	tr := o.transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		tb.Cleanup(t.CloseIdleConnections)
		tr = t
	}
	c, err := scm.NewClient(reg, res, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.GitLab: gitlabscm.Opener(o.driver)},
		Transport: tr,
		Retry:     o.retry,
	})
	if err != nil {
		tb.Fatalf("NewClient: %v", err)
	}
	return &world{s: s, c: c, reg: reg}
}

// add seeds a project with files (path → content).
func (w *world) add(tb testing.TB, ns, name string, files map[string]string) {
	tb.Helper()
	p := fakegitlab.Project{Namespace: ns, Path: name}
	for path, content := range files {
		p.Files = append(p.Files, fakegitlab.File{Path: path, Content: []byte(content)})
	}
	if _, _, err := w.s.AddProject(p); err != nil {
		tb.Fatalf("AddProject(%s/%s): %v", ns, name, err)
	}
}

// url returns the canonical web URL of a location on the fake.
func (w *world) url(tb testing.TB, owner, repo, ref, path string, tree bool) string {
	tb.Helper()
	u, err := w.reg.URL(integrations.Location{Kind: integrations.GitLab, Host: w.s.Host(), Owner: owner, Repo: repo,
		Ref: ref, Path: path, Tree: tree})
	if err != nil {
		tb.Fatalf("Registry.URL: %v", err)
	}
	return u
}

func (w *world) fileURL(tb testing.TB, owner, repo, ref, path string) string {
	return w.url(tb, owner, repo, cmpOr(ref, "main"), path, false)
}

func (w *world) treeURL(tb testing.TB, owner, repo, ref, dir string) string {
	return w.url(tb, owner, repo, cmpOr(ref, "main"), dir, true)
}

func (w *world) ownerURL(tb testing.TB, owner string) string {
	return w.url(tb, owner, "", "", "", false)
}

// requests returns how many requests the fake received.
func (w *world) requests() int { return w.s.Stats().Total }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tenFiles returns n text changes under dir.
func textChanges(dir string, n int) []scm.Change {
	out := make([]scm.Change, n)
	for i := range out {
		out[i] = scm.Change{Path: fmt.Sprintf("%s/file-%02d.txt", dir, i), Content: []byte(fmt.Sprintf("file %d\n", i))}
	}
	return out
}
