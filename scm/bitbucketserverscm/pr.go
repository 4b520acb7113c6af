package bitbucketserverscm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

type branchJSON struct {
	ID           string `json:"id"`
	DisplayID    string `json:"displayId"`
	LatestCommit string `json:"latestCommit"`
	// IsDefault is set on the repository's default branch in a branch
	// listing (GET branches).
	IsDefault bool `json:"isDefault"`
}

// pullRepoJSON is the repository of one end of a pull request.
type pullRepoJSON struct {
	ID int64 `json:"id"`
}

type pullJSON struct {
	ID      int `json:"id"`
	FromRef struct {
		ID           string        `json:"id"`
		DisplayID    string        `json:"displayId"`
		LatestCommit string        `json:"latestCommit"`
		Repository   *pullRepoJSON `json:"repository"`
	} `json:"fromRef"`
	ToRef struct {
		ID         string        `json:"id"`
		DisplayID  string        `json:"displayId"`
		Repository *pullRepoJSON `json:"repository"`
	} `json:"toRef"`
	Links struct {
		Self []linkJSON `json:"self"`
	} `json:"links"`
}

// OpenPullRequest commits the changes on r.Branch, one PUT browse/{path}
// per change chained by sourceCommitId, and opens the pull request. See
// the package documentation for why this is not atomic and how a failed
// run is resumed. An empty r.Base is the repository's default branch,
// looked up once per Options.DefaultBranchTTL (see branchMemo for why
// sharing it between users is safe).
func (d *Driver) OpenPullRequest(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest) (*driver.PullRequest, error) {
	if err := checkChanges(r.Changes); err != nil {
		return nil, err
	}
	rp := repoPath(r.Repo)
	base := r.Base
	if base == "" {
		b, remembered, err := d.defaultBranch(ctx, hc, rp)
		if err != nil {
			return nil, err
		}
		if remembered && b == r.Branch {
			// Refused below unless the default branch changed since it
			// was remembered: the refusal is worth asking again.
			d.forgetDefaultBranch(rp)
			if b, remembered, err = d.defaultBranch(ctx, hc, rp); err != nil {
				return nil, err
			}
		}
		pr, err := d.openPullRequest(ctx, hc, r, rp, b, remembered)
		if err == nil {
			return pr, nil
		}
		// The branch may have been renamed or deleted: the next call
		// looks it up again. When the remembered one was not found
		// (a missingError: nothing was written yet), this call does, and
		// tries once more if the default branch changed.
		d.forgetDefaultBranch(rp)
		var me *missingError
		if !remembered || !errors.As(err, &me) {
			return nil, err
		}
		nb, _, lerr := d.defaultBranch(ctx, hc, rp)
		if lerr != nil || nb == b {
			return nil, err
		}
		if pr, err = d.openPullRequest(ctx, hc, r, rp, nb, false); err != nil {
			d.forgetDefaultBranch(rp)
		}
		return pr, err
	}
	return d.openPullRequest(ctx, hc, r, rp, base, true)
}

// openPullRequest is OpenPullRequest once base is known. checkBase says
// base may be missing (the caller's, or a remembered default branch that
// may have been renamed or deleted since): when r.Branch exists and has
// no open pull request to base, base is looked up before any write, so a
// missing one is a missingError with nothing written, which
// OpenPullRequest retries on the current default branch. A default
// branch looked up just now is not checked again.
func (d *Driver) openPullRequest(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest, rp, base string, checkBase bool) (*driver.PullRequest, error) {
	if base == r.Branch {
		// The files would be committed on the base itself (the default
		// branch, when Base is empty) before Bitbucket refuses the pull
		// request (409): refused before any request.
		note := ""
		if r.Base == "" {
			note = " (the repository's default branch; a pull request needs a branch of its own)"
		}
		return nil, &errcode.Error{Code: errcode.InvalidArgument,
			Msg: fmt.Sprintf("branch %q is the base branch of the pull request%s: nothing was written", r.Branch, note)}
	}
	found, err := d.findBranch(ctx, hc, rp, r.Branch)
	if err != nil {
		return nil, err
	}
	head, exists := "", found != nil
	if exists {
		head = found.LatestCommit
		if found.IsDefault {
			// Whatever the base (another branch, or a remembered default
			// branch that changed since), the files would be committed on
			// the default branch unreviewed: the listing that found the
			// branch says so, with no request more.
			return nil, &errcode.Error{Code: errcode.InvalidArgument,
				Msg: fmt.Sprintf("branch %q is the repository's default branch: a pull request needs a branch of its own; nothing was written", r.Branch)}
		}
	}
	var existing *pullJSON
	if exists {
		if existing, err = d.findPull(ctx, hc, rp, r.Branch, base); err != nil {
			return nil, err
		}
		if existing != nil && !r.UpdateExisting {
			return d.pullRequest(existing, r.Repo, base, r.Branch, true), nil
		}
		if existing == nil && checkBase {
			// Nothing has checked the base yet (creating the branch does
			// for a new one): a missing one must fail before any commit,
			// and a renamed default branch must not hide a pull request
			// already open to the new one (found on the retry).
			if b, err := d.findBranch(ctx, hc, rp, base); err != nil {
				return nil, err
			} else if b == nil {
				return nil, &missingError{msg: fmt.Sprintf("base branch %q not found; nothing was written", base)}
			}
		}
	}
	// Update changes name files that must exist: checked before anything
	// is written (the branch included), at the branch's head or, for a new
	// branch, at the base. The other changes touch other paths, so the
	// answers hold when the commits are made.
	at, where := headRef(base), fmt.Sprintf("base branch %q", base)
	if exists {
		at, where = head, fmt.Sprintf("branch %q", r.Branch)
	}
	if err := d.checkUpdates(ctx, hc, rp, r.Changes, at, where); err != nil {
		var ae *APIError
		if !exists && errors.As(err, &ae) && ae.Status == http.StatusNotFound && !ae.Exception("NoSuchRepositoryException") &&
			!ae.Exception("NoSuchProjectException") {
			return nil, &missingError{msg: fmt.Sprintf("base branch %q not found: %v", base, err)}
		}
		return nil, err
	}
	if !exists {
		var b branchJSON
		err := d.doJSON(ctx, hc, &call{method: http.MethodPost, path: rp + "/branches", ctype: "application/json",
			body: mustJSON(map[string]string{"name": r.Branch, "startPoint": headRef(base)})}, &b)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound && !ae.Exception("NoSuchRepositoryException") &&
				!ae.Exception("NoSuchProjectException") {
				return nil, &missingError{msg: fmt.Sprintf("base branch %q not found: %v", base, err)}
			}
			return nil, err
		}
		head = b.LatestCommit
	}

	headKnown := true
	for i, ch := range r.Changes {
		newHead, skipped, err := d.commitFile(ctx, hc, rp, r, ch, head)
		if err != nil && !headKnown && isConflict(err) {
			// A change skipped since head was learnt may have been our
			// own commit whose answer was lost: the branch then moved past
			// head. Learn its head and try this change once more.
			if tip, ferr := d.findBranch(ctx, hc, rp, r.Branch); ferr == nil && tip != nil {
				head, headKnown = tip.LatestCommit, true
				newHead, skipped, err = d.commitFile(ctx, hc, rp, r, ch, head)
			}
		}
		if err != nil {
			pe := &PartialCommitError{Branch: r.Branch, Committed: i, Total: len(r.Changes), Failed: ch.Path, Err: err}
			if headKnown {
				pe.Head = head
			}
			return nil, d.partial(pe)
		}
		if skipped {
			headKnown = false // the branch may have moved past head
			continue
		}
		head = newHead
	}

	if existing != nil {
		pr := d.pullRequest(existing, r.Repo, base, r.Branch, true)
		if headKnown {
			pr.CommitID = head
		}
		return pr, nil
	}
	pr, err := d.createPull(ctx, hc, rp, r, base)
	if err != nil {
		pe := &PartialCommitError{Branch: r.Branch, Committed: len(r.Changes), Total: len(r.Changes), Err: err}
		if headKnown {
			pe.Head = head
		}
		return nil, d.partial(pe)
	}
	if headKnown && !pr.Existing {
		pr.CommitID = head
	}
	return pr, nil
}

// isConflict reports whether err is a 409 answer.
func isConflict(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusConflict
}

// checkChanges refuses what the REST API cannot do, before any request.
func checkChanges(changes []driver.Change) error {
	var del, exec []string
	for _, ch := range changes {
		if ch.Action == driver.Delete {
			del = append(del, ch.Path)
		}
		if ch.Executable && ch.Action != driver.Delete {
			exec = append(exec, ch.Path)
		}
	}
	var msgs []string
	if len(del) > 0 {
		msgs = append(msgs, "Bitbucket Server's REST API cannot delete files (asked to delete "+strings.Join(del, ", ")+")")
	}
	if len(exec) > 0 {
		msgs = append(msgs, "Bitbucket Server's REST API cannot set the executable bit (asked for "+strings.Join(exec, ", ")+")")
	}
	if len(msgs) > 0 {
		return &unsupportedError{msg: strings.Join(msgs, "; ") + "; nothing was written"}
	}
	return nil
}

// findBranch looks branch up with GET branches?filterText=, keeping only
// an exact match: nil when there is none.
func (d *Driver) findBranch(ctx context.Context, hc *http.Client, rp, branch string) (*branchJSON, error) {
	q := url.Values{"filterText": {branch}, "boostMatches": {"true"}, "limit": {"100"}}
	var page pageJSON[branchJSON]
	if err := d.getJSON(ctx, hc, rp+"/branches", q, &page); err != nil {
		return nil, err
	}
	for i, b := range page.Values {
		if b.DisplayID == branch || b.ID == headRef(branch) {
			return &page.Values[i], nil
		}
	}
	return nil, nil
}

// own reports whether the pull request goes from a branch of a
// repository into the same repository: one the scaffolder may have
// opened. The outgoing pull requests of a repository's branch include
// those into another repository (this one being a fork of it), and a
// repository's pull requests those from its forks' branches; the ends are
// compared by repository id, which every ref of a pull request carries.
func (p *pullJSON) own() bool {
	from, to := p.FromRef.Repository, p.ToRef.Repository
	return from != nil && to != nil && from.ID != 0 && from.ID == to.ID
}

// findPull returns the open pull request from the repository's own branch
// into its base, or nil: one from this branch into another repository
// (see pullJSON.own) is not it.
func (d *Driver) findPull(ctx context.Context, hc *http.Client, rp, branch, base string) (*pullJSON, error) {
	q := url.Values{"at": {headRef(branch)}, "direction": {"OUTGOING"}, "state": {"OPEN"}, "limit": {"100"}}
	var page pageJSON[pullJSON]
	if err := d.getJSON(ctx, hc, rp+"/pull-requests", q, &page); err != nil {
		return nil, err
	}
	for i := range page.Values {
		p := &page.Values[i]
		if p.ToRef.ID == headRef(base) && p.FromRef.ID == headRef(branch) && p.own() {
			return p, nil
		}
	}
	return nil, nil
}

func (d *Driver) pullRequest(p *pullJSON, repo driver.Repo, base, branch string, existing bool) *driver.PullRequest {
	pr := &driver.PullRequest{Number: p.ID, Base: base, Branch: branch, CommitID: p.FromRef.LatestCommit, Existing: existing}
	if len(p.Links.Self) > 0 {
		pr.URL = p.Links.Self[0].Href
	} else {
		pr.URL = fmt.Sprintf("%s/projects/%s/repos/%s/pull-requests/%d", d.web, url.PathEscape(projectKey(repo.Owner)),
			url.PathEscape(bbapi.Slug(repo.Name)), p.ID)
	}
	return pr
}

// commitFile writes one change with PUT browse/{path} on top of head. It
// returns the new commit id, or skipped when the branch already holds the
// change (a resumed run, or a change that changes nothing).
func (d *Driver) commitFile(ctx context.Context, hc *http.Client, rp string, r *driver.PullRequestRequest, ch driver.Change, head string) (string, bool, error) {
	filePath := rp + "/browse/" + httpx.EscapePath(ch.Path)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fields := [][2]string{{"branch", r.Branch}, {"message", r.CommitMessage}}
	if ch.Action != driver.Create {
		fields = append(fields, [2]string{"sourceCommitId", head})
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return "", false, err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="content"; filename=%q`, lastSegment(ch.Path)))
	h.Set("Content-Type", "application/octet-stream")
	part, err := mw.CreatePart(h)
	if err != nil {
		return "", false, err
	}
	if _, err := part.Write(ch.Content); err != nil {
		return "", false, err
	}
	if err := mw.Close(); err != nil {
		return "", false, err
	}
	var commit struct {
		ID string `json:"id"`
	}
	err = d.doJSON(ctx, hc, &call{method: http.MethodPut, path: filePath, body: buf.Bytes(), ctype: mw.FormDataContentType(),
		header: http.Header{"X-Atlassian-Token": {"no-check"}}}, &commit)
	if err == nil {
		return commit.ID, false, nil
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		// The answer may have been lost after the server committed the
		// file (its retries then met 409s, lost too, or the connection
		// kept failing): what counts is what the branch holds.
		if ctx.Err() == nil && d.ErrorInfo(err).Code == errcode.Unavailable {
			if same, rerr := d.sameContent(ctx, hc, rp, r.Branch, ch); rerr == nil && same {
				return "", true, nil
			}
		}
		return "", false, err
	}
	// 409: the file exists (Create), changed since head, or would not
	// change. If the branch already holds exactly this content, the change
	// is done: skip it. This is what makes a second run resume, and a
	// retry whose first answer was lost succeed.
	same, rerr := d.sameContent(ctx, hc, rp, r.Branch, ch)
	switch {
	case rerr != nil:
		return "", false, err
	case same:
		return "", true, nil
	case ch.Action == driver.Create:
		return "", false, &existsError{path: ch.Path, err: err}
	}
	return "", false, err
}

// checkUpdates checks that the files the Update changes name exist at
// ref, which where names in errors, grouped by directory: a directory
// with one of them costs one browse?type=true (checkUpdate); one with k
// of them costs one listing of the directory's own entries (not
// recursive), GET browse/{dir}?at={ref}&limit=1000, which tells each
// path's type. Its pages are read until every path is found or the list
// ends, while the last page read told the type of one of them not known
// before (at most k pages). When the listing ends, a path it does not
// name is missing (NotFound) and one it names as a directory or
// submodule is InvalidArgument, with no further request. A path not found
// in the pages read, one listed without a type, or every path of a
// directory whose listing failed, gets checkUpdate, whose answer
// (NotFound, InvalidArgument, or Bitbucket's error) is the one returned.
// So k paths cost 1 request when the directory has at most 1,000 entries
// listed with their types, and never more than k+1: each page read but
// the last tells at least one more type, so m pages leave at most k-m+1
// paths to checkUpdate.
func (d *Driver) checkUpdates(ctx context.Context, hc *http.Client, rp string, changes []driver.Change, ref, where string) error {
	var dirs []string
	byDir := map[string][]string{}
	seen := map[string]bool{}
	for _, ch := range changes {
		if ch.Action != driver.Update || seen[ch.Path] {
			continue
		}
		seen[ch.Path] = true
		dir := path.Dir(ch.Path)
		if dir == "." {
			dir = ""
		}
		if byDir[dir] == nil {
			dirs = append(dirs, dir)
		}
		byDir[dir] = append(byDir[dir], ch.Path)
	}
	for _, dir := range dirs {
		paths := byDir[dir]
		var l *dirListing
		if len(paths) > 1 {
			l = d.listDir(ctx, hc, rp, dir, ref, paths)
		}
		for _, p := range paths {
			switch t, known := l.typeOf(p); {
			case known && t == "FILE":
				continue
			case known && t == "":
				return &missingError{msg: fmt.Sprintf("file %q does not exist on %s (the change is Update); nothing was written", p, where)}
			case known:
				return &dirError{path: p}
			}
			if err := d.checkUpdate(ctx, hc, rp, p, ref, where); err != nil {
				return err
			}
		}
	}
	return nil
}

// dirListing is what listDir learnt of a directory: the types of the
// wanted paths it found ("FILE", "DIRECTORY", "SUBMODULE"), and whether
// it read the whole directory.
type dirListing struct {
	types    map[string]string
	complete bool
}

// typeOf returns p's type and true when the listing tells it: "" for a
// path a complete listing does not hold.
func (l *dirListing) typeOf(p string) (string, bool) {
	if l == nil {
		return "", false
	}
	if t, ok := l.types[p]; ok {
		return t, t != "" // listed without a type: checkUpdate asks
	}
	return "", l.complete
}

// browseDirJSON is the answer of GET browse/{dir} for a directory: a
// page of its entries, each named relative to it.
type browseDirJSON struct {
	Children *struct {
		pageJSON[struct {
			Path struct {
				ToString string `json:"toString"`
			} `json:"path"`
			Type string `json:"type"`
		}]
	} `json:"children"`
}

// listDir reads GET browse/{dir}?at={ref} (the directory's own entries
// with their types) for the wanted paths, all in dir: it stops once all
// are found, at the end of the listing, or after a page that tells the
// type of none it did not know. A failed read, or an answer that is not
// a directory's, ends it with what it found so far (nil at first): the
// caller checks the rest one by one.
func (d *Driver) listDir(ctx context.Context, hc *http.Client, rp, dir, ref string, want []string) *dirListing {
	p, prefix := rp+"/browse", ""
	if dir != "" {
		p, prefix = p+"/"+httpx.EscapePath(dir), dir+"/"
	}
	wanted := make(map[string]bool, len(want))
	for _, w := range want {
		wanted[w] = true
	}
	var l *dirListing
	start := 0
	for range len(want) {
		q := url.Values{"at": {ref}, "limit": {strconv.Itoa(d.opts.FilesPageSize)}}
		if start > 0 {
			q.Set("start", strconv.Itoa(start))
		}
		var b browseDirJSON
		if err := d.getJSON(ctx, hc, p, q, &b); err != nil || b.Children == nil {
			return l
		}
		if l == nil {
			l = &dirListing{types: map[string]string{}}
		}
		// found counts the wanted paths this page tells the type of for
		// the first time: one listed without a type is remembered (so
		// typeOf leaves it to checkUpdate) but does not count, so a page
		// that only names such paths ends the listing (see checkUpdates
		// for the bound this keeps).
		found := 0
		learn := func(p, t string) {
			if old, seen := l.types[p]; seen && (old != "" || t == "") {
				return
			}
			if t != "" {
				found++
			}
			l.types[p] = t
		}
		for _, v := range b.Children.Values {
			name := v.Path.ToString
			if full := prefix + name; wanted[full] {
				learn(full, v.Type)
			}
			// Data Center may show a chain of single directories as one
			// entry ("a/b"): its first name is a directory.
			if i := strings.IndexByte(name, '/'); i > 0 {
				if w := prefix + name[:i]; wanted[w] {
					learn(w, "DIRECTORY")
				}
			}
		}
		c := b.Children
		if c.IsLastPage {
			l.complete = true
			return l
		}
		if len(l.types) == len(wanted) || found == 0 || c.NextPageStart == nil || *c.NextPageStart <= start {
			return l
		}
		start = *c.NextPageStart
	}
	return l
}

// checkUpdate checks that p, which an Update change names, is a file at
// ref (browse?type=true), which where names in errors: a missing one is
// NotFound, a directory InvalidArgument. A missing ref is Bitbucket's
// answer, as it is.
func (d *Driver) checkUpdate(ctx context.Context, hc *http.Client, rp, p, ref, where string) error {
	var t struct {
		Type string `json:"type"`
	}
	err := d.getJSON(ctx, hc, rp+"/browse/"+httpx.EscapePath(p), url.Values{"at": {ref}, "type": {"true"}}, &t)
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound && (ae.Exception("NoSuchPathException") || len(ae.Errors) == 0):
		return &missingError{msg: fmt.Sprintf("file %q does not exist on %s (the change is Update); nothing was written", p, where)}
	case err != nil:
		return err
	case t.Type != "FILE":
		return &dirError{path: p}
	}
	return nil
}

// sameContent reports whether ch.Path on branch holds ch.Content.
func (d *Driver) sameContent(ctx context.Context, hc *http.Client, rp, branch string, ch driver.Change) (bool, error) {
	resp, err := d.send(ctx, hc, &call{method: http.MethodGet, path: rp + "/raw/" + httpx.EscapePath(ch.Path),
		query: url.Values{"at": {headRef(branch)}}})
	if err != nil {
		return false, err
	}
	return bbapi.SameContent(resp, ch.Content)
}

func lastSegment(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// createPull opens the pull request; a DuplicatePullRequestException
// returns the existing one.
func (d *Driver) createPull(ctx context.Context, hc *http.Client, rp string, r *driver.PullRequestRequest, base string) (*driver.PullRequest, error) {
	repoRef := map[string]any{"slug": bbapi.Slug(r.Repo.Name), "project": map[string]string{"key": projectKey(r.Repo.Owner)}}
	body := map[string]any{
		"title":       r.Title,
		"description": r.Body,
		"state":       "OPEN",
		"open":        true,
		"closed":      false,
		"fromRef":     map[string]any{"id": headRef(r.Branch), "repository": repoRef},
		"toRef":       map[string]any{"id": headRef(base), "repository": repoRef},
	}
	if r.Draft {
		body["draft"] = true
	}
	var p pullJSON
	err := d.doJSON(ctx, hc, &call{method: http.MethodPost, path: rp + "/pull-requests", ctype: "application/json",
		body: mustJSON(body)}, &p)
	if err == nil {
		return d.pullRequest(&p, r.Repo, base, r.Branch, false), nil
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || !ae.Exception("DuplicatePullRequestException") {
		return nil, err
	}
	if len(ae.existing) > 0 && json.Unmarshal(ae.existing, &p) == nil && p.ID > 0 {
		return d.pullRequest(&p, r.Repo, base, r.Branch, true), nil
	}
	found, ferr := d.findPull(ctx, hc, rp, r.Branch, base)
	if ferr != nil || found == nil {
		return nil, err
	}
	return d.pullRequest(found, r.Repo, base, r.Branch, true), nil
}
