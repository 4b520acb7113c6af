package gitlabscm_test

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

const (
	// owner is a nested group, so that the whole suite runs on
	// URL-encoded project paths (acme%2Fplatform%2Fbasic).
	owner     = "acme/platform"
	goodToken = "glpat-conformanceGoodToken000"
	badToken  = "glpat-conformanceBadToken0000"
	subPath   = "/gitlab"
)

// harness runs the conformance suite on the fake GitLab, at the server's
// root or under a sub-path (/gitlab, API /gitlab/api/v4).
type harness struct {
	s         *fakegitlab.Server
	sub       bool
	transport *http.Transport
	good, bad *scm.Client
}

// newRegistry returns a registry with one GitLab integration for s, whose
// token is token.
func newRegistry(s *fakegitlab.Server, token string) (*integrations.Registry, error) {
	return integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: s.Host(), APIBaseURL: s.APIBaseURL(), BaseURL: s.URL(), Token: integrations.NewSecret(token)}}})
}

// newClient returns a portable client for the fake, with a real
// credentials.Resolver holding token as the integration's token.
func newClient(s *fakegitlab.Server, token string, rt http.RoundTripper, opts *gitlabscm.Options) (*scm.Client, error) {
	reg, err := newRegistry(s, token)
	if err != nil {
		return nil, err
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		return nil, err
	}
	return scm.NewClient(reg, res, &scm.Options{
		Drivers:   map[integrations.Kind]driver.Opener{integrations.GitLab: gitlabscm.Opener(opts)},
		Transport: rt,
		Retry:     scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
	})
}

// seed adds the conformance world under owner.
func seed(s *fakegitlab.Server) error {
	for _, r := range scmtest.World() {
		if _, _, err := s.AddFS(fakegitlab.Project{Namespace: owner, Path: r.Name, DefaultBranch: scmtest.DefaultBranch}, r.FS()); err != nil {
			return err
		}
	}
	return nil
}

func harnessMaker(sub bool) scmtest.HarnessMaker {
	return func(_ context.Context, t *testing.T) (scmtest.Harness, error) {
		opts := &fakegitlab.Options{Tokens: []string{goodToken}}
		if sub {
			opts.RelativePath = subPath
		}
		s := fakegitlab.New(opts)
		if err := seed(s); err != nil {
			s.Close()
			return nil, err
		}
		h := &harness{s: s, sub: sub, transport: http.DefaultTransport.(*http.Transport).Clone()}
		var err error
		if h.good, err = newClient(s, goodToken, h.transport, nil); err != nil {
			h.Close()
			return nil, err
		}
		if h.bad, err = newClient(s, badToken, h.transport, nil); err != nil {
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
	reg, err := newRegistry(h.s, goodToken)
	if err != nil {
		panic(err) // newClient made the same one
	}
	return scmtest.WorldInfo{
		Registry: reg,
		Owner:    integrations.Location{Kind: integrations.GitLab, Host: h.s.Host(), Owner: owner},
		Secrets:  []string{goodToken, badToken},
		// No ForeignRequests: GitLab serves raw files and archives from
		// its own host (Workhorse streams them from Gitaly); it redirects
		// nothing the driver downloads to another host. (Only LFS objects
		// fetched with lfs=true may redirect to object storage, and the
		// driver never asks for them.)
		Capabilities: scmtest.Capabilities{PathPrefix: h.sub},
	}
}

func (h *harness) Inject(f scmtest.Fault) bool {
	if f.Kind == scmtest.FaultOpenPullRequest {
		f = scmtest.Fault{Kind: scmtest.FaultServerError, Times: f.Times, Status: cmp.Or(f.Status, http.StatusBadGateway),
			Method: http.MethodPost, Path: "/api/v4/projects/" + url.PathEscape(owner+"/"+scmtest.BasicRepo) + "/merge_requests"}
	}
	h.s.Inject(f)
	return true
}

func (h *harness) ClearFaults()  { h.s.ClearFaults() }
func (h *harness) Requests() int { return h.s.Stats().Total }

// CommitsAhead implements scmtest.StateReader.
func (h *harness) CommitsAhead(repo, branch string) int {
	base, _ := h.s.Commits(owner+"/"+repo, scmtest.DefaultBranch)
	head, _ := h.s.Commits(owner+"/"+repo, branch)
	return adaptertest.CommitsAhead(head, base)
}

// OpenPullRequests implements scmtest.StateReader.
func (h *harness) OpenPullRequests(repo, branch string) int {
	n := 0
	for _, m := range h.s.MergeRequests(owner + "/" + repo) {
		if m.SourceBranch == branch && m.TargetBranch == scmtest.DefaultBranch && m.State == "opened" {
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

func TestConformanceSubPath(t *testing.T) {
	scmtest.RunConformanceTests(t, harnessMaker(true))
}

// AccessTeam implements scmtest.AccessHarness: a group to share with.
func (h *harness) AccessTeam() string {
	if err := h.s.AddGroup("scmtest-team"); err != nil {
		panic(err)
	}
	return "scmtest-team"
}

// TeamPermission implements scmtest.AccessHarness.
func (h *harness) TeamPermission(repo, team string) scm.Permission {
	for _, g := range h.s.Grants(owner + "/" + repo) {
		if g.Group == team {
			return map[int]scm.Permission{20: scm.Read, 30: scm.Write, 40: scm.Admin}[g.AccessLevel]
		}
	}
	return ""
}

// BranchHead implements scmtest.BranchReader.
func (h *harness) BranchHead(repo, branch string) string {
	id, _ := h.s.Branch(owner+"/"+repo, branch)
	return id
}
