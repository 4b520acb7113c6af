package catalog_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// limitAt is a memscm driver without FileFinder (so that Discover reads
// each repository) that arms faults on given reads: before[i] is armed
// just before the i-th ReadFile (from 1).
type limitAt struct {
	driver.Driver
	w      *memscm.World
	reads  *int
	before map[int]memscm.Fault
}

func (d limitAt) ReadFile(ctx context.Context, hc *http.Client, r *driver.ReadFileRequest) (*driver.File, error) {
	*d.reads++
	if f, ok := d.before[*d.reads]; ok {
		d.w.Inject(f)
	}
	return d.Driver.ReadFile(ctx, hc, r)
}

// TestDiscoverStopsAtRateLimit: a rate limit met while Discover reads
// each repository ends the discovery: the locations found before it are
// returned with a RateLimited error carrying the provider's RetryAt (also
// when other repositories failed before it), and no repository after it
// is read. Discover used to read (and have refused) every remaining
// repository, and with an earlier failure returned that failure's code.
func TestDiscoverStopsAtRateLimit(t *testing.T) {
	const n = 10
	retryAt := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	limit := memscm.Fault{Op: "ReadFile", Code: errcode.RateLimited, Status: 429, RetryAt: retryAt}
	for _, tc := range []struct {
		name   string
		before map[int]memscm.Fault
		found  int
		errs   int // errors joined in the one returned
	}{
		{"rate limit only", map[int]memscm.Fault{4: limit}, 3, 1},
		{"after a failed read", map[int]memscm.Fault{1: {Op: "ReadFile", Code: errcode.InvalidArgument, Status: 422, Times: 1}, 4: limit}, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := memscm.New()
			for i := range n {
				if err := w.AddRepo("acme", fmt.Sprintf("r%02d", i), "main", memscm.Files(map[string]string{"catalog-info.yaml": "kind: Component\n"})); err != nil {
					t.Fatal(err)
				}
			}
			reads := 0
			open := func(in *integrations.Integration) (driver.Driver, error) {
				d, err := w.Opener(nil)(in)
				return limitAt{Driver: d, w: w, reads: &reads, before: tc.before}, err
			}
			c, err := scm.NewClient(nil, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: open}})
			if err != nil {
				t.Fatal(err)
			}
			locs, err := catalog.Discover(t.Context(), c, "https://github.com/acme", nil)
			if reads != 4 {
				t.Errorf("Discover read %d repositories; want 4 (none after the rate limit)", reads)
			}
			if len(locs) != tc.found {
				t.Errorf("Discover found %d; want %d (those before the rate limit)", len(locs), tc.found)
			}
			if errcode.CodeOf(err) != errcode.RateLimited {
				t.Fatalf("Discover: %v (code %v); want RateLimited", err, errcode.CodeOf(err))
			}
			if at, ok := errcode.RetryAt(err); !ok || !at.Equal(retryAt) {
				t.Errorf("RetryAt(%v) = %v, %v; want %v", err, at, ok, retryAt)
			}
			if got := strings.Count(err.Error(), "(InvalidArgument") + strings.Count(err.Error(), "(RateLimited"); got < tc.errs {
				t.Errorf("Discover: %v; want the %d errors", err, tc.errs)
			}
		})
	}
}
