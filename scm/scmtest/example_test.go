package scmtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
	"github.com/scmkit/scmkit/scm/scmtest"
)

// memHarness is a whole harness: a memscm world seeded with scmtest.World,
// served as github.com. An HTTP adapter's harness is the same over its
// fake server, passing Inject on to the fake.
type memHarness struct {
	w         *memscm.World
	reg       *integrations.Registry
	good, bad *scm.Client
}

func newMemHarness(_ context.Context, _ *testing.T) (scmtest.Harness, error) {
	h := &memHarness{w: memscm.New()}
	for _, r := range scmtest.World() {
		if err := h.w.AddRepo("acme", r.Name, scmtest.DefaultBranch, r.FS()); err != nil {
			return nil, err
		}
	}
	var err error
	if h.reg, err = integrations.NewRegistry(integrations.Config{}); err != nil {
		return nil, err
	}
	open := func(o *memscm.Options) (*scm.Client, error) {
		return scm.NewClient(h.reg, nil, &scm.Options{
			Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: h.w.Opener(o)},
		})
	}
	if h.good, err = open(nil); err != nil {
		return nil, err
	}
	h.bad, err = open(&memscm.Options{Faults: []memscm.Fault{{Code: scm.Unauthorized, Status: 401}}})
	return h, err
}

func (h *memHarness) Client(bad bool) *scm.Client {
	if bad {
		return h.bad
	}
	return h.good
}

func (h *memHarness) World() scmtest.WorldInfo {
	return scmtest.WorldInfo{
		Registry:     h.reg,
		Owner:        integrations.Location{Kind: integrations.GitHub, Host: "github.com", Owner: "acme"},
		Capabilities: scmtest.Capabilities{NoHTTP: "in-memory"},
	}
}

// Inject supports no fault here: the subtests that need one are skipped.
// memscm's own harness maps them onto memscm.Fault.
func (h *memHarness) Inject(scmtest.Fault) bool { return false }
func (h *memHarness) ClearFaults()              { h.w.ClearFaults() }
func (h *memHarness) Requests() int             { return h.w.Requests() }
func (h *memHarness) Close()                    {}

// A driver's whole conformance test is a harness of six methods and one
// call, in a test function:
//
//	func TestConformance(t *testing.T) {
//		scmtest.RunConformanceTests(t, newMemHarness)
//	}
func Example() {
	var maker scmtest.HarnessMaker = newMemHarness
	h, err := maker(context.Background(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	w := h.World()
	u, err := w.Registry.URL(integrations.Location{Kind: w.Owner.Kind, Host: w.Owner.Host, Owner: w.Owner.Owner,
		Repo: scmtest.BasicRepo, Ref: scmtest.DefaultBranch, Path: "catalog-info.yaml"})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := h.Client(false).ReadFile(context.Background(), u, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u, len(f.Content) > 0)
	// Output: https://github.com/acme/basic/blob/main/catalog-info.yaml true
}

func TestMemHarness(t *testing.T) {
	scmtest.RunConformanceTests(t, newMemHarness)
}
