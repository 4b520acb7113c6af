package bitbucketcloudscm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	bitbucket "github.com/ktrysmt/go-bitbucket"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/bbapi"
)

type branchJSON struct {
	Name   string `json:"name"`
	Target struct {
		Hash string `json:"hash"`
	} `json:"target"`
}

// bbqlString quotes s for Bitbucket's query language.
func bbqlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// OpenPullRequest commits every change as one commit with one multipart
// POST /src (which creates the branch) and opens the pull request.
func (d *Driver) OpenPullRequest(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest) (*driver.PullRequest, error) {
	if err := checkFieldNames(r.Changes); err != nil {
		return nil, err
	}
	rp := d.api + d.repoPath(r.Repo)
	needChecks := slices.ContainsFunc(r.Changes, func(c driver.Change) bool { return c.Action != driver.Upsert })
	base := r.Base
	if base == "" && needChecks {
		var err error
		if base, err = d.mainBranch(ctx, hc, r.Repo); err != nil {
			return nil, err
		}
	}
	if err := sameBranch(r, base); err != nil {
		return nil, err
	}

	// One query finds the branch and the base.
	q := "name = " + bbqlString(r.Branch)
	if base != "" && base != r.Branch {
		q += " OR name = " + bbqlString(base)
	}
	var page struct {
		Values []branchJSON `json:"values"`
	}
	if err := d.getJSON(ctx, hc, rp+"/refs/branches?"+url.Values{"q": {q}, "pagelen": {"10"}}.Encode(), &page); err != nil {
		return nil, err
	}
	var branchHead, baseHead string
	for _, b := range page.Values {
		switch b.Name {
		case r.Branch:
			branchHead = b.Target.Hash
		case base:
			baseHead = b.Target.Hash
		}
	}
	if base != "" && baseHead == "" && base != r.Branch {
		return nil, &checkError{code: errcode.NotFound, msg: fmt.Sprintf("base branch %q not found", base)}
	}

	var existing *pullJSON
	if branchHead != "" {
		if base == "" {
			// The branch exists: it may be the main branch itself,
			// which the commit must not go on.
			var err error
			if base, err = d.mainBranch(ctx, hc, r.Repo); err != nil {
				return nil, err
			}
			if err := sameBranch(r, base); err != nil {
				return nil, err
			}
		}
		var err error
		if existing, err = d.findPull(ctx, hc, r.Repo, r.Branch, base); err != nil {
			return nil, err
		}
		if existing != nil && !r.UpdateExisting {
			return d.pullRequest(existing, base, r.Branch, true), nil
		}
		if r.Base != "" {
			// Something is to be written (a commit, or the pull
			// request), and the branch may still be the main branch,
			// which must not get it whatever the base: one look-up, read
			// afresh, spent only here (an open pull request returned as
			// it is writes nothing, and a new branch is never the main
			// branch).
			main, err := d.mainBranch(ctx, hc, r.Repo)
			if err != nil {
				return nil, err
			}
			if main == r.Branch {
				return nil, &checkError{code: errcode.InvalidArgument, msg: fmt.Sprintf(
					"branch %q is the repository's main branch: a pull request needs a branch of its own; nothing was written", r.Branch)}
			}
		}
	}

	if branchHead != "" {
		// A rerun after a failure that came after the commit finds the
		// branch holding exactly the changes: open (or return) the pull
		// request without committing them again.
		holds, err := d.branchHolds(ctx, hc, r, branchHead)
		if err != nil {
			return nil, err
		}
		if holds {
			if existing != nil {
				return d.pullRequest(existing, base, r.Branch, true), nil
			}
			pr, err := d.createPull(ctx, hc, r, base)
			if err != nil {
				return nil, d.committedError(r, base, branchHead, err)
			}
			pr.CommitID = cmpOr(pr.CommitID, branchHead)
			return pr, nil
		}
	}

	parent := branchHead
	if parent == "" {
		parent = baseHead // "" with an empty Base: Bitbucket starts from the main branch
	}
	if needChecks {
		if err := d.checkChanges(ctx, hc, r, cmpOr(parent, base)); err != nil {
			return nil, err
		}
	}
	commitID, err := d.commit(ctx, hc, r, parent)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		pr := d.pullRequest(existing, base, r.Branch, true)
		pr.CommitID = commitID
		return pr, nil
	}
	pr, err := d.createPull(ctx, hc, r, base)
	if err != nil {
		return nil, d.committedError(r, base, commitID, err)
	}
	pr.CommitID = commitID
	return pr, nil
}

// sameBranch refuses a pull request whose branch is its base (given, or
// the main branch when r.Base is empty): the commit would go on the base
// itself before Bitbucket refuses the pull request ("You can't merge a
// branch into itself"). A new branch is never the main branch, so an
// empty Base costs the main branch's look-up only when the branch exists
// (as does a given Base, checked in OpenPullRequest: the branch must not
// be the main branch whatever the base).
func sameBranch(r *driver.PullRequestRequest, base string) error {
	if base == "" || base != r.Branch {
		return nil
	}
	note := ""
	if r.Base == "" {
		note = " (the repository's main branch; a pull request needs a branch of its own)"
	}
	return &checkError{code: errcode.InvalidArgument, msg: fmt.Sprintf("branch %q is the base branch of the pull request%s: nothing was written", r.Branch, note)}
}

// checkFieldNames refuses a change whose path holds CR or LF: the path is
// the name of its multipart field, where they can only be written %0D and
// %0A, which Bitbucket takes literally (the file would be committed under
// another name).
func checkFieldNames(changes []driver.Change) error {
	for _, ch := range changes {
		if strings.ContainsAny(ch.Path, "\r\n") {
			return &checkError{code: errcode.InvalidArgument, msg: fmt.Sprintf("path %q holds a line break, which Bitbucket Cloud's commit API cannot name; nothing was written", ch.Path)}
		}
	}
	return nil
}

// committedError reports a pull request that could not be opened after
// the changes were committed: it names the branch that holds them and the
// commit, and keeps err's classification (an *errcode.Error, so that the
// portable client keeps the message whatever err is).
func (d *Driver) committedError(r *driver.PullRequestRequest, base, commitID string, err error) error {
	commit := "commit " + commitID
	if commitID == "" {
		commit = "commit id not reported"
	}
	into := "the main branch"
	if base != "" {
		into = strconv.Quote(base)
	}
	return d.ErrorInfo(err).Wrap(fmt.Sprintf("the changes are committed on branch %q (%s) of %s/%s, but the pull request into %s could not be opened; "+
		"open it from that branch, or call OpenPullRequest again", r.Branch, commit, bbapi.Slug(r.Repo.Owner), bbapi.Slug(r.Repo.Name), into), err)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// maxQueryLen caps the length of one listing's q, escaped: a longer
// query is split into several listings, so that no URL grows past what
// servers and proxies on the way accept (a few KiB).
const maxQueryLen = 2000

// maxQueryTerms caps the terms of one listing's q, so that its answer
// fits one page of 100 entries.
const maxQueryTerms = 50

// entries learns, at one ref, which of a pull request's paths exist and
// what they are (type, size, attributes), with one listing per directory
// that holds them, made the first time a path of that directory is asked
// about: GET .../src/{ref}/{dir}/?q=path="a" OR path="b", split in
// several when the query would be too long (maxQueryLen, maxQueryTerms).
type entries struct {
	d     *Driver
	hc    *http.Client
	repo  driver.Repo
	ref   string
	byDir map[string][]string  // directory → the paths asked about in it
	known map[string]*srcEntry // path → its entry, nil when it does not exist
}

// entriesAt returns the entries at ref of the paths of the changes keep
// keeps, none listed yet.
func (d *Driver) entriesAt(hc *http.Client, repo driver.Repo, ref string, changes []driver.Change, keep func(driver.Change) bool) *entries {
	e := &entries{d: d, hc: hc, repo: repo, ref: ref, byDir: map[string][]string{}, known: map[string]*srcEntry{}}
	for _, ch := range changes {
		if dir := dirOf(ch.Path); keep(ch) && !slices.Contains(e.byDir[dir], ch.Path) {
			e.byDir[dir] = append(e.byDir[dir], ch.Path)
		}
	}
	return e
}

// dirOf is the directory of p, "" for the repository's root.
func dirOf(p string) string {
	if dir := path.Dir(p); dir != "." {
		return dir
	}
	return ""
}

// get returns p's entry, or nil when p does not exist.
func (e *entries) get(ctx context.Context, p string) (*srcEntry, error) {
	if v, ok := e.known[p]; ok {
		return v, nil
	}
	dir := dirOf(p)
	paths := e.byDir[dir]
	if !slices.Contains(paths, p) {
		paths = []string{p}
	}
	for _, group := range pathGroups(paths) {
		if err := e.list(ctx, dir, group); err != nil {
			return nil, err
		}
	}
	return e.known[p], nil
}

// list lists the entries of dir at paths (all in dir) with one query
// (pathQuery) and notes them in e.known, nil for the paths not listed. A
// missing dir holds nothing. When dir is not a directory (Bitbucket
// answers a file's content) or the listing runs past its page limit,
// each path is checked on its own (?format=meta).
func (e *entries) list(ctx context.Context, dir string, paths []string) error {
	d := e.d
	base := d.api + d.repoPath(e.repo) + "/src/" + url.PathEscape(e.ref) + "/"
	u := base
	if dir != "" {
		u += httpx.EscapePath(dir) + "/"
	}
	u += "?" + url.Values{"q": {pathQuery(paths)}, "pagelen": {strconv.Itoa(pageLen)}}.Encode()
	found := map[string]*srcEntry{}
	for range d.opts.MaxFilePages {
		var page struct {
			Values  []srcEntry `json:"values"`
			Next    string     `json:"next"`
			Pagelen *int       `json:"pagelen"`
		}
		isFile, err := d.getListing(ctx, e.hc, u, &page)
		var (
			ae *APIError
			de *bbapi.DecodeError
		)
		switch {
		case isFile:
			// A file's content, marked as such (see rawContent), however
			// much it looks like a listing.
			return e.each(ctx, base, paths)
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			page.Values = nil // no such directory (or ref: the commit will say)
		case dir != "" && (errors.As(err, &de) || err == nil && page.Pagelen == nil):
			// A file's content (JSON or not), not a listing.
			return e.each(ctx, base, paths)
		case err != nil:
			return err
		}
		for _, v := range page.Values {
			if slices.Contains(paths, v.Path) {
				found[v.Path] = &v
			}
		}
		if page.Next == "" {
			for _, p := range paths {
				e.known[p] = found[p]
			}
			return nil
		}
		if !d.sameResource(page.Next, d.api+d.repoPath(e.repo)+"/src/", true) {
			return fmt.Errorf("next link %s is not this repository's /src on the API host", bbapi.PathOf(page.Next))
		}
		u = page.Next
	}
	return e.each(ctx, base, paths)
}

// each checks each of paths with its own request (?format=meta), base
// being the /src URL at the ref.
func (e *entries) each(ctx context.Context, base string, paths []string) error {
	for _, p := range paths {
		var meta srcEntry
		err := e.d.getJSON(ctx, e.hc, base+httpx.EscapePath(p)+"?format=meta", &meta)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			e.known[p] = nil
		case err != nil:
			return err
		default:
			e.known[p] = &meta
		}
	}
	return nil
}

// pathGroups splits paths into groups whose queries (pathQuery) have at
// most maxQueryTerms terms and, unless they have one, maxQueryLen
// characters once escaped.
func pathGroups(paths []string) [][]string {
	var (
		out  [][]string
		cur  []string
		size int
	)
	for _, p := range paths {
		n := len(url.QueryEscape(" OR path = " + bbqlString(p)))
		if len(cur) > 0 && (len(cur) >= maxQueryTerms || size+n > maxQueryLen) {
			out, cur, size = append(out, cur), nil, 0
		}
		cur = append(cur, p)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// pathQuery is the BBQL query of a listing's entries at paths:
// path = "a" OR path = "b" ...
func pathQuery(paths []string) string {
	terms := make([]string, len(paths))
	for i, p := range paths {
		terms[i] = "path = " + bbqlString(p)
	}
	return strings.Join(terms, " OR ")
}

func notUpsert(ch driver.Change) bool { return ch.Action != driver.Upsert }

// checkChanges checks, at ref, that Create changes name no file and that
// Update and Delete changes name one, with one listing per directory that
// holds such changes (see entries).
func (d *Driver) checkChanges(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest, ref string) error {
	at := d.entriesAt(hc, r.Repo, ref, r.Changes, notUpsert)
	for _, ch := range r.Changes {
		if !notUpsert(ch) {
			continue
		}
		e, err := at.get(ctx, ch.Path)
		switch {
		case err != nil:
			return err
		case e != nil && e.Type == "commit_directory":
			return &checkError{code: errcode.InvalidArgument, msg: fmt.Sprintf("%q is a directory", ch.Path)}
		case ch.Action == driver.Create && e != nil:
			return &checkError{code: errcode.AlreadyExists, msg: fmt.Sprintf("file %q already exists (the change is Create); nothing was written", ch.Path)}
		case ch.Action != driver.Create && e == nil:
			return &checkError{code: errcode.NotFound, msg: fmt.Sprintf("file %q does not exist (the change is %s); nothing was written", ch.Path, ch.Action)}
		}
	}
	return nil
}

// branchHolds reports whether the branch, at head, already holds exactly
// the changes: each written file with the same content and executable bit,
// each deleted file absent. It learns the files' types, sizes and
// attributes with one listing per directory (see entries), made when the
// first change in that directory is compared, and reads a file's content
// only when its size matches. It stops at the first difference.
func (d *Driver) branchHolds(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest, head string) (bool, error) {
	src := d.api + d.repoPath(r.Repo) + "/src/" + url.PathEscape(head) + "/"
	at := d.entriesAt(hc, r.Repo, head, r.Changes, func(driver.Change) bool { return true })
	for _, ch := range r.Changes {
		e, err := at.get(ctx, ch.Path)
		switch {
		case err != nil:
			return false, err
		case e == nil:
			if ch.Action == driver.Delete {
				continue
			}
			return false, nil
		case ch.Action == driver.Delete, e.Type != "commit_file", e.Size != int64(len(ch.Content)),
			slices.Contains(e.Attributes, "executable") != ch.Executable:
			return false, nil
		}
		resp, err := d.send(ctx, hc, &call{method: http.MethodGet, url: src + httpx.EscapePath(ch.Path), header: http.Header{"Accept": {"*/*"}}})
		if err != nil {
			return false, err
		}
		if same, err := bbapi.SameContent(resp, ch.Content); !same || err != nil {
			return false, err
		}
	}
	return true, nil
}

// commit makes one commit of every change on r.Branch with a multipart
// POST /src and returns its id. parent, when set, is the commit the new
// one must follow: the branch's tip (Bitbucket answers 409 if the branch
// moved) or, for a new branch, the base's head.
func (d *Driver) commit(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest, parent string) (string, error) {
	var buf bytes.Buffer
	boundary := multipartBoundary(r.Changes)
	w := &formWriter{buf: &buf, boundary: boundary}
	w.field("message", r.CommitMessage)
	w.field("branch", r.Branch)
	if parent != "" {
		w.field("parents", parent)
	}
	for _, ch := range r.Changes {
		if ch.Action == driver.Delete {
			w.field("files", ch.Path)
		}
	}
	for _, ch := range r.Changes {
		if ch.Action != driver.Delete {
			w.file(ch.Path, ch.Content, ch.Executable)
		}
	}
	w.close()
	resp, err := d.send(ctx, hc, &call{method: http.MethodPost, url: d.api + d.repoPath(r.Repo) + "/src", body: buf.Bytes(),
		ctype: "multipart/form-data; boundary=" + boundary})
	if err != nil {
		return "", err
	}
	loc := resp.Header.Get("Location")
	httpx.DrainClose(resp)
	id := loc[strings.LastIndexByte(loc, '/')+1:]
	if !isCommitID(id) {
		id = ""
	}
	return id, nil
}

// pullRepoJSON is the repository of one end of a pull request.
type pullRepoJSON struct {
	FullName string `json:"full_name"`
	UUID     string `json:"uuid"`
}

type pullJSON struct {
	ID     int `json:"id"`
	Source struct {
		Branch struct {
			Name string `json:"name"`
		} `json:"branch"`
		Commit struct {
			Hash string `json:"hash"`
		} `json:"commit"`
		Repository *pullRepoJSON `json:"repository"`
	} `json:"source"`
	Destination struct {
		Branch struct {
			Name string `json:"name"`
		} `json:"branch"`
		Repository *pullRepoJSON `json:"repository"`
	} `json:"destination"`
	Links struct {
		HTML struct {
			Href string `json:"href"`
		} `json:"html"`
	} `json:"links"`
}

// own reports whether the pull request comes from a branch of the
// repository it goes into: one the scaffolder may have opened. A
// repository's pull request listing holds those from forks too, and a
// fork's branch may have the same name (anyone who can fork the repository
// can open one). The two ends are compared by uuid, which both carry in
// the listing: unlike full_name it survives a rename of the repository or
// its workspace, and has one spelling.
func (p *pullJSON) own() bool {
	src, dst := p.Source.Repository, p.Destination.Repository
	return src != nil && dst != nil && src.UUID != "" && strings.EqualFold(src.UUID, dst.UUID)
}

func (d *Driver) pullRequest(p *pullJSON, base, branch string, existing bool) *driver.PullRequest {
	pr := &driver.PullRequest{Number: p.ID, URL: p.Links.HTML.Href, Base: cmpOr(p.Destination.Branch.Name, base),
		Branch: cmpOr(p.Source.Branch.Name, branch), CommitID: p.Source.Commit.Hash, Existing: existing}
	return pr
}

// remarshal converts go-bitbucket's interface{} results into v.
func remarshal(in, v any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// maxPullPages bounds the pages of 50 pull requests findPull reads:
// forks' pull requests from branches named like ours, into the same
// base, can fill any page, so the listing is read on until ours or its
// end. A further page is read only when the one before held none of ours
// and Bitbucket links one (the page was full): none in the common case.
const maxPullPages = 20

// findPull returns the open pull request from the repository's own branch
// to base, or nil (go-bitbucket PullRequests.List for the first page of
// 50, its next links after it); a fork's from a branch of the same name is
// passed over (see pullJSON.own). BBQL could filter on
// source.repository.full_name, but a name has several spellings and
// changes with a rename, which the uuid compared by own does not: a
// filter that missed ours would let a commit land on its branch. Past
// maxPullPages pages without ours, it fails (Conflict) rather than take
// ours for missing.
func (d *Driver) findPull(ctx context.Context, hc *http.Client, repo driver.Repo, branch, base string) (*pullJSON, error) {
	c, err := d.bb(ctx, hc)
	if err != nil {
		return nil, err
	}
	c.Pagelen, c.LimitPages = 50, 1
	po := &bitbucket.PullRequestsOptions{Owner: bbapi.Slug(repo.Owner), RepoSlug: bbapi.Slug(repo.Name), States: []string{"OPEN"},
		Query: "source.branch.name = " + bbqlString(branch) + " AND destination.branch.name = " + bbqlString(base)}
	res, err := c.Repositories.PullRequests.List(po.WithContext(ctx))
	if err != nil {
		return nil, c.error(ctx, http.MethodGet, d.repoPath(repo)+"/pullrequests", err)
	}
	type pullPage struct {
		Values []pullJSON `json:"values"`
		Next   string     `json:"next"`
	}
	var page pullPage
	if err := remarshal(res, &page); err != nil {
		return nil, fmt.Errorf("decoding the pull requests: %w", err)
	}
	for n := 1; ; n++ {
		for i := range page.Values {
			p := &page.Values[i]
			if p.Source.Branch.Name == branch && p.Destination.Branch.Name == base && p.own() {
				return p, nil
			}
		}
		if page.Next == "" {
			return nil, nil
		}
		if n == maxPullPages {
			return nil, &checkError{code: errcode.Conflict, msg: fmt.Sprintf("more than %d open pull requests into %q of %s/%s come from branches named %q (forks' ones), "+
				"and none of those read is the repository's own: could not tell whether it has one open; nothing was written",
				maxPullPages*50, base, bbapi.Slug(repo.Owner), bbapi.Slug(repo.Name), branch)}
		}
		if !d.sameResource(page.Next, d.api+d.repoPath(repo)+"/pullrequests", true) {
			return nil, fmt.Errorf("next link %s is not this repository's pull requests on the API host", bbapi.PathOf(page.Next))
		}
		next := page.Next
		page = pullPage{}
		if err := d.getJSON(ctx, hc, next, &page); err != nil {
			return nil, err
		}
	}
}

// createPull opens the pull request (go-bitbucket PullRequests.Create). If
// Bitbucket reports an open one for the same branches (opened since the
// lookup), that one is returned with Existing set.
func (d *Driver) createPull(ctx context.Context, hc *http.Client, r *driver.PullRequestRequest, base string) (*driver.PullRequest, error) {
	c, err := d.bb(ctx, hc)
	if err != nil {
		return nil, err
	}
	po := &bitbucket.PullRequestsOptions{Owner: bbapi.Slug(r.Repo.Owner), RepoSlug: bbapi.Slug(r.Repo.Name), Title: r.Title,
		Description: r.Body, SourceBranch: r.Branch, DestinationBranch: base, Draft: r.Draft}
	res, err := c.Repositories.PullRequests.Create(po.WithContext(ctx))
	if err != nil {
		err = c.error(ctx, http.MethodPost, d.repoPath(r.Repo)+"/pullrequests", err)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && ae.says("already an open pull request") {
			if base == "" {
				if base, err = d.mainBranch(ctx, hc, r.Repo); err != nil {
					return nil, err
				}
			}
			if p, ferr := d.findPull(ctx, hc, r.Repo, r.Branch, base); ferr == nil && p != nil {
				return d.pullRequest(p, base, r.Branch, true), nil
			}
		}
		return nil, err
	}
	var p pullJSON
	if err := remarshal(res, &p); err != nil || p.ID == 0 {
		return nil, fmt.Errorf("decoding the new pull request: %v", err)
	}
	return d.pullRequest(&p, base, r.Branch, false), nil
}

// formWriter writes the multipart/form-data body of POST /src: Bitbucket
// takes each file part's field name as the repository path and reads
// x-attributes="executable" from its Content-Disposition. The metadata
// fields (message, branch, parents, files, author) share that namespace:
// a file part's filename parameter is what tells a root file named
// "message" from the commit message, by Bitbucket's documentation of the
// endpoint, so every file part has one (TestRootFilesNamedLikeCommitFields).
type formWriter struct {
	buf      *bytes.Buffer
	boundary string
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "%0D", "\n", "%0A")

func (w *formWriter) field(name, value string) {
	fmt.Fprintf(w.buf, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", w.boundary, quoteEscaper.Replace(name), value)
}

func (w *formWriter) file(p string, content []byte, exec bool) {
	base := p[strings.LastIndexByte(p, '/')+1:]
	attrs := ""
	if exec {
		attrs = `; x-attributes="executable"`
	}
	fmt.Fprintf(w.buf, "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"%s\r\nContent-Type: application/octet-stream\r\n\r\n",
		w.boundary, quoteEscaper.Replace(p), quoteEscaper.Replace(base), attrs)
	w.buf.Write(content)
	w.buf.WriteString("\r\n")
}

func (w *formWriter) close() { fmt.Fprintf(w.buf, "--%s--\r\n", w.boundary) }

// multipartBoundary returns a random boundary that occurs in no content.
func multipartBoundary(changes []driver.Change) string {
	for {
		var b [16]byte
		rand.Read(b[:]) //nolint:errcheck // crypto/rand never fails
		boundary := "scmkit-" + hex.EncodeToString(b[:])
		clash := false
		for _, ch := range changes {
			if bytes.Contains(ch.Content, []byte(boundary)) {
				clash = true
				break
			}
		}
		if !clash {
			return boundary
		}
	}
}
