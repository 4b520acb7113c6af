package scm_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// TestFindFilesStopsAtRateLimit: in the read-each-repository fallback, a
// rate limit met reading one repository is the credential's: FindFiles
// yields it once (RateLimited, with the provider's RetryAt, naming the
// repository it stopped at) after the files found before it, and reads no
// other repository. It used to read (and have refused) every remaining
// repository, yielding one RateLimited error for each.
func TestFindFilesStopsAtRateLimit(t *testing.T) {
	const n = 10
	w := memscm.New()
	for i := range n {
		if err := w.AddRepo("acme", fmt.Sprintf("r%02d", i), "main", memscm.Files(map[string]string{"catalog-info.yaml": "kind: Component\n"})); err != nil {
			t.Fatal(err)
		}
	}
	c, err := scm.NewClient(nil, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{
		integrations.GitHub: w.Opener(&memscm.Options{Faults: []memscm.Fault{{Op: "FindFiles", Code: errcode.Unimplemented}}})}})
	if err != nil {
		t.Fatal(err)
	}
	retryAt := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	var found, errs []string
	var last error
	armedAt := 0
	for f, err := range c.FindFiles(t.Context(), "https://github.com/acme", "catalog-info.yaml") {
		if err != nil {
			errs, last = append(errs, errcode.CodeOf(err).String()), err
			continue
		}
		found = append(found, f.Repository.Name)
		if len(found) == 3 {
			// The limit is spent: every read from now on is refused.
			w.Inject(memscm.Fault{Op: "ReadFile", Code: errcode.RateLimited, Status: 429, RetryAt: retryAt})
			t.Cleanup(w.ClearFaults)
			armedAt = w.Requests()
		}
	}
	if after := w.Requests() - armedAt; after != 1 {
		t.Errorf("FindFiles sent %d reads once rate limited; want 1 (the refused one)", after)
	}
	if strings.Join(found, ",") != "r00,r01,r02" || len(errs) != 1 || errs[0] != "RateLimited" {
		t.Fatalf("FindFiles: found %v, errors %v; want r00-r02, then one RateLimited", found, errs)
	}
	if at, ok := errcode.RetryAt(last); !ok || !at.Equal(retryAt) {
		t.Errorf("RetryAt = %v, %v; want %v", at, ok, retryAt)
	}
	if !strings.Contains(last.Error(), "search stopped at repository acme/r03") {
		t.Errorf("error %q does not say where the search stopped", last)
	}
}
