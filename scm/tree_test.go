package scm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// TestReadTreeRequestLimits: the driver receives the resolved limits and
// the filter, so that a driver reading file by file can stop early.
func TestReadTreeRequestLimits(t *testing.T) {
	keepYAML := func(p string, _ int64) bool { return strings.HasSuffix(p, ".yaml") }
	for _, tc := range []struct {
		name      string
		limits    scm.Limits
		opts      *scm.TreeOptions
		wantFiles int
		wantBytes int64
	}{
		{name: "defaults", opts: nil, wantFiles: scm.DefaultMaxTreeFiles, wantBytes: scm.DefaultMaxTreeBytes},
		{name: "client limits", limits: scm.Limits{MaxTreeFiles: 7, MaxTreeBytes: 700}, wantFiles: 7, wantBytes: 700},
		{name: "tree options", limits: scm.Limits{MaxTreeFiles: 7, MaxTreeBytes: 700},
			opts: &scm.TreeOptions{MaxFiles: 5, MaxBytes: 50, Filter: keepYAML}, wantFiles: 5, wantBytes: 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *driver.TreeRequest
			d := &fakeDriver{readTree: func(_ context.Context, r *driver.TreeRequest) (*driver.Tree, error) {
				got = r
				return &driver.Tree{Files: []driver.TreeFile{{Path: "a.yaml", Content: []byte("a")}}}, nil
			}}
			c := newClient(t, d.opener(), nil, &scm.Options{Limits: tc.limits})
			if _, err := c.ReadTree(t.Context(), ghBase+"svc/tree/main/conf", tc.opts); err != nil {
				t.Fatal(err)
			}
			if got.MaxFiles != tc.wantFiles || got.MaxBytes != tc.wantBytes {
				t.Errorf("TreeRequest MaxFiles %d, MaxBytes %d; want %d, %d", got.MaxFiles, got.MaxBytes, tc.wantFiles, tc.wantBytes)
			}
			wantFilter := tc.opts != nil && tc.opts.Filter != nil
			if (got.Filter != nil) != wantFilter {
				t.Fatalf("TreeRequest Filter set %v; want %v", got.Filter != nil, wantFilter)
			}
			if wantFilter && (!got.Filter("x.yaml", 1) || got.Filter("x.txt", 1)) {
				t.Error("TreeRequest Filter is not the caller's filter")
			}
		})
	}
}

// TestReadTreeFilesEnforced: the client applies the limits and the filter
// to a tree given as files whatever the driver did with them, and tells an
// empty directory whose files were all filtered out from a missing one.
func TestReadTreeFilesEnforced(t *testing.T) {
	files := []driver.TreeFile{
		{Path: "a.yaml", Content: []byte("aaaa")},
		{Path: "b.yaml", Content: []byte("bbbb")},
		{Path: "c.txt", Content: []byte("cccc")},
	}
	keepYAML := func(p string, _ int64) bool { return strings.HasSuffix(p, ".yaml") }
	for _, tc := range []struct {
		name string
		tree driver.Tree // the driver's answer, limits ignored
		opts *scm.TreeOptions
		code scm.ErrorCode
		want []string
	}{
		{name: "over MaxFiles", tree: driver.Tree{Files: files}, opts: &scm.TreeOptions{MaxFiles: 2}, code: scm.InvalidArgument},
		{name: "over MaxBytes", tree: driver.Tree{Files: files}, opts: &scm.TreeOptions{MaxBytes: 10}, code: scm.InvalidArgument},
		{name: "filter", tree: driver.Tree{Files: files}, opts: &scm.TreeOptions{Filter: keepYAML, MaxFiles: 2},
			want: []string{"a.yaml", "b.yaml"}},
		{name: "all filtered out by the driver", tree: driver.Tree{Files: []driver.TreeFile{}, Filtered: 3},
			opts: &scm.TreeOptions{Filter: keepYAML}, want: nil},
		{name: "missing directory", tree: driver.Tree{Files: []driver.TreeFile{}}, opts: &scm.TreeOptions{Filter: keepYAML},
			code: scm.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDriver{readTree: func(context.Context, *driver.TreeRequest) (*driver.Tree, error) {
				tr := tc.tree
				return &tr, nil
			}}
			c := newClient(t, d.opener(), nil, nil)
			fsys, err := c.ReadTree(t.Context(), ghBase+"svc/tree/main/conf", tc.opts)
			if got := scm.Code(err); got != tc.code {
				t.Fatalf("ReadTree: code %v (%v); want %v", got, err, tc.code)
			}
			if err != nil {
				return
			}
			got := adaptertest.FilePaths(t, fsys)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}
