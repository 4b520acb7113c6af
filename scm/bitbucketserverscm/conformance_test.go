package bitbucketserverscm_test

import (
	"cmp"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

const (
	project   = "ACME"
	goodToken = "bbs-good-token-5f1e"
	badToken  = "bbs-bad-token-9a7c"
)

// harness runs the conformance suite against fakebitbucketserver.
type harness struct {
	fake       *fakebitbucketserver.Server
	good, bad  *scm.Client
	transports []*http.Transport
	prefix     bool
	secrets    []string // nil: the tokens
}

// newWorld starts a fake seeded with scmtest.World() under project ACME.
func newWorld(t testing.TB, contextPath string) *fakebitbucketserver.Server {
	t.Helper()
	fake := fakebitbucketserver.New(&fakebitbucketserver.Options{ContextPath: contextPath, Tokens: []string{goodToken}})
	for _, r := range scmtest.World() {
		if _, err := fake.AddFS(fakebitbucketserver.Repo{Project: project, Name: r.Name, DefaultBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
			fake.Close()
			t.Fatalf("seeding %s: %v", r.Name, err)
		}
	}
	return fake
}

// newClient returns a client for the fake that presents token.
func newClient(t testing.TB, fake *fakebitbucketserver.Server, token string) (*scm.Client, *http.Transport) {
	return newClientFor(t, fake, integrations.BitbucketServerConfig{Token: integrations.NewSecret(token)})
}

// newClientFor returns a client for the fake with the credential of c
// (Host and APIBaseURL are filled in).
func newClientFor(t testing.TB, fake *fakebitbucketserver.Server, c integrations.BitbucketServerConfig) (*scm.Client, *http.Transport) {
	t.Helper()
	c.Host, c.APIBaseURL = fake.Host(), fake.APIBaseURL()
	tr := &http.Transport{}
	cl := adaptertest.NewClient(t, integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{c}}, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.BitbucketServer: bitbucketserverscm.Opener(nil)},
		Transport: tr,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
	})
	return cl, tr
}

func harnessMaker(contextPath string) scmtest.HarnessMaker {
	return func(_ context.Context, t *testing.T) (scmtest.Harness, error) {
		fake := newWorld(t, contextPath)
		good, gt := newClient(t, fake, goodToken)
		bad, bt := newClient(t, fake, badToken)
		fake.ResetStats()
		return &harness{fake: fake, good: good, bad: bad, transports: []*http.Transport{gt, bt}, prefix: contextPath != ""}, nil
	}
}

// Basic authentication: a username and password, as Backstage's
// bitbucketServer entries allow.
const (
	basicUser    = "svc-scmkit"
	goodPassword = "bbs-good-password-3e8a"
	badPassword  = "bbs-bad-password-77d0"
)

// basicHarness makes harnesses whose clients authenticate with Basic.
func basicHarness(_ context.Context, t *testing.T) (scmtest.Harness, error) {
	fake := fakebitbucketserver.New(&fakebitbucketserver.Options{Users: map[string]string{basicUser: goodPassword}})
	for _, r := range scmtest.World() {
		if _, err := fake.AddFS(fakebitbucketserver.Repo{Project: project, Name: r.Name, DefaultBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
			fake.Close()
			return nil, err
		}
	}
	good, gt := newClientFor(t, fake, integrations.BitbucketServerConfig{Username: basicUser, Password: integrations.NewSecret(goodPassword)})
	bad, bt := newClientFor(t, fake, integrations.BitbucketServerConfig{Username: basicUser, Password: integrations.NewSecret(badPassword)})
	fake.ResetStats()
	return &harness{fake: fake, good: good, bad: bad, transports: []*http.Transport{gt, bt},
		secrets: []string{goodPassword, badPassword}}, nil
}

func (h *harness) Client(bad bool) *scm.Client {
	if bad {
		return h.bad
	}
	return h.good
}

func (h *harness) World() scmtest.WorldInfo {
	reg, err := integrations.NewRegistry(integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
		Host: h.fake.Host(), APIBaseURL: h.fake.APIBaseURL(), Token: integrations.NewSecret(goodToken)}}})
	if err != nil {
		panic(err) // newClientFor made the same one
	}
	secrets := h.secrets
	if secrets == nil {
		secrets = []string{goodToken, badToken}
	}
	// Bitbucket Server serves archives itself: no scmtest.ForeignRedirector.
	return scmtest.WorldInfo{
		Registry: reg,
		Owner:    integrations.Location{Kind: integrations.BitbucketServer, Host: h.fake.Host(), Owner: project},
		Secrets:  secrets,
		Capabilities: scmtest.Capabilities{
			PathPrefix:    h.prefix,
			NoDelete:      "Bitbucket Server's REST API has no way to delete a file (PUT browse writes one file per commit)",
			NoExecutable:  "Bitbucket Server's REST API cannot set a file mode (PUT browse creates files with mode 100644)",
			CommitPerFile: "Bitbucket Server's REST API commits one file per PUT browse",
		},
	}
}

func (h *harness) Inject(f scmtest.Fault) bool {
	if f.Kind == scmtest.FaultOpenPullRequest {
		f = scmtest.Fault{Kind: scmtest.FaultServerError, Times: f.Times, Status: cmp.Or(f.Status, http.StatusBadGateway),
			Method: http.MethodPost, Path: "/projects/" + project + "/repos/" + scmtest.BasicRepo + "/pull-requests"}
	}
	h.fake.Inject(f)
	return true
}

func (h *harness) ClearFaults() { h.fake.ClearFaults() }

// CommitsAhead implements scmtest.StateReader.
func (h *harness) CommitsAhead(repo, branch string) int {
	base, _ := h.fake.Commits(project, repo, scmtest.DefaultBranch)
	head, _ := h.fake.Commits(project, repo, branch)
	return adaptertest.CommitsAhead(head, base)
}

// OpenPullRequests implements scmtest.StateReader.
func (h *harness) OpenPullRequests(repo, branch string) int {
	n := 0
	for _, p := range h.fake.PullRequests(project, repo) {
		if p.FromBranch == branch && p.ToBranch == scmtest.DefaultBranch && p.State == "OPEN" {
			n++
		}
	}
	return n
}

func (h *harness) Requests() int { return h.fake.Stats().Total }

func (h *harness) Close() {
	h.fake.Close()
	for _, tr := range h.transports {
		tr.CloseIdleConnections()
	}
}

func TestConformance(t *testing.T) {
	scmtest.RunConformanceTests(t, harnessMaker(""))
}

// TestConformanceBasic runs the suite with Basic authentication, so that
// EchoedCredentials checks that neither the encoded user:password nor the
// decoded one reaches an error.
func TestConformanceBasic(t *testing.T) {
	scmtest.RunConformanceTests(t, basicHarness)
}

func TestConformanceContextPath(t *testing.T) {
	scmtest.RunConformanceTests(t, harnessMaker("/bitbucket"))
}

// AccessTeam implements scmtest.AccessHarness: a group of the instance.
func (h *harness) AccessTeam() string {
	h.fake.AddGroup("scmtest-team")
	return "scmtest-team"
}

// TeamPermission implements scmtest.AccessHarness.
func (h *harness) TeamPermission(repo, team string) scm.Permission {
	for _, g := range h.fake.Grants(project, repo) {
		if g.Group == team {
			return map[string]scm.Permission{"REPO_READ": scm.Read, "REPO_WRITE": scm.Write, "REPO_ADMIN": scm.Admin}[g.Permission]
		}
	}
	return ""
}

// BranchHead implements scmtest.BranchReader.
func (h *harness) BranchHead(repo, branch string) string {
	id, _ := h.fake.Branch(project, repo, branch)
	return id
}
