package credentials

import (
	"slices"

	"github.com/scmkit/scmkit/credentials/githubapp"
)

// GitHubApps returns the GitHub Apps of the integration that owns host (a
// web, API or raw host, as in [Resolver.Owns]), in config order, or nil.
// They are the Resolver's own, with their caches: a caller that lists an
// app's installations itself (GET /app/installations with the app's JWT)
// can hand them to [githubapp.App.SeedInstallations], so that resolving a
// credential for those owners costs no installation lookup.
func (r *Resolver) GitHubApps(host string) []*githubapp.App {
	h := r.state(host)
	if h == nil {
		return nil
	}
	return slices.Clone(h.apps)
}
