package scm_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
)

// versionedDriver is a fakeDriver with driver.TreeVersioner.
type versionedDriver struct {
	*fakeDriver
	version  func(r *driver.TreeVersionRequest) (string, error)
	versions int
}

func (d *versionedDriver) TreeVersion(_ context.Context, _ *http.Client, r *driver.TreeVersionRequest) (string, error) {
	d.versions++
	return d.version(r)
}

func (d *versionedDriver) opener() driver.Opener {
	return func(*integrations.Integration) (driver.Driver, error) { return d, nil }
}

// TestReadTreeETag: the client compares the caller's ETag with the
// directory's last commit; equal (in any of the forms an HTTP cache may
// keep) is NotModified without a tree read, different reads the tree and
// gives it the new ETag; no ETag asked costs no version request.
func TestReadTreeETag(t *testing.T) {
	const head = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name         string
		opts         *scm.TreeOptions
		version      string
		wantCode     scm.ErrorCode
		wantVersions int
		wantReads    int
		wantETag     string
	}{
		{name: "no etag asked", opts: nil, version: head, wantReads: 1},
		{name: "with etag", opts: &scm.TreeOptions{WithETag: true}, version: head, wantVersions: 1, wantReads: 1, wantETag: head},
		{name: "unchanged", opts: &scm.TreeOptions{IfNoneMatch: head}, version: head, wantCode: scm.NotModified, wantVersions: 1},
		{name: "unchanged quoted", opts: &scm.TreeOptions{IfNoneMatch: `"` + head + `"`}, version: head, wantCode: scm.NotModified, wantVersions: 1},
		{name: "unchanged weak", opts: &scm.TreeOptions{IfNoneMatch: `W/"` + head + `"`}, version: head, wantCode: scm.NotModified, wantVersions: 1},
		{name: "changed", opts: &scm.TreeOptions{IfNoneMatch: "ffff"}, version: head, wantVersions: 1, wantReads: 1, wantETag: head},
		{name: "prefix is not a match", opts: &scm.TreeOptions{IfNoneMatch: head[:7]}, version: head, wantVersions: 1, wantReads: 1, wantETag: head},
		{name: "no commit known", opts: &scm.TreeOptions{IfNoneMatch: head}, version: "", wantVersions: 1, wantReads: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reads := 0
			var got *driver.TreeVersionRequest
			d := &versionedDriver{fakeDriver: &fakeDriver{readTree: func(context.Context, *driver.TreeRequest) (*driver.Tree, error) {
				reads++
				return &driver.Tree{Files: []driver.TreeFile{{Path: "a.yaml", Content: []byte("a")}}}, nil
			}}, version: func(r *driver.TreeVersionRequest) (string, error) { got = r; return tc.version, nil }}
			c := newClient(t, d.opener(), nil, nil)
			fsys, err := c.ReadTree(t.Context(), ghBase+"svc/tree/main/conf", tc.opts)
			if scm.Code(err) != tc.wantCode {
				t.Fatalf("ReadTree: %v; want code %v", err, tc.wantCode)
			}
			if d.versions != tc.wantVersions || reads != tc.wantReads {
				t.Errorf("%d version requests and %d tree reads; want %d and %d", d.versions, reads, tc.wantVersions, tc.wantReads)
			}
			if got != nil && (got.Ref != "main" || got.Dir != "conf" || got.Repo.Name != "svc") {
				t.Errorf("TreeVersionRequest %+v; want ref main, dir conf, repo svc", got)
			}
			if err != nil {
				if !errors.Is(err, scm.ErrNotModified) {
					t.Errorf("errors.Is(%v, ErrNotModified) = false", err)
				}
				return
			}
			if e := scm.TreeETag(fsys); e != tc.wantETag {
				t.Errorf("TreeETag = %q; want %q", e, tc.wantETag)
			}
			if b, err := fs.ReadFile(fsys, "a.yaml"); err != nil || string(b) != "a" {
				t.Errorf("a.yaml = %q, %v", b, err)
			}
		})
	}
}

// TestReadTreeETagErrors: a failing version request fails the read with
// the driver's classification, before any download; a driver without
// TreeVersioner reads the tree in full and gives no ETag.
func TestReadTreeETagErrors(t *testing.T) {
	reads := 0
	fd := &fakeDriver{readTree: func(context.Context, *driver.TreeRequest) (*driver.Tree, error) {
		reads++
		return &driver.Tree{Files: []driver.TreeFile{{Path: "a.yaml", Content: []byte("a")}}}, nil
	}, info: func(err error) driver.ErrorInfo {
		if e := (*scmError)(nil); errors.As(err, &e) {
			return driver.ErrorInfo{Code: e.code, Status: http.StatusNotFound}
		}
		return driver.ErrorInfo{Code: scm.Unknown}
	}}
	d := &versionedDriver{fakeDriver: fd, version: func(*driver.TreeVersionRequest) (string, error) {
		return "", &scmError{code: scm.NotFound}
	}}
	c := newClient(t, d.opener(), nil, nil)
	_, err := c.ReadTree(t.Context(), ghBase+"svc/tree/nope/conf", &scm.TreeOptions{IfNoneMatch: "abc"})
	if scm.Code(err) != scm.NotFound || reads != 0 {
		t.Errorf("ReadTree with a failing version request: %v after %d tree reads; want NotFound after none", err, reads)
	}

	plain := newClient(t, fd.opener(), nil, nil)
	fsys, err := plain.ReadTree(t.Context(), ghBase+"svc/tree/main/conf", &scm.TreeOptions{IfNoneMatch: "abc"})
	if err != nil || reads != 1 || scm.TreeETag(fsys) != "" {
		t.Errorf("ReadTree without TreeVersioner: ETag %q, %v after %d reads; want the tree, no ETag, 1 read", scm.TreeETag(fsys), err, reads)
	}
}

// scmError is an error the test drivers return with a code.
type scmError struct{ code scm.ErrorCode }

func (e *scmError) Error() string { return fmt.Sprintf("test error %v", e.code) }

// TestTreeCommitID: the commit the driver reports is kept with the tree;
// without one, a tree with an ETag gives its ETag; without either, "".
func TestTreeCommitID(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name                 string
		versioned            bool
		driverCommit         string
		opts                 *scm.TreeOptions
		wantCommit, wantETag string
	}{
		{name: "driver commit", driverCommit: "c1", wantCommit: "c1"},
		{name: "nothing known"},
		{name: "etag only", versioned: true, opts: &scm.TreeOptions{WithETag: true}, wantCommit: id, wantETag: id},
		{name: "both", versioned: true, driverCommit: "c1", opts: &scm.TreeOptions{WithETag: true}, wantCommit: "c1", wantETag: id},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := &fakeDriver{readTree: func(context.Context, *driver.TreeRequest) (*driver.Tree, error) {
				return &driver.Tree{CommitID: tc.driverCommit, Files: []driver.TreeFile{{Path: "a.yaml", Content: []byte("a")}}}, nil
			}}
			open := fd.opener()
			if tc.versioned {
				open = (&versionedDriver{fakeDriver: fd, version: func(*driver.TreeVersionRequest) (string, error) { return id, nil }}).opener()
			}
			fsys, err := newClient(t, open, nil, nil).ReadTree(t.Context(), ghBase+"svc/tree/main/conf", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if c, e := scm.TreeCommitID(fsys), scm.TreeETag(fsys); c != tc.wantCommit || e != tc.wantETag {
				t.Errorf("TreeCommitID %q, TreeETag %q; want %q, %q", c, e, tc.wantCommit, tc.wantETag)
			}
		})
	}
}
