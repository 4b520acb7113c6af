package memscm_test

import (
	"context"
	"net/http"
	"strings"
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
	good, bad *scm.Client
}

func newHarness(_ context.Context, t *testing.T) (scmtest.Harness, error) {
	w := memscm.New()
	for _, r := range scmtest.World() {
		if err := w.AddRepo(owner, r.Name, scmtest.DefaultBranch, r.FS()); err != nil {
			return nil, err
		}
	}
	open := func(o *memscm.Options) (*scm.Client, error) {
		return scm.NewClient(nil, nil, &scm.Options{
			Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: w.Opener(o)},
			Retry:   scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRateLimitWait: time.Second},
		})
	}
	good, err := open(nil)
	if err != nil {
		return nil, err
	}
	bad, err := open(&memscm.Options{Faults: []memscm.Fault{{Code: scm.Unauthorized, Status: http.StatusUnauthorized}}})
	if err != nil {
		return nil, err
	}
	return &harness{w: w, good: good, bad: bad}, nil
}

func (h *harness) Client() *scm.Client    { return h.good }
func (h *harness) BadClient() *scm.Client { return h.bad }
func (h *harness) OwnerURL() string       { return "https://github.com/" + owner }
func (h *harness) RepoURL(repo string) string {
	return h.OwnerURL() + "/" + repo
}

func ref(r string) string {
	if r == "" {
		return scmtest.DefaultBranch
	}
	return r
}

func (h *harness) FileURL(repo, r, p string) string {
	return h.RepoURL(repo) + "/blob/" + ref(r) + "/" + p
}

func (h *harness) TreeURL(repo, r, dir string) string {
	return strings.TrimSuffix(h.RepoURL(repo)+"/tree/"+ref(r)+"/"+dir, "/")
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

func (h *harness) ClearFaults()                   { h.w.ClearFaults() }
func (h *harness) Requests() int                  { return h.w.Requests() }
func (h *harness) RedirectToForeign() bool        { return false }
func (h *harness) ForeignRequests() []http.Header { return nil }
func (h *harness) Secrets() []string              { return nil }
func (h *harness) Close()                         {}

func (h *harness) Capabilities() scmtest.Capabilities {
	return scmtest.Capabilities{NoHTTP: "memscm is an in-memory driver"}
}

func TestConformance(t *testing.T) {
	scmtest.RunConformanceTests(t, newHarness)
}
