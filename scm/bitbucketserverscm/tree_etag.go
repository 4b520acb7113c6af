package bitbucketserverscm

import (
	"context"
	"net/http"
	"net/url"

	"github.com/scmkit/scmkit/scm/driver"
)

var _ driver.TreeVersioner = (*Driver)(nil)

// TreeVersion implements driver.TreeVersioner with one request: GET
// /projects/{key}/repos/{slug}/commits?until=REF&path=DIR&limit=1, the
// newest commit at REF (the default branch when "") that touched DIR. A
// conditional ReadTree of an unchanged directory costs this request only;
// a changed one costs it plus the archive (one request more than a plain
// ReadTree).
func (d *Driver) TreeVersion(ctx context.Context, hc *http.Client, r *driver.TreeVersionRequest) (string, error) {
	q := url.Values{"limit": {"1"}}
	if r.Ref != "" {
		q.Set("until", r.Ref)
	}
	if r.Dir != "" {
		q.Set("path", r.Dir)
	}
	var page pageJSON[struct {
		ID string `json:"id"`
	}]
	if err := d.getJSON(ctx, hc, repoPath(r.Repo)+"/commits", q, &page); err != nil {
		return "", err
	}
	if len(page.Values) == 0 {
		return "", nil
	}
	return page.Values[0].ID, nil
}
