// Package gitpush pushes the initial commit of a new, empty repository
// over git's smart HTTP protocol, for the adapters whose REST API cannot
// write a whole tree in one commit with its file modes (GitHub's git data
// API needs a non-empty repository; Bitbucket Data Center's REST API
// writes one file per commit and no mode). [Build] makes one root commit
// and its packfile before any request; [Pusher.Push] sends it in 2
// requests (GET info/refs?service=git-receive-pack, POST
// git-receive-pack), 3 when the push's answer is lost.
//
// The package attaches no credential: the caller's *http.Client does (the
// adapters pass the portable client's, whose credentials transport sends
// the token to the integration's hosts only), with whatever scheme the
// caller asks for through the context (GitHub's git endpoints take Basic
// with the user name x-access-token, see credentials.WithBasicUsername).
package gitpush

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/gitpath"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/scm/driver"
)

// The caps on what the git endpoints answer: a new repository's ref
// advertisement is a few hundred bytes, a report-status (with the
// server's remote messages) a few KiB.
const (
	maxAdvertisementBytes = 1 << 20
	maxReportBytes        = 1 << 20
	maxRemoteMessage      = 2 << 10
	maxRemoteText         = 1000 // of the remote messages quoted in an error
)

// Signature is a commit's author (and committer).
type Signature struct {
	Name, Email string
}

// DefaultAuthor signs the initial commit when the adapter has no author
// configured: a pushed commit carries its author, and the token's
// identity is not known without another request. The .invalid domain
// (RFC 2606) links it to no account.
var DefaultAuthor = Signature{Name: "scmkit", Email: "scmkit@scmkit.invalid"}

// Pusher sends initial commits. Its zero value works; the fields name the
// server in errors and on the wire.
type Pusher struct {
	// Vendor names the server in errors ("GitHub refused the push ...");
	// "" means "the server".
	Vendor string
	// UserAgent is sent as "git/<UserAgent>"; "" means "scmkit".
	UserAgent string
	// Now is the clock of a rate limit's RetryAt; nil means time.Now.
	Now func() time.Time
	// Redact, when not nil, makes a transport error safe to show (the
	// adapter's own redaction of URLs); nil leaves it as net/http says it.
	Redact func(error) error
}

func (p *Pusher) vendor() string {
	if p.Vendor == "" {
		return "the server"
	}
	return p.Vendor
}

func (p *Pusher) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

// Pack is a root commit and the packfile that carries it with its trees
// and blobs, built before any request.
type Pack struct {
	Commit plumbing.Hash
	Data   []byte
}

// Build builds the objects of one root commit holding files (mode
// 100755 for an executable, 100644 otherwise) and packs them, undeltified.
// A path git or GitHub would refuse (see [gitpath.CheckPath]: an empty,
// "." or ".." element, ".git" as NTFS or HFS+ reads it, a .gitmodules
// directory; or a file that is also a directory) is InvalidArgument.
// author signs the commit as author and committer, dated when.
func Build(files []driver.Change, message string, author Signature, when time.Time) (*Pack, error) {
	st := memory.NewStorage()
	var hashes []plumbing.Hash // each object once: git refuses a pack holding one twice
	put := func(encode func(plumbing.EncodedObject) error) (plumbing.Hash, error) {
		o := st.NewEncodedObject()
		if err := encode(o); err != nil {
			return plumbing.ZeroHash, err
		}
		if h := o.Hash(); st.HasEncodedObject(h) == nil {
			return h, nil // the same content (a blob, a tree) again
		}
		h, err := st.SetEncodedObject(o)
		hashes = append(hashes, h)
		return h, err
	}
	type dir struct {
		entries []object.TreeEntry
		dirs    map[string]*dir
	}
	newDir := func() *dir { return &dir{dirs: map[string]*dir{}} }
	root := newDir()
	bad := func(p, why string) error {
		return errcode.Newf(errcode.InvalidArgument, "", "%q cannot be committed: %s", p, why)
	}
	for _, f := range files {
		if err := gitpath.CheckPath(f.Path); err != nil {
			return nil, err
		}
		parts := strings.Split(f.Path, "/")
		blob, err := put(func(o plumbing.EncodedObject) error {
			o.SetType(plumbing.BlobObject)
			w, err := o.Writer()
			if err != nil {
				return err
			}
			if _, err := w.Write(f.Content); err != nil {
				return err
			}
			return w.Close()
		})
		if err != nil {
			return nil, err
		}
		cur := root
		for _, seg := range parts[:len(parts)-1] {
			sub := cur.dirs[seg]
			if sub == nil {
				if slices.ContainsFunc(cur.entries, func(e object.TreeEntry) bool { return e.Name == seg }) {
					return nil, bad(f.Path, path.Dir(f.Path)+" is also a file")
				}
				sub = newDir()
				cur.dirs[seg] = sub
			}
			cur = sub
		}
		name := parts[len(parts)-1]
		if cur.dirs[name] != nil || slices.ContainsFunc(cur.entries, func(e object.TreeEntry) bool { return e.Name == name }) {
			return nil, bad(f.Path, "the path is given twice, or is also a directory")
		}
		mode := filemode.Regular
		if f.Executable {
			mode = filemode.Executable
		}
		cur.entries = append(cur.entries, object.TreeEntry{Name: name, Mode: mode, Hash: blob})
	}
	var write func(t *dir) (plumbing.Hash, error)
	write = func(t *dir) (plumbing.Hash, error) {
		for name, sub := range t.dirs {
			h, err := write(sub)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			t.entries = append(t.entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
		slices.SortFunc(t.entries, func(a, b object.TreeEntry) int {
			return strings.Compare(treeSortName(a), treeSortName(b))
		})
		return put((&object.Tree{Entries: t.entries}).Encode)
	}
	tree, err := write(root)
	if err != nil {
		return nil, err
	}
	sig := object.Signature{Name: author.Name, Email: author.Email, When: when}
	commit, err := put((&object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree}).Encode)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := packfile.NewEncoder(&buf, st, false).Encode(hashes, 0); err != nil {
		return nil, err
	}
	return &Pack{Commit: commit, Data: buf.Bytes()}, nil
}

// treeSortName is the key git sorts tree entries by: a directory's name
// as if it ended in "/".
func treeSortName(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// Push makes pack's commit the first commit of branch in the empty
// repository whose git URL is repoURL (https://HOST/owner/name.git), with
// git's smart HTTP protocol, in 2 requests: GET
// info/refs?service=git-receive-pack (the capabilities, and proof that the
// repository is still empty) and POST git-receive-pack (the command
// "0{40} <commit> refs/heads/<branch>" and the pack). When the POST's
// answer is lost, a third request (GET info/refs again, unless ctx is
// done) says whether the branch holds the commit: nil if so, the push's
// error if not, an *Unsure if the check fails. Both go through hc with
// ctx, which carry the credential.
//
// A repository that is no longer empty is Conflict, and nothing is sent.
// A refused push is an *errcode.Error with the server's reason and remote
// messages (cleaned, capped): Conflict when the branch appeared meanwhile,
// PermissionDenied when a rule, protected branch or hook declined it. The
// POST follows no redirect (git does not follow one for a push either).
func (p *Pusher) Push(ctx context.Context, hc *http.Client, repoURL, branch string, pack *Pack) error {
	ref := plumbing.NewBranchReferenceName(branch)

	// 1. The ref advertisement.
	adv, err := p.advertisement(ctx, hc, repoURL)
	if err != nil {
		return err
	}
	if !adv.Capabilities.Supports(capability.ReportStatus) {
		return gitProtocolError("GET info/refs", "no report-status capability", nil)
	}
	if len(adv.References) > 0 {
		names := make([]string, 0, len(adv.References))
		for n := range adv.References {
			names = append(names, n)
		}
		slices.Sort(names)
		return errcode.Newf(errcode.Conflict, "", "the new repository is no longer empty (it has %s): nothing was pushed",
			clean(strings.Join(names, ", ")))
	}

	// 2. The push.
	upd := packp.NewReferenceUpdateRequest()
	upd.Capabilities.Set(capability.ReportStatus) //nolint:errcheck // a known capability without arguments
	band := adv.Capabilities.Supports(capability.Sideband64k)
	if band {
		upd.Capabilities.Set(capability.Sideband64k) //nolint:errcheck // as above
	}
	if adv.Capabilities.Supports(capability.Quiet) {
		upd.Capabilities.Set(capability.Quiet) //nolint:errcheck // as above
	}
	upd.Commands = []*packp.Command{{Name: ref, Old: plumbing.ZeroHash, New: pack.Commit}}
	upd.Packfile = io.NopCloser(bytes.NewReader(pack.Data))
	var req bytes.Buffer
	if err := upd.Encode(&req); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return errcode.FromContext(ctx, "") // nothing was sent
	}
	settled, err := p.receivePack(ctx, hc, repoURL, req.Bytes(), band, ref)
	if settled {
		return err
	}

	// 3. The answer was lost (a connection reset after the pack was sent,
	// a 5xx, an unreadable report): the server may have applied the push. One
	// more ref advertisement says whether the branch holds the commit.
	if ctx.Err() != nil {
		return &Unsure{Err: err, Why: "the push's answer was lost, and the context ended before the branch could be read back"}
	}
	adv, cerr := p.advertisement(ctx, hc, repoURL)
	if cerr != nil {
		return &Unsure{Err: err, Why: "the push's answer was lost, and reading the branch back failed: " + WithoutCode(cerr)}
	}
	if at, ok := adv.References[ref.String()]; ok && at == pack.Commit {
		return nil
	}
	return err
}

// advertisement reads the ref advertisement of git-receive-pack at
// repoURL.
func (p *Pusher) advertisement(ctx context.Context, hc *http.Client, repoURL string) (*packp.AdvRefs, error) {
	resp, err := p.gitCall(ctx, hc, http.MethodGet, repoURL+"/info/refs?service=git-receive-pack", nil,
		"", "application/x-git-receive-pack-advertisement")
	if err != nil {
		return nil, err
	}
	body, err := httpx.ReadBody(resp, maxAdvertisementBytes)
	if err != nil {
		return nil, err
	}
	adv := packp.NewAdvRefs()
	if err := adv.Decode(bytes.NewReader(body)); err != nil {
		if err := refusal("GET info/refs", body); err != nil {
			return nil, err
		}
		// go-git's error may quote the server's text: cleaned and capped.
		return nil, gitProtocolError("GET info/refs", "an unreadable ref advertisement ("+clean(err.Error())+")", nil)
	}
	return adv, nil
}

// receivePack sends the push and reads its report. settled is false when
// the error leaves open whether the server applied the push: no answer after
// the request was sent, a 5xx, a report that cannot be read. An answer
// that says no (a 3xx or 4xx, an "ng" or a failed unpack), or a request
// never sent (no credential, no connection), settles it.
func (p *Pusher) receivePack(ctx context.Context, hc *http.Client, repoURL string, req []byte, band bool, ref plumbing.ReferenceName) (settled bool, err error) {
	// The pack (the new repository's files) goes to repoURL or nowhere:
	// a redirect is not followed (git does not follow one for a push).
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := p.gitCall(ctx, &noRedirect, http.MethodPost, repoURL+"/git-receive-pack", req,
		"application/x-git-receive-pack-request", "application/x-git-receive-pack-result")
	if err != nil {
		return !answerLost(err), err
	}
	body, err := httpx.ReadBody(resp, maxReportBytes)
	if err != nil {
		return false, err
	}
	return p.parseReport(body, band, ref)
}

// answerLost reports whether err, a failure of the POST git-receive-pack,
// leaves open whether the server received and applied the push.
func answerLost(err error) bool {
	var (
		op *net.OpError
		ce *errcode.Error
	)
	switch {
	case errors.As(err, &op) && op.Op == "dial":
		return false // no connection: nothing was sent
	case errors.As(err, &ce) && ce.Op != "":
		return false // the credentials transport refused to send it
	case ce != nil && ce.Status >= 300 && ce.Status < 500:
		return false // an answer that says no
	}
	return true
}

// Unsure is a push whose answer was lost and whose result could not be
// checked: Err is the push's failure, Why says why it is not known.
type Unsure struct {
	Err error
	Why string
}

func (u *Unsure) Error() string { return u.Err.Error() }
func (u *Unsure) Unwrap() error { return u.Err }

// WithoutCode is err's message without the " (Code, ...)" that ends an
// *errcode.Error's, for an error that quotes it.
func WithoutCode(err error) string {
	s := err.Error()
	if _, ok := err.(*errcode.Error); ok {
		if i := strings.LastIndex(s, " ("); i > 0 {
			s = s[:i]
		}
	}
	return s
}

// readReport reads a receive-pack answer (report-status, inside
// side-band-64k when band) and returns nil when ref was updated, else an
// *errcode.Error with the server's reason and remote messages.
func (p *Pusher) readReport(body []byte, band bool, ref plumbing.ReferenceName) error {
	_, err := p.parseReport(body, band, ref)
	return err
}

// parseReport is readReport; settled is false when the answer cannot be
// read, or has no status for ref, so that it does not say whether the
// push was applied.
func (p *Pusher) parseReport(body []byte, band bool, ref plumbing.ReferenceName) (settled bool, err error) {
	const what = "POST git-receive-pack"
	var remote remoteMessages
	report := body
	if err := refusal(what, body); err != nil {
		return true, err
	}
	if band {
		if report, err = demux(body, &remote); err != nil {
			return false, gitProtocolError(what, "an unreadable side-band answer ("+clean(err.Error())+")"+remote.suffix(), nil)
		}
	}
	// go-git's errors quote the server's text: only a cleaned, capped
	// copy goes into the error.
	rs := packp.NewReportStatus()
	if err := rs.Decode(bytes.NewReader(report)); err != nil {
		if err := refusal(what, report); err != nil {
			return true, err
		}
		return false, gitProtocolError(what, "an unreadable report-status ("+clean(err.Error())+")"+remote.suffix(), nil)
	}
	if rs.UnpackStatus != "ok" {
		return true, errcode.Newf(errcode.Unknown, "", "%s did not unpack the pushed objects: %s%s", p.vendor(), clean(rs.UnpackStatus), remote.suffix())
	}
	for _, cs := range rs.CommandStatuses {
		if cs.ReferenceName != ref {
			continue
		}
		if cs.Status == "ok" {
			return true, nil
		}
		return true, errcode.Newf(rejectionCode(cs.Status), "", "%s refused the push to %s: %s%s", p.vendor(), ref, clean(cs.Status), remote.suffix())
	}
	return false, gitProtocolError(what, "no status for "+ref.String()+remote.suffix(), nil)
}

// demux splits a side-band-64k answer: it returns channel 1 (the
// report-status) and writes channels 2 (progress) and 3 (an error, which
// ends the answer) to remote, as remote messages. It stops at a flush.
func demux(body []byte, remote *remoteMessages) ([]byte, error) {
	var report []byte
	sc := pktline.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		p := sc.Bytes()
		if len(p) == 0 {
			return report, nil // the flush that ends the answer
		}
		switch p[0] {
		case 1:
			report = append(report, p[1:]...)
		case 2:
			remote.Write(p[1:]) //nolint:errcheck // it does not fail
		case 3:
			remote.Write(p[1:]) //nolint:errcheck // as above
			return report, nil
		default:
			return report, fmt.Errorf("a packet on channel %d", p[0])
		}
	}
	return report, sc.Err()
}

// gitCall sends one request to a git endpoint and returns its 200 answer
// of content type want; any other answer is an *errcode.Error classified
// as every answer is (401 Unauthorized, 403 PermissionDenied or
// RateLimited, 404 NotFound, 5xx Unavailable), with the first line of
// the server's plain-text message. A redirect of a POST that hc did not
// follow is Unknown, naming where it pointed (scheme and host only).
func (p *Pusher) gitCall(ctx context.Context, hc *http.Client, method, u string, body []byte, ctype, want string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	ua := p.UserAgent
	if ua == "" {
		ua = "scmkit"
	}
	req.Header.Set("User-Agent", "git/"+ua)
	req.Header.Set("Accept", want)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	what := method + " " + req.URL.EscapedPath()
	resp, err := hc.Do(req)
	if err != nil {
		err = httpx.CallError(method, req.URL.EscapedPath(), err)
		var ce *errcode.Error
		if errors.As(err, &ce) {
			return nil, err
		}
		code, ok := httpx.ClassifyFailure(err)
		if !ok {
			code = errcode.Unavailable
		}
		if p.Redact != nil {
			err = p.Redact(err)
		}
		return nil, &errcode.Error{Code: code, Err: err}
	}
	if resp.StatusCode == http.StatusOK && mediaType(resp.Header.Get("Content-Type")) == want {
		return resp, nil
	}
	defer httpx.DrainClose(resp)
	if resp.StatusCode == http.StatusOK {
		// A login page or a dumb server: not git's smart protocol.
		return nil, gitProtocolError(what, "an answer of type "+clean(resp.Header.Get("Content-Type"))+", not "+want, nil)
	}
	if method == http.MethodPost && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		where := "elsewhere"
		if loc, err := resp.Location(); err == nil {
			where = clean(loc.Scheme + "://" + loc.Host)
		}
		return nil, &errcode.Error{Code: errcode.Unknown, Status: resp.StatusCode, Msg: fmt.Sprintf(
			"%s: %s to %s: a push does not follow a redirect (git does not either), and the pack was not sent there",
			what, resp.Status, where)}
	}
	cl := httpx.Classify(resp, p.now())
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxRemoteMessage))
	line, _, _ := strings.Cut(strings.TrimSpace(string(msg)), "\n")
	text := fmt.Sprintf("%s: %s", what, resp.Status)
	if line = clean(line); line != "" && !strings.HasPrefix(line, "<") {
		text += ": " + line
	}
	return nil, &errcode.Error{Code: cl.Code, Status: resp.StatusCode, RetryAt: cl.RetryAt, Msg: text}
}

// refusal returns the server's refusal when the first packet of body
// (after the "# service=" header and its flush) is git's "ERR <message>"
// packet, which a server sends in place of an answer: Bitbucket Data
// Center with Git over HTTP(S) turned off answers the ref advertisement
// "ERR SCM access over HTTP(S) has been disabled" with status 200. It is
// PermissionDenied, with the message cleaned and cut short; nil when
// there is no such packet.
func refusal(what string, body []byte) error {
	sc := pktline.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		b := sc.Bytes()
		if len(b) != 0 && !bytes.HasPrefix(b, []byte("# service=")) {
			return nil
		}
	}
	// go-git's scanner stops at an ERR packet with its text.
	var el *pktline.ErrorLine
	if !errors.As(sc.Err(), &el) {
		return nil
	}
	return &errcode.Error{Code: errcode.PermissionDenied, Msg: what + ": the server refused: " + clean(el.Text)}
}

// gitProtocolError is an answer of a git endpoint that does not follow
// the protocol.
func gitProtocolError(what, msg string, err error) error {
	return &errcode.Error{Code: errcode.Unknown, Msg: what + ": " + msg, Err: err}
}

// rejectionCode classifies the reason of an "ng" line: a ref that moved
// or exists (Conflict); a push refused by a rule, a protected branch or a
// hook (PermissionDenied: the credential may not push this); anything
// else Unknown.
func rejectionCode(reason string) errcode.Code {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "fetch first"), strings.Contains(r, "non-fast-forward"), strings.Contains(r, "stale info"),
		strings.Contains(r, "already exists"), strings.Contains(r, "failed to update ref"), strings.Contains(r, "failed to lock"):
		return errcode.Conflict
	case strings.Contains(r, "declined"), strings.Contains(r, "protected"), strings.Contains(r, "rule"),
		strings.Contains(r, "hook"), strings.Contains(r, "permission"):
		return errcode.PermissionDenied
	}
	return errcode.Unknown
}

// remoteMessages keeps the first maxRemoteMessage bytes of the progress
// channel, where the server says why it refused a push (GitHub: "remote:
// error: GH013: Repository rule violations found for refs/heads/main.").
type remoteMessages struct{ b []byte }

func (m *remoteMessages) Write(p []byte) (int, error) {
	if room := maxRemoteMessage - len(m.b); room > 0 {
		m.b = append(m.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// suffix is the messages' lines that say something (progress counters
// left out), for an error message: " (remote: ...; ...)", or "".
func (m *remoteMessages) suffix() string {
	var keep []string
	for _, line := range strings.FieldsFunc(string(m.b), func(r rune) bool { return r == '\n' || r == '\r' }) {
		if line = clean(line); line != "" && !strings.Contains(line, "%") {
			keep = append(keep, line)
		}
	}
	if len(keep) == 0 {
		return ""
	}
	text := strings.Join(keep, "; ")
	if len(text) > maxRemoteText {
		text = strings.ToValidUTF8(text[:maxRemoteText], "") + "…"
	}
	return " (remote: " + text + ")"
}

// clean makes text from the server printable: control characters become
// spaces, and it is cut at 300 bytes.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return strings.TrimSpace(s)
}

// mediaType is a Content-Type without its parameters, lower-case.
func mediaType(ct string) string {
	t, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(t))
}
