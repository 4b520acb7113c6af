package memscm_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
	"github.com/scmkit/scmkit/scm/scmtest"
)

const owner = "acme"

// harness runs the conformance suite on a memscm world served as
// github.com.
type harness struct {
	w         *memscm.World
	reg       *integrations.Registry
	good, bad *scm.Client
}

func newHarness(_ context.Context, t *testing.T) (scmtest.Harness, error) {
	w := memscm.New()
	for _, r := range scmtest.World() {
		if err := w.AddRepo(owner, r.Name, scmtest.DefaultBranch, r.FS()); err != nil {
			return nil, err
		}
	}
	reg, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		return nil, err
	}
	open := func(o *memscm.Options) (*scm.Client, error) {
		return scm.NewClient(reg, nil, &scm.Options{
			Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: w.Opener(o)},
			Retry:   scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
		})
	}
	h := &harness{w: w, reg: reg}
	if h.good, err = open(nil); err != nil {
		return nil, err
	}
	h.bad, err = open(&memscm.Options{Faults: []memscm.Fault{{Code: scm.Unauthorized, Status: http.StatusUnauthorized}}})
	return h, err
}

func (h *harness) Client(bad bool) *scm.Client {
	if bad {
		return h.bad
	}
	return h.good
}

func (h *harness) World() scmtest.WorldInfo {
	return scmtest.WorldInfo{
		Registry:     h.reg,
		Owner:        integrations.Location{Kind: integrations.GitHub, Host: "github.com", Owner: owner},
		Capabilities: scmtest.Capabilities{NoHTTP: "memscm is an in-memory driver"},
	}
}

func (h *harness) Inject(f scmtest.Fault) bool {
	mf := memscm.Fault{Times: f.Times}
	retryAt := func() time.Time {
		if f.RetryAfter <= 0 {
			return time.Time{}
		}
		return time.Now().Add(f.RetryAfter)
	}
	switch f.Kind {
	case scmtest.FaultUnauthorized:
		mf.Code, mf.Status = scm.Unauthorized, http.StatusUnauthorized
	case scmtest.FaultNotFound:
		mf.Code, mf.Status = scm.NotFound, http.StatusNotFound
	case scmtest.FaultUnprocessable:
		mf.Code, mf.Status = scm.InvalidArgument, http.StatusUnprocessableEntity
	case scmtest.FaultRateLimit, scmtest.FaultSecondaryRateLimit:
		mf.Code, mf.Status, mf.RetryAt = scm.RateLimited, http.StatusForbidden, retryAt()
	case scmtest.FaultTooManyRequests, scmtest.FaultTooManyRequestsNoRetryAfter:
		mf.Code, mf.Status, mf.RetryAt = scm.RateLimited, http.StatusTooManyRequests, retryAt()
	case scmtest.FaultServerError:
		mf.Code, mf.Status = scm.Unavailable, f.Status
		if mf.Status == 0 {
			mf.Status = http.StatusInternalServerError
		}
	case scmtest.FaultSlow:
		mf.Delay = f.Delay
	case scmtest.FaultTruncatedBody:
		// What a driver makes of a connection cut mid-body.
		mf.Code = scm.Unavailable
	default:
		return false
	}
	h.w.Inject(mf)
	return true
}

func (h *harness) ClearFaults()  { h.w.ClearFaults() }
func (h *harness) Requests() int { return h.w.Requests() }
func (h *harness) Close()        {}

func TestConformance(t *testing.T) {
	scmtest.RunConformanceTests(t, newHarness)
}

// BranchHead implements scmtest.BranchReader.
func (h *harness) BranchHead(repo, branch string) string { return h.w.Branches(owner, repo)[branch] }
