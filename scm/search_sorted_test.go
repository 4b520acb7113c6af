package scm_test

import (
	"context"
	"slices"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// TestSearchSortedByPathWhenTruncated: results are sorted by path, and
// MaxResults keeps the first ones in that order, whether the listing was
// complete or cut short (then the directory is read as a tree, which is
// walked directory by directory: "t/a/x.yaml" before "t/a-b.yaml").
func TestSearchSortedByPathWhenTruncated(t *testing.T) {
	ctx := context.Background()
	w := memscm.New()
	files := map[string]string{
		"t/a/x.yaml":   "x",
		"t/a-b.yaml":   "y",
		"t/a.yaml":     "z",
		"t/a/b/c.yaml": "c",
		"t/b.txt":      "not matched",
	}
	if err := w.AddRepo("acme", "svc", "main", memscm.Files(files)); err != nil {
		t.Fatal(err)
	}
	want := []string{"t/a-b.yaml", "t/a.yaml", "t/a/b/c.yaml", "t/a/x.yaml"}
	const u = "https://github.com/acme/svc/blob/main/t/**/*.yaml"
	for _, limit := range []int{0, 1} { // 1: every listing is truncated
		c, err := scm.NewClient(nil, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{
			integrations.GitHub: w.Opener(&memscm.Options{ListFilesLimit: limit})}})
		if err != nil {
			t.Fatal(err)
		}
		for _, max := range []int{0, 1, 3} {
			res, err := c.Search(ctx, u, &scm.SearchOptions{MaxResults: max})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res {
				got = append(got, r.Path)
			}
			exp := want
			if max > 0 {
				exp = want[:max]
			}
			if !slices.Equal(got, exp) {
				t.Errorf("ListFilesLimit %d, MaxResults %d: %q; want %q", limit, max, got, exp)
			}
		}
	}
}
