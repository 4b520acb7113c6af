// Package adapters wires every scmkit adapter into a portable client: it
// is the one import an embedder needs to talk to GitHub, GitLab, Bitbucket
// Cloud and Bitbucket Server through [scm.Client]: pass [All] as
// scm.Options.Drivers to [scm.NewClient], as the example of All does.
//
// Import the adapter packages directly instead to use fewer providers or
// provider-specific options.
package adapters

import (
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/gitlabscm"
)

// Options holds each adapter's options; a nil *Options, or a nil field,
// means that adapter's defaults.
type Options struct {
	GitHub          *githubscm.Options
	GitLab          *gitlabscm.Options
	BitbucketCloud  *bitbucketcloudscm.Options
	BitbucketServer *bitbucketserverscm.Options
}

// All returns the driver openers of the four providers, keyed by kind, for
// scm.Options.Drivers.
func All(opts *Options) map[integrations.Kind]driver.Opener {
	if opts == nil {
		opts = &Options{}
	}
	return map[integrations.Kind]driver.Opener{
		integrations.GitHub:          githubscm.Opener(opts.GitHub),
		integrations.GitLab:          gitlabscm.Opener(opts.GitLab),
		integrations.BitbucketCloud:  bitbucketcloudscm.Opener(opts.BitbucketCloud),
		integrations.BitbucketServer: bitbucketserverscm.Opener(opts.BitbucketServer),
	}
}
