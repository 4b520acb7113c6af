package githubscm

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/gitpush"
)

// gitUsername is the user name GitHub's git endpoints take with a token
// (an installation token, a PAT or an OAuth token) as the password.
const gitUsername = "x-access-token"

// initialPack builds the pack of one root commit holding files, signed by
// Options.CommitAuthor or gitpush.DefaultAuthor (see [gitpush.Build]).
func (d *Driver) initialPack(files []driver.Change, message string, when time.Time) (*gitpush.Pack, error) {
	author := gitpush.DefaultAuthor
	if d.author != nil {
		author = gitpush.Signature{Name: d.author.Name, Email: d.author.Email}
	}
	return gitpush.Build(files, message, author, when)
}

// webBase is the integration's web base URL, where git's endpoints are:
// https://github.com, or a GitHub Enterprise Server's https://HOST.
func (d *Driver) webBase() string {
	switch {
	case d.in.BaseURL != "":
		return strings.TrimRight(d.in.BaseURL, "/")
	case d.base != nil && strings.EqualFold(d.base.Host, d.in.Host):
		return d.base.Scheme + "://" + d.base.Host // the API's scheme on the same host, as the registry does
	}
	return "https://" + d.in.Host
}

// pushInitialCommit pushes pack as the first commit of branch in the
// empty repository owner/name, at https://HOST/{owner}/{name}.git (see
// [gitpush.Pusher.Push]); the credential is asked for as Basic with the
// user name x-access-token ([credentials.WithBasicUsername]), which
// GitHub's git endpoints take and which still only goes to the
// integration's hosts.
func (d *Driver) pushInitialCommit(ctx context.Context, hc *http.Client, owner, name, branch string, pack *gitpush.Pack) error {
	ctx = credentials.WithBasicUsername(ctx, gitUsername)
	repoURL := d.webBase() + "/" + url.PathEscape(owner) + "/" + url.PathEscape(name) + ".git"
	p := &gitpush.Pusher{Vendor: "GitHub", UserAgent: d.userAgent, Now: d.now, Redact: redact}
	return p.Push(ctx, hc, repoURL, branch, pack)
}
