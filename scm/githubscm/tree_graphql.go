package githubscm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/go-github/v66/github"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

// The GraphQL tree read and its cut-offs. A directory is read by one
// GraphQL query nested treeLevels deep (the directory and three levels
// below it), plus one query per further treeLevels levels for the
// subtrees the previous answer cut off, at most treeQueries queries in
// all. Anything beyond these cut-offs is read from the tarball instead.
const (
	// treeLevels is how many directory levels one query reads.
	treeLevels = 4
	// treeQueries caps the queries of one read (16 levels in all).
	treeQueries = 4
	// treeAnswerBytes caps the GraphQL answers of one read, all queries
	// together: a folder whose answers would be larger is "very large",
	// and reading stops there (about this many bytes are received).
	treeAnswerBytes = 4 << 20
	// treeMaxFiles caps the files (after Filter) read through GraphQL.
	treeMaxFiles = 1000
	// treeMaxSubtrees caps the subtrees one further query asks for.
	treeMaxSubtrees = 100
	// treeBlobFetches is how many files GraphQL gives no exact text for
	// (a binary such as a template's logo, a truncated or transcoded
	// text) are read as blobs (GET git/blobs/{oid}, one request each)
	// rather than the tarball: one, whose request replaces the tarball's
	// API request, so that the read costs no more requests and downloads
	// the file instead of the whole repository.
	treeBlobFetches = 1
	// treeBlobMaxBytes caps the size of a file read as a blob; a larger
	// one sends the read to the tarball.
	treeBlobMaxBytes = 1 << 20
)

// Git tree entry modes, as GitHub's TreeEntry.mode gives them (decimal
// integers of git's octal modes).
const (
	modeFile       = 0o100644
	modeExecutable = 0o100755
	modeTree       = 0o040000
)

// errUseTarball says the GraphQL read cannot give the tree the archive
// would give (a binary, truncated or linked entry, a folder past the
// cut-offs, a refused or failed query): ReadTree reads the tarball.
var errUseTarball = errors.New("githubscm: read the tarball")

// treeSelection is the selection set of a Tree's entries, levels deep. At
// the last level, a subtree's entries are not asked for: its oid is
// enough for a further query.
func treeSelection(levels int) string {
	var b strings.Builder
	var level func(n int)
	level = func(n int) {
		b.WriteString("entries{name type mode oid object{... on Blob{byteSize isBinary isTruncated text}")
		if n > 1 {
			b.WriteString(" ... on Tree{")
			level(n - 1)
			b.WriteString("}")
		}
		b.WriteString("}}")
	}
	level(levels)
	return b.String()
}

// firstTreeQuery reads the commit of the ref and the directory under it.
var firstTreeQuery = "query($owner:String!,$name:String!,$commit:String!,$dir:String!){repository(owner:$owner,name:$name){" +
	"commit:object(expression:$commit){__typename oid} tree:object(expression:$dir){__typename ... on Tree{" +
	treeSelection(treeLevels) + "}}}}"

// gqlTreeEntry is a TreeEntry of the answer.
type gqlTreeEntry struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Mode   int64  `json:"mode"`
	OID    string `json:"oid"`
	Object *struct {
		ByteSize    *int64         `json:"byteSize"`
		IsBinary    *bool          `json:"isBinary"`
		IsTruncated bool           `json:"isTruncated"`
		Text        *string        `json:"text"`
		Entries     []gqlTreeEntry `json:"entries"`
	} `json:"object"`
}

// gqlTree is a Tree (or another GitObject) of the answer.
type gqlTree struct {
	Typename string         `json:"__typename"`
	OID      string         `json:"oid"`
	Entries  []gqlTreeEntry `json:"entries"`
}

// treeBlob is a file of a tree read to be read as a blob: its index in
// treeRead.files and its blob id.
type treeBlob struct {
	i    int
	oid  string
	size int64 // GraphQL's byteSize, which the limits were applied to
}

// treeRead is the state of one GraphQL tree read.
type treeRead struct {
	r       *driver.TreeRequest
	files   []driver.TreeFile
	bytes   int64
	skipped int               // files Filter rejected
	pending map[string]string // subtree path (relative to Dir) → tree oid
	budget  int64             // answer bytes left
	blobs   []treeBlob        // the files to read as blobs (treeBlobFetches)
}

// readTreeGraphQL reads r.Dir through GraphQL. It returns errUseTarball
// when the tree must be read from the tarball instead, with the commit of
// the ref when the first answer gave it; any other error (limits, a
// hostile entry name, a cancelled context) is the read's answer.
func (d *Driver) readTreeGraphQL(ctx context.Context, hc *http.Client, r *driver.TreeRequest) (_ *driver.Tree, commit string, _ error) {
	dir := strings.Trim(r.Dir, "/")
	if dir == "" || d.graphqlURL == "" {
		return nil, commit, errUseTarball // the whole repository: the archive is the cheapest
	}
	if r.Anonymous {
		return nil, commit, errUseTarball // GraphQL needs a credential; the archive does not
	}
	if !fs.ValidPath(dir) || strings.ContainsAny(dir, "\\\x00") {
		return nil, commit, errUseTarball // the archive reader says what it makes of it
	}
	ref := r.Ref
	if ref == "" {
		ref = "HEAD"
	}
	if strings.ContainsAny(ref, ":\x00") {
		return nil, commit, errUseTarball
	}
	gh := d.client(hc)
	tr := &treeRead{r: r, pending: map[string]string{}, budget: treeAnswerBytes}
	var first struct {
		Repository *struct {
			Commit *gqlTree `json:"commit"`
			Tree   *gqlTree `json:"tree"`
		} `json:"repository"`
	}
	vars := map[string]any{"owner": r.Repo.Owner, "name": r.Repo.Name, "commit": ref, "dir": ref + ":" + dir}
	if err := d.treeQuery(ctx, gh, tr, firstTreeQuery, vars, &first); err != nil {
		return nil, commit, err
	}
	rp := first.Repository
	if rp == nil || rp.Commit == nil || rp.Commit.Typename != "Commit" || !isHexOID(rp.Commit.OID) {
		return nil, commit, errUseTarball // a missing ref, or a tag: the tarball says what it is
	}
	commit = rp.Commit.OID
	if rp.Tree == nil {
		// No such path at an existing commit: the portable client says
		// the directory is not found.
		return &driver.Tree{Files: []driver.TreeFile{}, CommitID: commit}, commit, nil
	}
	if rp.Tree.Typename != "Tree" {
		return nil, commit, errUseTarball // a file, not a directory
	}
	if err := tr.walk("", rp.Tree.Entries, 1); err != nil {
		return nil, commit, err
	}
	for q := 1; len(tr.pending) > 0; q++ {
		if q >= treeQueries || len(tr.pending) > treeMaxSubtrees {
			return nil, commit, errUseTarball
		}
		if err := d.subtreeQuery(ctx, gh, tr); err != nil {
			return nil, commit, err
		}
	}
	for _, b := range tr.blobs {
		content, err := d.readBlob(ctx, gh, r.Repo, b.oid)
		if err != nil {
			return nil, commit, err
		}
		if int64(len(content)) != b.size {
			return nil, commit, errUseTarball // not the blob the limits were checked against
		}
		tr.files[b.i].Content = content
	}
	return &driver.Tree{Files: tr.files, CommitID: commit, Filtered: tr.skipped}, commit, nil
}

// readBlob reads the blob oid (GET /repos/{o}/{r}/git/blobs/{oid}),
// checked against its id. Every failure but a cancelled context is
// errUseTarball.
func (d *Driver) readBlob(ctx context.Context, gh *github.Client, repo driver.Repo, oid string) ([]byte, error) {
	b, _, err := gh.Git.GetBlob(ctx, repo.Owner, repo.Name, oid)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errUseTarball
	}
	if b.GetEncoding() != "base64" || b.Content == nil {
		return nil, errUseTarball
	}
	content, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(b.GetContent(), "\n", ""))
	if err != nil || !strings.EqualFold(driver.BlobID(content), oid) {
		return nil, errUseTarball
	}
	return content, nil
}

// subtreeQuery reads the pending subtrees, treeLevels levels deep, with
// one query.
func (d *Driver) subtreeQuery(ctx context.Context, gh *github.Client, tr *treeRead) error {
	paths := make([]string, 0, len(tr.pending))
	var q strings.Builder
	q.WriteString("query($owner:String!,$name:String!){repository(owner:$owner,name:$name){")
	sel := treeSelection(treeLevels)
	for p, oid := range tr.pending {
		if !isHexOID(oid) {
			return errUseTarball
		}
		fmt.Fprintf(&q, "t%d:object(oid:%q){__typename ... on Tree{%s}} ", len(paths), oid, sel)
		paths = append(paths, p)
	}
	q.WriteString("}}")
	var ans struct {
		Repository map[string]*gqlTree `json:"repository"`
	}
	vars := map[string]any{"owner": tr.r.Repo.Owner, "name": tr.r.Repo.Name}
	if err := d.treeQuery(ctx, gh, tr, q.String(), vars, &ans); err != nil {
		return err
	}
	clear(tr.pending)
	for i, p := range paths {
		t := ans.Repository["t"+strconv.Itoa(i)]
		if t == nil || t.Typename != "Tree" {
			return errUseTarball
		}
		if err := tr.walk(p+"/", t.Entries, 1); err != nil {
			return err
		}
	}
	return nil
}

// walk adds the files of entries, found at prefix (relative to Dir, ""
// or ending in "/"), level levels below the query's tree.
func (tr *treeRead) walk(prefix string, entries []gqlTreeEntry, level int) error {
	for i := range entries {
		e := &entries[i]
		if err := checkEntryName(prefix, e.Name); err != nil {
			return err
		}
		rel := prefix + e.Name
		switch {
		case e.Mode == modeTree && e.Type == "tree":
			if level >= treeLevels || e.Object == nil {
				tr.pending[rel] = e.OID
				continue
			}
			if err := tr.walk(rel+"/", e.Object.Entries, level+1); err != nil {
				return err
			}
		case (e.Mode == modeFile || e.Mode == modeExecutable) && e.Type == "blob" && e.Object != nil && e.Object.ByteSize != nil:
			if err := tr.add(rel, e); err != nil {
				return err
			}
		default:
			// A symbolic link (the archive checks its target), a
			// submodule, or an entry GraphQL did not describe.
			return errUseTarball
		}
	}
	return nil
}

// add keeps the file rel, applying Filter and the limits as the archive
// reader does, before it looks at the content: an oversized tree fails
// here whatever its files hold.
func (tr *treeRead) add(rel string, e *gqlTreeEntry) error {
	o := e.Object
	size := *o.ByteSize
	if tr.r.Filter != nil && !tr.r.Filter(rel, size) {
		tr.skipped++
		return nil
	}
	if max := tr.r.MaxFiles; max > 0 && len(tr.files) >= max {
		return errcode.Newf(errcode.InvalidArgument, "", "tree has more than %d files; raise TreeOptions.MaxFiles", max)
	}
	if max := tr.r.MaxBytes; max > 0 && size > max {
		return errcode.Newf(errcode.InvalidArgument, "", "tree file %q is larger than %d bytes", rel, max)
	}
	if tr.bytes += size; tr.r.MaxBytes > 0 && tr.bytes > tr.r.MaxBytes {
		return errcode.Newf(errcode.InvalidArgument, "", "tree holds more than %d bytes of files; raise TreeOptions.MaxBytes", tr.r.MaxBytes)
	}
	if len(tr.files) >= treeMaxFiles {
		return errUseTarball
	}
	// Only text that is exactly the blob is kept: GitHub gives null for
	// a binary, cuts large blobs (isTruncated), and may transcode a text
	// it does not take for UTF-8; the blob id catches any difference.
	if o.Text == nil || o.IsBinary == nil || *o.IsBinary || o.IsTruncated || int64(len(*o.Text)) != size {
		if len(tr.blobs) >= treeBlobFetches || size > treeBlobMaxBytes || !isHexOID(e.OID) {
			return errUseTarball
		}
		tr.blobs = append(tr.blobs, treeBlob{len(tr.files), e.OID, size})
		tr.files = append(tr.files, driver.TreeFile{Path: rel, Executable: e.Mode == modeExecutable})
		return nil
	}
	content := []byte(*o.Text)
	if !strings.EqualFold(driver.BlobID(content), e.OID) {
		return errUseTarball
	}
	tr.files = append(tr.files, driver.TreeFile{Path: rel, Content: content, Executable: e.Mode == modeExecutable})
	return nil
}

// checkEntryName refuses an entry name the archive reader would refuse in
// a path, and the names git itself never writes in a tree ("", ".", "..",
// or one holding a "/"), with InvalidArgument.
func checkEntryName(prefix, name string) error {
	var why string
	switch {
	case name == "" || name == ".":
		why = "empty or \".\" name"
	case name == "..":
		why = "path contains \"..\""
	case strings.Contains(name, "/"):
		why = "name contains \"/\""
	case strings.ContainsAny(name, "\\\x00"):
		why = "name contains a backslash or NUL"
	case !utf8.ValidString(name):
		why = "name is not valid UTF-8"
	default:
		return nil
	}
	return errcode.Newf(errcode.InvalidArgument, "", "tree entry %s: %s", strconv.Quote(abbrevName(prefix+name)), why)
}

// abbrevName cuts a path to its first 64 bytes, so that an error never
// carries a huge name.
func abbrevName(p string) string {
	if len(p) <= 64 {
		return p
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "..."
}

func isHexOID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// treeQuery posts one query of a tree read, reading at most tr.budget
// bytes of answer, and decodes its data into out. Every failure but a
// cancelled context is errUseTarball: a refused query (an anonymous
// caller, an instance without the fields), an error answer, or an answer
// past the budget.
func (d *Driver) treeQuery(ctx context.Context, gh *github.Client, tr *treeRead, query string, vars map[string]any, out any) error {
	req, err := gh.NewRequest(http.MethodPost, d.graphqlURL, map[string]any{"query": query, "variables": vars})
	if err != nil {
		return errUseTarball
	}
	resp, err := gh.BareDo(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errUseTarball
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, tr.budget+1))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errUseTarball
	}
	if tr.budget -= n; tr.budget < 0 {
		return errUseTarball // very large: the archive is cheaper
	}
	var answer struct {
		Data   json.RawMessage    `json:"data"`
		Errors []GraphQLErrorItem `json:"errors"`
	}
	if err := json.Unmarshal(buf.Bytes(), &answer); err != nil || len(answer.Errors) > 0 || len(answer.Data) == 0 {
		return errUseTarball
	}
	if err := json.Unmarshal(answer.Data, out); err != nil {
		return errUseTarball
	}
	return nil
}
