package bitbucketcloudscm_test

import (
	"cmp"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

const (
	workspace = "acme"
	user      = "bot@example.com"
	goodToken = "bbc-api-token-good-71c2"
	badToken  = "bbc-api-token-bad-0d9e"
)

// harness runs the conformance suite against fakebitbucketcloud with an
// Atlassian API token (Basic).
type harness struct {
	fake       *fakebitbucketcloud.Server
	good, bad  *scm.Client
	transports []*http.Transport
}

func newWorld(t testing.TB, opts *fakebitbucketcloud.Options) *fakebitbucketcloud.Server {
	t.Helper()
	if opts == nil {
		opts = &fakebitbucketcloud.Options{}
	}
	if opts.Users == nil {
		opts.Users = map[string]string{user: goodToken}
	}
	fake := fakebitbucketcloud.New(opts)
	for _, r := range scmtest.World() {
		if _, err := fake.AddFS(fakebitbucketcloud.Repo{Workspace: workspace, Slug: r.Name, MainBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
			fake.Close()
			t.Fatalf("seeding %s: %v", r.Name, err)
		}
	}
	return fake
}

// clientFor returns a client for the fake with the given Bitbucket Cloud
// configuration (Host and APIBaseURL are filled in).
func clientFor(t testing.TB, fake *fakebitbucketcloud.Server, c integrations.BitbucketCloudConfig) (*scm.Client, *http.Transport) {
	t.Helper()
	c.Host, c.APIBaseURL = fake.Host(), fake.APIBaseURL()
	if c.ClientID != "" {
		c.TokenURL = fake.TokenURL()
	}
	reg, err := integrations.NewRegistry(integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{c}})
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	tr := &http.Transport{}
	res, err := credentials.NewResolver(reg, &credentials.ResolverOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatalf("NewResolver: %v", err)
	}
	cl, err := scm.NewClient(reg, res, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.BitbucketCloud: bitbucketcloudscm.Opener(nil)},
		Transport: tr,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return cl, tr
}

func newHarness(_ context.Context, t *testing.T) (scmtest.Harness, error) {
	fake := newWorld(t, nil)
	good, gt := clientFor(t, fake, integrations.BitbucketCloudConfig{Username: user, Token: integrations.NewSecret(goodToken)})
	bad, bt := clientFor(t, fake, integrations.BitbucketCloudConfig{Username: user, Token: integrations.NewSecret(badToken)})
	fake.ResetStats()
	return &harness{fake: fake, good: good, bad: bad, transports: []*http.Transport{gt, bt}}, nil
}

func (h *harness) Client(bad bool) *scm.Client {
	if bad {
		return h.bad
	}
	return h.good
}

func (h *harness) World() scmtest.WorldInfo {
	reg, err := integrations.NewRegistry(integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
		Host: h.fake.Host(), APIBaseURL: h.fake.APIBaseURL(), Username: user, Token: integrations.NewSecret(goodToken)}}})
	if err != nil {
		panic(err) // clientFor made the same one
	}
	return scmtest.WorldInfo{
		Registry: reg,
		Owner:    integrations.Location{Kind: integrations.BitbucketCloud, Host: h.fake.Host(), Owner: workspace},
		Secrets:  []string{goodToken, badToken},
	}
}

func (h *harness) Inject(f scmtest.Fault) bool {
	if f.Kind == scmtest.FaultOpenPullRequest {
		f = scmtest.Fault{Kind: scmtest.FaultServerError, Times: f.Times, Status: cmp.Or(f.Status, http.StatusBadGateway),
			Method: http.MethodPost, Path: "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo + "/pullrequests"}
	}
	h.fake.Inject(f)
	return true
}

func (h *harness) ClearFaults() { h.fake.ClearFaults() }

// CommitsAhead implements scmtest.StateReader.
func (h *harness) CommitsAhead(repo, branch string) int {
	base, _ := h.fake.Commits(workspace, repo, scmtest.DefaultBranch)
	head, _ := h.fake.Commits(workspace, repo, branch)
	return adaptertest.CommitsAhead(head, base)
}

// OpenPullRequests implements scmtest.StateReader.
func (h *harness) OpenPullRequests(repo, branch string) int {
	n := 0
	for _, p := range h.fake.PullRequests(workspace, repo) {
		if p.Source == branch && p.Destination == scmtest.DefaultBranch && p.State == "OPEN" {
			n++
		}
	}
	return n
}

func (h *harness) Requests() int {
	st := h.fake.Stats()
	return st.API + st.Web
}

// RedirectToForeign implements scmtest.ForeignRedirector: the fake then
// answers archive downloads with a redirect to its download host, as
// Bitbucket Cloud does to its storage.
func (h *harness) RedirectToForeign() func() []http.Header {
	h.fake.RedirectDownloads(true)
	return func() []http.Header {
		var out []http.Header
		for _, r := range h.fake.RequestsTo("download") {
			out = append(out, r.Header)
		}
		return out
	}
}

func (h *harness) Close() {
	h.fake.Close()
	for _, tr := range h.transports {
		tr.CloseIdleConnections()
	}
}

func TestConformance(t *testing.T) {
	scmtest.RunConformanceTests(t, newHarness)
}

// AccessTeam implements scmtest.AccessHarness: a group of the workspace.
func (h *harness) AccessTeam() string {
	h.fake.AddGroup(workspace, "scmtest-team")
	return "scmtest-team"
}

// TeamPermission implements scmtest.AccessHarness.
func (h *harness) TeamPermission(repo, team string) scm.Permission {
	for _, g := range h.fake.Grants(workspace, repo) {
		if g.Group == team {
			return scm.Permission(g.Permission)
		}
	}
	return ""
}

// BranchHead implements scmtest.BranchReader.
func (h *harness) BranchHead(repo, branch string) string {
	id, _ := h.fake.Branch(workspace, repo, branch)
	return id
}
