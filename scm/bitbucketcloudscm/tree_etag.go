package bitbucketcloudscm

import (
	"context"
	"net/http"
	"net/url"

	"github.com/scmkit/scmkit/scm/driver"
)

var (
	_ driver.TreeVersioner = (*Driver)(nil)
	_ driver.TreeVersioner = perRepository{}
)

// TreeVersion implements driver.TreeVersioner with one request: GET
// /repositories/{ws}/{slug}/commits/{ref}?path=DIR&pagelen=1, the newest
// commit at ref that touched DIR. When the URL names no ref, the main
// branch is looked up first (one more request, as for every read of such
// a URL, unless the branch is remembered: Options.MainBranchTTL). A conditional ReadTree of an unchanged directory costs this
// request only; a changed one costs it plus the archive (one request more
// than a plain ReadTree).
func (d *Driver) TreeVersion(ctx context.Context, hc *http.Client, r *driver.TreeVersionRequest) (string, error) {
	var v string
	err := d.withRef(ctx, hc, r.Repo, r.Ref, func(ref string) error {
		var err error
		v, err = d.treeVersion(ctx, hc, r, ref)
		return err
	})
	return v, err
}

// treeVersion is TreeVersion at ref.
func (d *Driver) treeVersion(ctx context.Context, hc *http.Client, r *driver.TreeVersionRequest, ref string) (string, error) {
	q := url.Values{"pagelen": {"1"}}
	if r.Dir != "" {
		q.Set("path", r.Dir)
	}
	var page struct {
		Values []struct {
			Hash string `json:"hash"`
		} `json:"values"`
	}
	if err := d.getJSON(ctx, hc, d.api+d.repoPath(r.Repo)+"/commits/"+url.PathEscape(ref)+"?"+q.Encode(), &page); err != nil {
		return "", err
	}
	if len(page.Values) == 0 {
		return "", nil
	}
	return page.Values[0].Hash, nil
}

// TreeVersion implements driver.TreeVersioner.
func (p perRepository) TreeVersion(ctx context.Context, hc *http.Client, r *driver.TreeVersionRequest) (string, error) {
	return p.d.TreeVersion(ctx, hc, r)
}
