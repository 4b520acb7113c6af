package githubscm

import (
	"context"
	"net/http"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/scm/driver"
)

var _ driver.TreeVersioner = (*Driver)(nil)

// TreeVersion implements driver.TreeVersioner with one request: GET
// /repos/{o}/{r}/commits?sha=REF&path=DIR&per_page=1, the newest commit
// at REF that touched DIR (the default branch when REF is ""). A
// conditional ReadTree of an unchanged directory costs this request only
// (with the client's PageCache, sent with If-None-Match and answered 304,
// which does not count against the rate limit);
// a changed one costs it plus what a plain ReadTree costs (the GraphQL
// query, or the tarball where the tree is read as one): one request more.
func (d *Driver) TreeVersion(ctx context.Context, hc *http.Client, r *driver.TreeVersionRequest) (string, error) {
	if err := checkRepo(r.Repo); err != nil {
		return "", err
	}
	if err := d.needAPI(); err != nil {
		return "", err
	}
	gh := d.client(hc)
	opts := &github.CommitsListOptions{SHA: r.Ref, Path: r.Dir, ListOptions: github.ListOptions{PerPage: 1}}
	commits, _, err := gh.Repositories.ListCommits(ctx, r.Repo.Owner, r.Repo.Name, opts)
	if err != nil {
		return "", redact(err)
	}
	if len(commits) == 0 {
		return "", nil
	}
	return commits[0].GetSHA(), nil
}
