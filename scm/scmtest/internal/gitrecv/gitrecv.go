// Package gitrecv is the server side of git's smart HTTP push
// (git-receive-pack) for the fakes of scm/scmtest: the ref advertisement
// and the receive-pack request, decoded with go-git, the pushed objects
// kept in a [repostore.Repo] so that every route of the fake sees them.
// The GitHub fake and the Bitbucket Data Center fake both serve it, each
// behind its own authentication and URL layout.
package gitrecv

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/scmkit/scmkit/internal/gitpath"
	"github.com/scmkit/scmkit/scm/scmtest/internal/gitobj"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// maxPushBytes caps a push request (GitHub's limit is 2 GiB).
const maxPushBytes = 256 << 20

// Receiver serves the push of one fake.
type Receiver struct {
	// Store holds the repositories; the handlers lock it.
	Store *repostore.Store
	// Agent is the agent capability advertised, e.g.
	// "github/spokes-receive-pack-fake"; "" advertises none.
	Agent string
	// Decline, when not nil, is asked (with Store locked) about each
	// command of a push to rp: a non-empty status refuses the update of
	// ref with it ("ng <ref> <status>"), remote going to the progress
	// channel, as a host's rule or hook refuses it.
	Decline func(rp *repostore.Repo, ref string) (status, remote string)
	// FirstBranchIsDefault makes the first branch pushed to an empty
	// repository its default branch, as on GitHub; without it the
	// repository keeps the default branch it was created with (Bitbucket
	// Data Center).
	FirstBranchIsDefault bool
}

// Text writes a plain-text answer, as the hosts' git endpoints do.
func Text(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n") //nolint:errcheck // the client went away
}

// IsEmpty reports whether rp has no ref (an empty repository).
func IsEmpty(rp *repostore.Repo) bool { return len(rp.Branches)+len(rp.Refs) == 0 }

// objectOf returns rp's git object id, or nil.
func objectOf(rp *repostore.Repo, id string) *gitobj.Object {
	if c := rp.Commits[id]; c != nil && c.Git != nil {
		return &gitobj.Object{Type: "commit", Commit: c.Git}
	}
	return rp.Objects[id]
}

// Advertise answers the ref advertisement of git-receive-pack: the
// service line and a flush, then the refs with the capabilities on the
// first line ("capabilities^{}" with the zero id for an empty
// repository), and a flush.
func (rv *Receiver) Advertise(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	if r.URL.Query().Get("service") != "git-receive-pack" {
		Text(w, http.StatusForbidden, rv.Store.Name+" serves git-receive-pack only")
		return
	}
	adv := packp.NewAdvRefs()
	adv.Prefix = [][]byte{[]byte("# service=git-receive-pack"), pktline.Flush}
	for _, c := range []capability.Capability{capability.ReportStatus, capability.DeleteRefs, capability.Sideband64k,
		capability.Quiet, capability.OFSDelta} {
		adv.Capabilities.Set(c) //nolint:errcheck // known capabilities without arguments
	}
	if rv.Agent != "" {
		adv.Capabilities.Set(capability.Agent, rv.Agent) //nolint:errcheck // as above
	}
	rv.Store.Lock()
	for name, id := range rp.AllRefs() {
		adv.References[name] = plumbing.NewHash(id)
	}
	rv.Store.Unlock()
	var buf bytes.Buffer
	if err := adv.Encode(&buf); err != nil {
		Text(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "application/x-git-receive-pack-advertisement")
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

// Receive takes the commands and the pack with go-git's decoders,
// stores the objects in the repository so that every read sees them, and
// answers report-status (in side-band-64k when asked). A command whose old
// id is not the ref's value is refused with "fetch first"; one whose new
// commit misses objects with "missing necessary objects"; one
// Receiver.Decline refuses with its reason. A pack holding
// an object git's fsck refuses (a tree entry name [gitpath.CheckName]
// refuses, an author or committer line that is not "name <email> time
// zone") is refused whole, as the hosts' receive.fsckObjects refuses it:
// "unpack index-pack abnormal exit", "ng <ref> unpacker error", and the
// fsck error on the progress channel. The first branch pushed to an
// empty repository becomes its default branch with
// Receiver.FirstBranchIsDefault.
func (rv *Receiver) Receive(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	if r.Header.Get("Content-Type") != "application/x-git-receive-pack-request" {
		Text(w, http.StatusUnsupportedMediaType, "Content-Type must be application/x-git-receive-pack-request")
		return
	}
	upd := packp.NewReferenceUpdateRequest()
	if err := upd.Decode(http.MaxBytesReader(w, r.Body, maxPushBytes)); err != nil {
		Text(w, http.StatusBadRequest, "bad receive-pack request: "+err.Error())
		return
	}
	incoming, unpackErr := gitobj.Store{}, error(nil)
	if upd.Packfile != nil && !onlyDeletes(upd.Commands) {
		incoming, unpackErr = unpack(upd.Packfile)
	}
	report := &packp.ReportStatus{UnpackStatus: "ok"}
	var remote string
	rv.Store.Lock()
	wasEmpty := IsEmpty(rp)
	lookup := func(id string) *gitobj.Object {
		if o := incoming[id]; o != nil {
			return o
		}
		return objectOf(rp, id)
	}
	for _, c := range upd.Commands {
		name := c.Name.String()
		cur, _ := rp.Ref(name)
		status := "ok"
		var why, msg string
		if rv.Decline != nil {
			why, msg = rv.Decline(rp, name)
		}
		switch {
		case unpackErr != nil:
			status = "unpacker error"
		case !c.Old.IsZero() && cur != c.Old.String(), c.Old.IsZero() && cur != "":
			status = "fetch first"
		case why != "":
			status = why
			remote += msg
		case !c.New.IsZero() && !connected(lookup, c.New.String()):
			status = "missing necessary objects"
		case c.New.IsZero():
			rp.SetRef(name, "")
		default:
			rv.storePush(rp, incoming)
			rp.SetRef(name, c.New.String())
			if branch, ok := strings.CutPrefix(name, "refs/heads/"); ok && wasEmpty && rv.FirstBranchIsDefault {
				rp.DefaultBranch, wasEmpty = branch, false
			}
		}
		report.CommandStatuses = append(report.CommandStatuses, &packp.CommandStatus{ReferenceName: c.Name, Status: status})
	}
	rv.Store.Unlock()
	var fsck *fsckError
	switch {
	case errors.As(unpackErr, &fsck):
		// As git's receive-pack with receive.fsckObjects says it.
		report.UnpackStatus = "index-pack abnormal exit"
		remote += "error: " + clean(fsck.Error()) + "\nfatal: fsck error in packed object\n"
	case unpackErr != nil:
		report.UnpackStatus = clean(unpackErr.Error())
	}
	var buf bytes.Buffer
	report.Encode(&buf) //nolint:errcheck // a bytes.Buffer does not fail
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "application/x-git-receive-pack-result")
	if !upd.Capabilities.Supports(capability.Sideband64k) {
		w.Write(buf.Bytes()) //nolint:errcheck // the client went away
		return
	}
	mux := sideband.NewMuxer(sideband.Sideband64k, w)
	if remote != "" {
		mux.WriteChannel(sideband.ProgressMessage, []byte(remote)) //nolint:errcheck // as above
	}
	mux.Write(buf.Bytes())        //nolint:errcheck // as above
	pktline.NewEncoder(w).Flush() //nolint:errcheck // as above
}

func onlyDeletes(cmds []*packp.Command) bool {
	for _, c := range cmds {
		if !c.New.IsZero() {
			return false
		}
	}
	return true
}

// unpack parses a packfile with go-git's parser and returns its blobs,
// trees and commits under their ids.
func unpack(pack io.Reader) (gitobj.Store, error) {
	data, err := io.ReadAll(pack)
	if err != nil {
		return nil, err
	}
	st := memory.NewStorage()
	if err := packfile.UpdateObjectStorage(st, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	iter, err := st.IterEncodedObjects(plumbing.AnyObject)
	if err != nil {
		return nil, err
	}
	out, n := gitobj.Store{}, 0
	err = iter.ForEach(func(o plumbing.EncodedObject) error {
		id := o.Hash().String()
		n++
		switch o.Type() {
		case plumbing.BlobObject:
			rd, err := o.Reader()
			if err != nil {
				return err
			}
			defer rd.Close()
			b, err := io.ReadAll(rd)
			out[id] = &gitobj.Object{Type: "blob", Blob: b}
			return err
		case plumbing.TreeObject:
			var t object.Tree
			if err := t.Decode(o); err != nil {
				return err
			}
			entries := make([]gitobj.TreeEntry, len(t.Entries))
			for i, e := range t.Entries {
				if err := gitpath.CheckName(e.Name, e.Mode == filemode.Regular || e.Mode == filemode.Executable); err != nil {
					return &fsckError{id: id, msg: fmt.Sprintf("bad tree entry name %q", e.Name)}
				}
				entries[i] = gitobj.TreeEntry{Name: e.Name, Mode: fmt.Sprintf("%06o", uint32(e.Mode)), SHA: e.Hash.String()}
			}
			out[id] = &gitobj.Object{Type: "tree", Tree: entries}
		case plumbing.CommitObject:
			if msg := checkIdents(o); msg != "" {
				return &fsckError{id: id, msg: msg}
			}
			var c object.Commit
			if err := c.Decode(o); err != nil {
				return err
			}
			gc := &gitobj.Commit{Tree: c.TreeHash.String(), Message: c.Message,
				Author:    gitobj.Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When.UTC()},
				Committer: gitobj.Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When.UTC()}}
			for _, p := range c.ParentHashes {
				gc.Parents = append(gc.Parents, p.String())
			}
			out[id] = &gitobj.Object{Type: "commit", Commit: gc}
		}
		return nil
	})
	if err == nil && len(data) >= 12 && int(binary.BigEndian.Uint32(data[8:12])) != n {
		err = errors.New("the same object appears twice in the pack") // as git's index-pack refuses it
	}
	return out, err
}

// fsckError is an object git's fsck refuses (GitHub runs it on every
// push): the push is refused as a whole, as git's index-pack --strict
// refuses it.
type fsckError struct{ id, msg string }

func (e *fsckError) Error() string { return "object " + e.id + ": " + e.msg }

// identLine is an author or committer line as git's fsck accepts it: a
// name and an email without '<', '>' or a newline, a timestamp and a
// time zone.
var identLine = regexp.MustCompile(`^[^<>\n]* <[^<>\n]*> (0|[1-9][0-9]*) [+-][0-9]{4}$`)

// checkIdents returns what git's fsck says of commit o's author and
// committer lines and of a NUL byte in its headers, or "".
func checkIdents(o plumbing.EncodedObject) string {
	rd, err := o.Reader()
	if err != nil {
		return "unreadable commit"
	}
	defer rd.Close()
	raw, err := io.ReadAll(rd)
	if err != nil {
		return "unreadable commit"
	}
	head, _, _ := bytes.Cut(raw, []byte("\n\n"))
	if bytes.IndexByte(head, 0) >= 0 {
		return "nulInHeader: NUL byte in the commit object body"
	}
	seen := 0
	for _, line := range strings.Split(string(head), "\n") {
		for _, h := range []string{"author ", "committer "} {
			if v, ok := strings.CutPrefix(line, h); ok {
				seen++
				if !identLine.MatchString(v) {
					return "badIdent: invalid " + strings.TrimSpace(h) + " line"
				}
			}
		}
	}
	if seen < 2 {
		return "missingAuthor: invalid format - expected 'author' and 'committer' lines"
	}
	return ""
}

// connected reports whether commit id, its tree, everything under it and
// its parents are all there (git's connectivity check).
func connected(lookup func(string) *gitobj.Object, id string) bool {
	c := lookup(id)
	if c == nil || c.Type != "commit" {
		return false
	}
	for _, p := range c.Commit.Parents {
		if o := lookup(p); o == nil || o.Type != "commit" {
			return false
		}
	}
	var tree func(id string) bool
	tree = func(id string) bool {
		t := lookup(id)
		if t == nil || t.Type != "tree" {
			return false
		}
		for _, e := range t.Tree {
			switch e.Mode {
			case gitobj.ModeCommit: // a submodule: another repository's commit
			case gitobj.ModeTree:
				if !tree(e.SHA) {
					return false
				}
			default:
				if o := lookup(e.SHA); o == nil || o.Type != "blob" {
					return false
				}
			}
		}
		return true
	}
	return tree(c.Commit.Tree)
}

// clean keeps a status line on one line.
func clean(s string) string { return strings.Join(strings.Fields(s), " ") }

// storePush keeps the objects of a push: its blobs and trees in
// rp.Objects, its commits in rp.Commits under their pushed ids.
func (rv *Receiver) storePush(rp *repostore.Repo, incoming gitobj.Store) {
	if rp.Objects == nil {
		rp.Objects = gitobj.Store{}
	}
	for id, o := range incoming {
		if o.Type != "commit" {
			rp.Objects[id] = o
		}
	}
	for id, o := range incoming {
		if o.Type == "commit" && rp.Commits[id] == nil {
			PutCommit(rv.Store, rp, "", o.Commit, id)
		}
	}
}

// PutCommit stores the commit object c, whose tree is in rp.Objects, as
// a commit of rp (its files flattened from the tree, with their modes)
// under id ("" for c's own git id), points ref ("" for none) at it, and
// returns the id. The store must be locked.
func PutCommit(st *repostore.Store, rp *repostore.Repo, ref string, c *gitobj.Commit, id string) string {
	files := map[string]repostore.Entry{}
	for p, fe := range rp.Objects.Flatten(c.Tree) {
		e := repostore.Entry{Exec: fe.Mode == gitobj.ModeExec, Blob: fe.SHA}
		if o := rp.Objects[fe.SHA]; o != nil {
			e.Content = o.Blob
		}
		if fe.Mode == gitobj.ModeSymlink || fe.Mode == gitobj.ModeCommit {
			e.Special = fe.Mode
		}
		files[p] = e
	}
	if id == "" {
		id = gitobj.CommitID(c)
	}
	id = st.Put(rp, "", nil, &repostore.Commit{ID: id, Parents: c.Parents, Message: c.Message,
		Author: c.Author.Name, Email: c.Author.Email, When: c.Author.When, Files: files, Git: c})
	if ref != "" {
		rp.SetRef(ref, id)
	}
	return id
}
