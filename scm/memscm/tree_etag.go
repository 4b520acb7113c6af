package memscm

import (
	"context"
	"net/http"

	"github.com/scmkit/scmkit/scm/driver"
)

var _ driver.TreeVersioner = (*drv)(nil)

// TreeVersion implements driver.TreeVersioner: it walks the first-parent
// chain from r.Ref and returns the newest commit whose files under r.Dir
// differ from its parent's. It counts as one request ("TreeVersion").
func (d *drv) TreeVersion(ctx context.Context, _ *http.Client, r *driver.TreeVersionRequest) (string, error) {
	if err := d.begin(ctx, "TreeVersion"); err != nil {
		return "", err
	}
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	rp, c, err := d.commitAt(r.Repo, r.Ref)
	if err != nil {
		return "", err
	}
	for ; c != nil; c = rp.commits[c.parent] {
		p := rp.commits[c.parent]
		if p == nil {
			if isDir(c.files, r.Dir) {
				return c.id, nil
			}
			return "", nil
		}
		if !sameDir(c.files, p.files, r.Dir) {
			return c.id, nil
		}
	}
	return "", nil
}

// sameDir reports whether a and b hold the same files under dir.
func sameDir(a, b map[string]blob, dir string) bool {
	n := 0
	for p, fa := range a {
		if _, ok := under(p, dir); !ok {
			continue
		}
		n++
		fb, ok := b[p]
		if !ok || fa.executable != fb.executable || string(fa.content) != string(fb.content) {
			return false
		}
	}
	for p := range b {
		if _, ok := under(p, dir); ok {
			n--
		}
	}
	return n == 0
}
