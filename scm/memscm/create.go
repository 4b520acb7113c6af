package memscm

import (
	"context"
	"net/http"
	"slices"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

var _ driver.RepositoryCreator = (*drv)(nil)

// CreateRepository implements driver.RepositoryCreator in one call: the
// repository and its initial commit appear together, or not at all. Any
// owner may create; visibility "private" and "internal" make the
// repository private.
func (d *drv) CreateRepository(ctx context.Context, _ *http.Client, r *driver.CreateRepositoryRequest) (*driver.CreatedRepository, error) {
	if err := d.begin(ctx, "CreateRepository"); err != nil {
		return nil, err
	}
	d.w.mu.Lock()
	defer d.w.mu.Unlock()
	k := key(r.Owner, r.Name)
	if _, ok := d.w.repos[k]; ok {
		return nil, errf(errcode.AlreadyExists, http.StatusConflict, "repository %s/%s exists", r.Owner, r.Name)
	}
	branch := r.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	files := make(map[string]blob, len(r.Files))
	for _, f := range r.Files {
		files[f.Path] = blob{content: slices.Clone(f.Content), executable: f.Executable}
	}
	rp := &repo{owner: r.Owner, name: r.Name, defaultBranch: branch, private: r.Visibility != "public",
		branches: map[string]string{}, commits: map[string]*commit{}}
	c := d.w.newCommit(rp, "", files)
	rp.branches[branch] = c.id
	d.w.repos[k] = rp
	return &driver.CreatedRepository{Repository: d.describe(rp), CommitID: c.id}, nil
}
