package scm_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// TestFindFilesReportsUnreadableFile: when the provider cannot search
// (the read-each-repository fallback), a repository without the file or
// where the path is a directory is skipped, and every other error about
// one repository is yielded, as FindFiles' doc says: a file over
// Limits.MaxFileBytes (which the finder reports as found) or a 422 answer
// is neither found nor dropped.
func TestFindFilesReportsUnreadableFile(t *testing.T) {
	ctx := context.Background()
	w := memscm.New()
	for name, files := range map[string]map[string]string{
		"small": {"catalog-info.yaml": "kind: Component\n"},
		"big":   {"catalog-info.yaml": "kind: Component\n" + strings.Repeat("#", 200)},
		"dir":   {"catalog-info.yaml/x": "a directory"},
		"none":  {"README.md": "x"},
	} {
		if err := w.AddRepo("acme", name, "main", memscm.Files(files)); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		Found  []string
		Errors []string // repository: code
	}
	unimplemented := []memscm.Fault{{Op: "FindFiles", Code: errcode.Unimplemented}}
	for _, tc := range []struct {
		name   string
		faults []memscm.Fault
		inject *memscm.Fault // armed for this case only
		want   result
	}{
		{"finder", nil, nil, result{Found: []string{"big (finder)", "small (finder)"}}},
		{"fallback", unimplemented, nil, result{Found: []string{"small (readFile)"}, Errors: []string{"acme/big: InvalidArgument"}}},
		// The listing is in name order: the first two reads (big, dir) get a 422.
		{"fallback, 422 answers", unimplemented, &memscm.Fault{Op: "ReadFile", Code: errcode.InvalidArgument, Status: 422, Times: 2},
			result{Found: []string{"small (readFile)"}, Errors: []string{"acme/big: InvalidArgument", "acme/dir: InvalidArgument"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := scm.NewClient(nil, nil, &scm.Options{Limits: scm.Limits{MaxFileBytes: 100},
				Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: w.Opener(&memscm.Options{Faults: tc.faults})}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.inject != nil {
				w.Inject(*tc.inject)
				t.Cleanup(w.ClearFaults)
			}
			var got result
			for f, err := range c.FindFiles(ctx, "https://github.com/acme", "catalog-info.yaml") {
				if err != nil {
					repo := "?"
					for _, r := range []string{"acme/big", "acme/dir", "acme/none", "acme/small"} {
						if strings.Contains(err.Error(), r+":") {
							repo = r
						}
					}
					got.Errors = append(got.Errors, fmt.Sprintf("%s: %v", repo, errcode.CodeOf(err)))
					continue
				}
				got.Found = append(got.Found, f.Repository.Name+" ("+f.Method.String()+")")
			}
			slices.Sort(got.Found)
			slices.Sort(got.Errors)
			if !slices.Equal(got.Found, tc.want.Found) || !slices.Equal(got.Errors, tc.want.Errors) {
				t.Errorf("FindFiles: found %q, errors %q; want %q, %q", got.Found, got.Errors, tc.want.Found, tc.want.Errors)
			}
		})
	}
}
