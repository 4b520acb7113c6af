package bitbucketserverscm

import (
	"context"
	"net/http"
	"time"
)

// Defaults of the default-branch memo.
const (
	// DefaultBranchTTL is how long OpenPullRequest remembers a
	// repository's default branch when Options.DefaultBranchTTL is 0.
	DefaultBranchTTL = time.Minute
	// maxDefaultBranches caps the repositories remembered: past it, the
	// expired entries go, and if none has, all of them.
	maxDefaultBranches = 4096
)

// Driver.branches remembers the default branch of the repositories that
// OpenPullRequest looked up, for DefaultBranchTTL.
//
// Sharing it between the users of one driver (one integration) is safe:
// a repository's default branch is a setting of the repository, the same
// for every user who can see it, and the memo gives nothing to one who
// cannot see it: each request that follows (find or create the branch,
// commit, open the pull request) is that user's own, and Bitbucket
// answers it 404 or 401 whatever base the memo names. What a user gets
// from it is a base at most DefaultBranchTTL old: a pull request opened
// within a minute of the default branch being changed may target the
// previous one, as a request made a minute earlier would have. A
// failed OpenPullRequest forgets the repository's entry (the branch may
// have been renamed or deleted); when the remembered branch was not
// found and nothing was written, it looks the default branch up again
// at once and, if it changed, tries once more on the new one. (A
// remembered branch is checked before anything is written: by creating
// the pull request's branch from it, or, when that branch exists with
// no pull request open to it, with one GET branches.)
//
// branchTTL is that memory's time to live.
func (d *Driver) branchTTL() time.Duration {
	if d.opts.DefaultBranchTTL != 0 {
		return d.opts.DefaultBranchTTL
	}
	return DefaultBranchTTL
}

// defaultBranch returns the default branch of the repository at rp, from
// the memo (remembered true) or with GET default-branch.
func (d *Driver) defaultBranch(ctx context.Context, hc *http.Client, rp string) (branch string, remembered bool, err error) {
	ttl := d.branchTTL()
	if b, ok := d.branches.Get(rp, d.now(), ttl); ok {
		return b, true, nil
	}
	var ref branchJSON
	if err := d.getJSON(ctx, hc, rp+"/default-branch", nil, &ref); err != nil {
		return "", false, err
	}
	if ref.DisplayID != "" {
		d.branches.Put(rp, ref.DisplayID, d.now(), ttl)
	}
	return ref.DisplayID, false, nil
}

// forgetDefaultBranch drops the memo's entry of rp.
func (d *Driver) forgetDefaultBranch(rp string) { d.branches.Forget(rp) }
