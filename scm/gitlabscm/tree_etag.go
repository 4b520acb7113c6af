package gitlabscm

import (
	"context"
	"net/http"

	gitlab "gitlab.com/gitlab-org/api/client-go"

	"github.com/scmkit/scmkit/scm/driver"
)

var _ driver.TreeVersioner = (*Driver)(nil)

// TreeVersion implements driver.TreeVersioner with one request: GET
// /projects/:id/repository/commits?ref_name=REF&path=DIR&per_page=1, the
// newest commit at REF (the default branch when "") that touched DIR. A
// conditional ReadTree of an unchanged directory costs this request only;
// a changed one costs it plus the archive (one request more than a plain
// ReadTree).
func (d *Driver) TreeVersion(ctx context.Context, hc *http.Client, r *driver.TreeVersionRequest) (string, error) {
	if err := checkRepo(r.Repo); err != nil {
		return "", err
	}
	gl := d.gl
	ctx = d.bind(ctx, hc)
	opt := &gitlab.ListCommitsOptions{ListOptions: gitlab.ListOptions{PerPage: 1}}
	if r.Ref != "" {
		opt.RefName = gitlab.Ptr(r.Ref)
	}
	if r.Dir != "" {
		opt.Path = gitlab.Ptr(r.Dir)
	}
	commits, _, err := gl.Commits.ListCommits(projectPath(r.Repo), opt, gitlab.WithContext(ctx))
	if err != nil {
		return "", err
	}
	if len(commits) == 0 {
		return "", nil
	}
	return commits[0].ID, nil
}
