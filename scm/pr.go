package scm

import (
	"context"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

// OpenPullRequest commits spec.Changes as one commit on spec.Branch
// (created from spec.Base when missing) and opens a pull request (a merge
// request on GitLab) from it to spec.Base.
//
// If an open pull request from spec.Branch to spec.Base exists, it returns
// that one with Existing set, never a duplicate; with spec.UpdateExisting
// it first commits the changes on the branch. Only a pull request from
// the repository's own branch into the repository counts: one from a
// fork's branch of the same name (which anyone who can fork the
// repository can open) is someone else's, and is neither returned nor
// updated.
//
// Running it again with the same spec is safe: when the branch already
// holds exactly the changes (a run that failed after its commit, say, when
// the request that opens the pull request failed), it opens (or returns)
// the pull request without committing again, Create and Delete changes
// included. Bitbucket Server, which commits one file per request, resumes
// a partial run where it stopped (see bitbucketserverscm).
//
// The spec is validated before any request: a non-empty title, valid
// branch names (git check-ref-format --branch, which refuses "HEAD"; and
// no name starting with "refs/", which ref-taking APIs may read as the full
// name of another branch), at least one change, every path
// valid per fs.ValidPath (relative, slash-separated, no "..") and given
// once, no NUL byte, and no written path that git refuses in a tree (a
// ".git" element in any spelling NTFS or HFS+ reads so, a .gitmodules or
// .gitattributes that is not a file). A violation is InvalidArgument.
//
// spec.Branch must not be the base (spec.Base) nor, whatever Base is, the
// repository's default branch. Every driver refuses it with
// InvalidArgument once it knows the default branch and before any write,
// since the commit would otherwise land on that branch itself, unreviewed
// (before the provider refuses the pull request, or while it opens one
// from the default branch into Base). Knowing it is free on GitHub and
// GitLab (their one preflight query names it) and on Bitbucket Server
// with a Base (the branch listing flags it); on Bitbucket Cloud, a Base
// and a branch that already exists cost one request more (the
// repository's main branch, read afresh) once something is to be
// written: an open pull request from the branch into Base is returned
// first, as it is (Existing set, nothing written), without it. A new
// branch is never the default branch and costs nothing more anywhere.
func (c *Client) OpenPullRequest(ctx context.Context, spec *PullRequestSpec) (_ *PullRequest, err error) {
	const op = "scm.OpenPullRequest"
	repoURL := ""
	if spec != nil {
		repoURL = spec.RepoURL
	}
	t := c.lookup(repoURL)
	ctx, done := c.auditStart(ctx, op, t, true)
	defer func() { done(err) }()
	if err := validatePullRequest(op, spec); err != nil {
		return nil, err
	}
	cl, err := c.begin(ctx, op, t, true, true)
	if err != nil {
		return nil, err
	}
	req := &driver.PullRequestRequest{Repo: cl.repo(), Base: spec.Base, Branch: spec.Branch, Title: spec.Title,
		Body: spec.Body, Draft: spec.Draft, CommitMessage: spec.CommitMessage, UpdateExisting: spec.UpdateExisting,
		Changes: make([]driver.Change, len(spec.Changes))}
	if req.CommitMessage == "" {
		req.CommitMessage = spec.Title
	}
	for i, ch := range spec.Changes {
		dc := driver.Change{Path: ch.Path, Action: ch.Action, Executable: ch.Executable}
		if ch.Action != Delete {
			dc.Content = ch.Content
			if dc.Content == nil {
				dc.Content = []byte{}
			}
		}
		req.Changes[i] = dc
	}
	pr, err := cl.d.OpenPullRequest(ctx, cl.hc, req)
	if err != nil {
		return nil, c.wrap(ctx, cl, err)
	}
	if pr == nil {
		return nil, &errcode.Error{Code: errcode.Unknown, Op: op, Provider: string(cl.in.Kind), Host: cl.in.Host,
			Msg: "driver returned no pull request"}
	}
	return &PullRequest{Number: pr.Number, URL: pr.URL, Base: pr.Base, Branch: pr.Branch, CommitID: pr.CommitID,
		Existing: pr.Existing}, nil
}
