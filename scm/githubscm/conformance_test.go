package githubscm_test

import (
	"cmp"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

const (
	owner     = "acme"
	goodToken = "ghp_conformanceGoodToken0000000000000000"
	badToken  = "ghp_conformanceBadToken00000000000000000"
)

// harness runs the conformance suite on the fake GitHub, with the API at
// the server's root (github.com's shape) or under /api/v3 (GitHub
// Enterprise Server's).
type harness struct {
	s         *fakegithub.Server
	ghe       bool
	transport *http.Transport
	good, bad *scm.Client
}

// newClient returns a portable client for the fake, with a real
// credentials.Resolver holding token as the integration's PAT.
func newClient(s *fakegithub.Server, ghe bool, token string, rt http.RoundTripper, opts *githubscm.Options) (*scm.Client, error) {
	reg, err := newRegistry(s, ghe, token)
	if err != nil {
		return nil, err
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		return nil, err
	}
	return scm.NewClient(reg, res, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(opts)},
		Transport: rt,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
	})
}

// newRegistry returns a registry with one GitHub integration for the fake,
// holding token as its PAT.
func newRegistry(s *fakegithub.Server, ghe bool, token string) (*integrations.Registry, error) {
	api := s.APIBaseURL()
	if ghe {
		api = s.GHEAPIBaseURL()
	}
	return integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: s.Host(), APIBaseURL: api, Token: integrations.NewSecret(token)}}})
}

// seed adds the conformance world under owner.
func seed(s *fakegithub.Server) error {
	for _, r := range scmtest.World() {
		if _, err := s.AddFS(fakegithub.Repo{Owner: owner, Name: r.Name, DefaultBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
			return err
		}
	}
	return nil
}

func harnessMaker(ghe bool) scmtest.HarnessMaker {
	return func(_ context.Context, t *testing.T) (scmtest.Harness, error) {
		s := fakegithub.New(&fakegithub.Options{Tokens: []string{goodToken}})
		if err := seed(s); err != nil {
			s.Close()
			return nil, err
		}
		h := &harness{s: s, ghe: ghe, transport: http.DefaultTransport.(*http.Transport).Clone()}
		var err error
		if h.good, err = newClient(s, ghe, goodToken, h.transport, nil); err != nil {
			h.Close()
			return nil, err
		}
		if h.bad, err = newClient(s, ghe, badToken, h.transport, nil); err != nil {
			h.Close()
			return nil, err
		}
		return h, nil
	}
}

func (h *harness) Client(bad bool) *scm.Client {
	if bad {
		return h.bad
	}
	return h.good
}

func (h *harness) World() scmtest.WorldInfo {
	reg, err := newRegistry(h.s, h.ghe, goodToken)
	if err != nil {
		panic(err) // newClient made the same one
	}
	return scmtest.WorldInfo{
		Registry:     reg,
		Owner:        integrations.Location{Kind: integrations.GitHub, Host: h.s.Host(), Owner: owner},
		Secrets:      []string{goodToken, badToken},
		Capabilities: scmtest.Capabilities{PathPrefix: h.ghe},
	}
}

func (h *harness) Inject(f scmtest.Fault) bool {
	if f.Kind == scmtest.FaultOpenPullRequest {
		// One mutation commits and opens the pull request: its
		// createPullRequest fails after the commit, the whole answer a 502.
		h.s.FailPullRequestMutation(f.Times, cmp.Or(f.Status, http.StatusBadGateway))
		return true
	}
	h.s.Inject(f)
	if f.Kind == scmtest.FaultTruncatedBody {
		f.Host = "download" // the archive comes from the download host: cut it too
		h.s.Inject(f)
	}
	return true
}

// RedirectToForeign implements scmtest.ForeignRedirector: tarballs
// always redirect to the download host, which no integration owns.
func (h *harness) RedirectToForeign() func() []http.Header {
	return func() []http.Header {
		var out []http.Header
		for _, r := range h.s.RequestsTo("download") {
			out = append(out, r.Header)
		}
		return out
	}
}

func (h *harness) ClearFaults() {
	h.s.ClearFaults()
	h.s.FailPullRequestMutation(0, 0)
}

func (h *harness) Requests() int { return h.s.Stats().API }

// CommitsAhead implements scmtest.StateReader.
func (h *harness) CommitsAhead(repo, branch string) int {
	onBase := map[string]bool{}
	for sha := scmtest.DefaultBranch; ; {
		c, ok := h.s.GetCommit(owner, repo, sha)
		if !ok {
			break
		}
		onBase[c.SHA] = true
		if len(c.Parents) == 0 {
			break
		}
		sha = c.Parents[0]
	}
	n := 0
	for sha := branch; ; n++ {
		c, ok := h.s.GetCommit(owner, repo, sha)
		if !ok || onBase[c.SHA] {
			return n
		}
		if len(c.Parents) == 0 {
			return n + 1
		}
		sha = c.Parents[0]
	}
}

// OpenPullRequests implements scmtest.StateReader.
func (h *harness) OpenPullRequests(repo, branch string) int {
	n := 0
	for _, p := range h.s.Pulls(owner, repo) {
		if p.Head == branch && p.Base == scmtest.DefaultBranch && p.State == "open" {
			n++
		}
	}
	return n
}

func (h *harness) Close() {
	h.s.Close()
	h.transport.CloseIdleConnections()
}

func TestConformance(t *testing.T) {
	scmtest.RunConformanceTests(t, harnessMaker(false))
}

func TestConformanceGHE(t *testing.T) {
	scmtest.RunConformanceTests(t, harnessMaker(true))
}

// AccessTeam implements scmtest.AccessHarness: a team of the organization.
func (h *harness) AccessTeam() string {
	if err := h.s.AddTeam(owner, fakegithub.Team{Slug: "scmtest-team"}); err != nil {
		panic(err)
	}
	return "scmtest-team"
}

// TeamPermission implements scmtest.AccessHarness.
func (h *harness) TeamPermission(repo, team string) scm.Permission {
	for _, g := range h.s.Grants(owner, repo) {
		if g.Team == team {
			return map[string]scm.Permission{"pull": scm.Read, "push": scm.Write, "admin": scm.Admin}[g.Permission]
		}
	}
	return ""
}

// BranchHead implements scmtest.BranchReader.
func (h *harness) BranchHead(repo, branch string) string {
	c, _ := h.s.GetCommit(owner, repo, branch)
	return c.SHA
}
