package githubscm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// treeFile is a file of a tree snapshot: its content and whether it is
// executable.
type treeFile struct {
	Content    string
	Executable bool
}

// snapshot returns every file of fsys.
func snapshot(t *testing.T, fsys fs.FS) map[string]treeFile {
	t.Helper()
	out := map[string]treeFile{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = treeFile{Content: string(data), Executable: info.Mode().Perm()&0o111 != 0}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// textFiles returns n small text files under dir.
func textFiles(dir string, n int) []fakegithub.File {
	var out []fakegithub.File
	for i := range n {
		out = append(out, fakegithub.File{Path: fmt.Sprintf("%s/f%04d.txt", dir, i), Content: []byte(fmt.Sprintf("file %d\n", i))})
	}
	return out
}

// TestReadTreeGraphQLOrTarball reads folders through the portable client
// and checks which way each is read (GraphQL queries, tarball requests
// and downloads) and that the snapshot is the folder's, exactly.
func TestReadTreeGraphQLOrTarball(t *testing.T) {
	base := []fakegithub.File{
		{Path: "README.md", Content: []byte("# svc\n")},
		{Path: "big/blob.bin", Content: make([]byte, 1<<20)}, // elsewhere in the repository
		{Path: "t/template.yaml", Content: []byte("kind: Template\n")},
		{Path: "t/skeleton/README.md", Content: []byte("# ${{ values.name }}\n")},
		{Path: "t/skeleton/run.sh", Content: []byte("#!/bin/sh\necho hi\n"), Executable: true},
		{Path: "t/skeleton/src/ünï cödé.txt", Content: []byte("naïve\r\ncafé\n")},
	}
	with := func(files ...fakegithub.File) []fakegithub.File {
		return append(append([]fakegithub.File{}, base...), files...)
	}
	big := strings.Repeat("0123456789abcdef\n", 600_000/17) // over GitHub's text limit
	tests := []struct {
		name     string
		files    []fakegithub.File
		dir      string
		opts     *scm.TreeOptions
		queries  int  // GraphQL queries
		blobs    int  // blob reads (GET git/blobs/{sha})
		tarball  bool // the tarball read (1 API request and 1 download)
		noCommit bool // TreeCommitID unknown (the query's answer was not read)
		wantCode errcode.Code
	}{
		{name: "text folder, 3 levels", files: base, dir: "t", queries: 1},
		{name: "6 levels: one more query", files: with(fakegithub.File{Path: "t/a/b/c/d/e/deep.txt", Content: []byte("deep\n")}), dir: "t", queries: 2},
		{name: "by commit id", files: base, dir: "t/skeleton", queries: 1},
		{name: "binary file", files: with(fakegithub.File{Path: "t/logo.png", Content: []byte{0x89, 'P', 'N', 'G', 0, 1, 2}}), dir: "t", queries: 1, blobs: 1},
		{name: "two binary files", files: with(fakegithub.File{Path: "t/logo.png", Content: []byte{0x89, 'P', 'N', 'G', 0, 1, 2}},
			fakegithub.File{Path: "t/skeleton/icon.ico", Content: []byte{0, 0, 1, 0, 1}}), dir: "t", queries: 1, tarball: true},
		{name: "binary file over 1 MiB", files: with(fakegithub.File{Path: "t/logo.png", Content: append([]byte{0x89, 'P', 'N', 'G', 0}, make([]byte, 1<<20)...)}), dir: "t", queries: 1, tarball: true},
		{name: "binary file left out by Filter", files: with(fakegithub.File{Path: "t/logo.png", Content: []byte{0x89, 'P', 'N', 'G', 0, 1, 2}}), dir: "t",
			opts: &scm.TreeOptions{Filter: func(p string, _ int64) bool { return !strings.HasSuffix(p, ".png") }}, queries: 1},
		{name: "truncated text", files: with(fakegithub.File{Path: "t/big.txt", Content: []byte(big)}), dir: "t", queries: 1, blobs: 1},
		{name: "symbolic link", files: with(fakegithub.File{Path: "t/link", Content: []byte("template.yaml"), Symlink: true}), dir: "t", queries: 1, tarball: true},
		{name: "over 1,000 files", files: with(textFiles("t/many", 1001)...), dir: "t", queries: 1, tarball: true},
		{name: "over 4 MiB of answers", files: with(func() []fakegithub.File {
			var out []fakegithub.File
			for i := range 10 {
				out = append(out, fakegithub.File{Path: fmt.Sprintf("t/large/%d.txt", i), Content: []byte(big[:450_000] + fmt.Sprint(i))})
			}
			return out
		}()...), dir: "t", queries: 1, tarball: true, noCommit: true},
		{name: "repository root", files: base[:1], dir: "", tarball: true, noCommit: true},
		{name: "missing folder", files: base, dir: "no/such", queries: 1, wantCode: errcode.NotFound},
		{name: "MaxFiles", files: base, dir: "t", opts: &scm.TreeOptions{MaxFiles: 2}, queries: 1, wantCode: errcode.InvalidArgument},
		{name: "MaxBytes", files: base, dir: "t", opts: &scm.TreeOptions{MaxBytes: 20}, queries: 1, wantCode: errcode.InvalidArgument},
		{name: "MaxDepth", files: base, dir: "t", opts: &scm.TreeOptions{MaxDepth: 2}, queries: 1, wantCode: errcode.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, false, nil)
			commit := e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: tt.files})
			ref := "main"
			if tt.name == "by commit id" {
				ref = commit
			}
			u := e.web("acme/svc/tree/" + ref)
			if tt.dir != "" {
				u += "/" + tt.dir
			}
			before := e.s.Stats()
			fsys, err := e.c.ReadTree(t.Context(), u, tt.opts)
			after := e.s.Stats()
			routes := diffRoutes(before.Routes, after.Routes)
			if q := routes["POST /graphql"]; q != tt.queries {
				t.Errorf("GraphQL queries = %d; want %d (routes %v)", q, tt.queries, routes)
			}
			if b := routes["GET /repos/{owner}/{repo}/git/blobs/{sha}"]; b != tt.blobs {
				t.Errorf("blob reads = %d; want %d", b, tt.blobs)
			}
			tarballs, downloads := routes["GET /repos/{owner}/{repo}/tarball/{ref...}"], after.Download-before.Download
			if want := map[bool]int{true: 1}[tt.tarball]; tarballs != want || downloads != want {
				t.Errorf("tarball requests %d, downloads %d; want %d of each", tarballs, downloads, want)
			}
			if tt.wantCode != errcode.OK {
				if scm.Code(err) != tt.wantCode {
					t.Fatalf("ReadTree: %v; want %v", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadTree: %v", err)
			}
			want := map[string]treeFile{}
			prefix := tt.dir + "/"
			for _, f := range tt.files {
				rel, ok := strings.CutPrefix(f.Path, prefix)
				if tt.dir == "" {
					rel, ok = f.Path, true
				}
				if ok && !f.Symlink && (tt.opts == nil || tt.opts.Filter == nil || tt.opts.Filter(rel, int64(len(f.Content)))) {
					want[rel] = treeFile{Content: string(f.Content), Executable: f.Executable}
				}
			}
			if diff := cmp.Diff(want, snapshot(t, fsys)); diff != "" {
				t.Errorf("snapshot (-want +got):\n%s", diff)
			}
			if got := scm.TreeCommitID(fsys); !tt.noCommit && got != commit {
				t.Errorf("TreeCommitID = %q; want %q", got, commit)
			}
		})
	}
}

// TestReadTreeGraphQLRefused: a GraphQL query GitHub refuses or fails
// (here a 502) is followed by the tarball, which gives the tree.
func TestReadTreeGraphQLRefused(t *testing.T) {
	e := newEnv(t, false, nil)
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{{Path: "t/a.txt", Content: []byte("a\n")}}})
	e.s.Inject(fake.Fault{Kind: fake.FaultServerError, Status: 502, Method: http.MethodPost, Path: "/graphql"})
	before := e.s.Stats()
	fsys, err := e.c.ReadTree(t.Context(), e.web("acme/svc/tree/main/t"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, fsys); len(got) != 1 || got["a.txt"].Content != "a\n" {
		t.Errorf("snapshot = %v; want a.txt", got)
	}
	if d := e.s.Stats().Download - before.Download; d != 1 {
		t.Errorf("downloads = %d; want 1 (the tarball after the refused query)", d)
	}
}

// TestReadTreeGraphQLCancelled: a read cancelled while its query waits
// returns promptly, Canceled, and reads no tarball.
func TestReadTreeGraphQLCancelled(t *testing.T) {
	e := newEnv(t, false, nil)
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{{Path: "t/a.txt", Content: []byte("a\n")}}})
	e.s.Inject(fake.Fault{Kind: fake.FaultSlow, Delay: 10 * time.Second, Method: http.MethodPost, Path: "/graphql"})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := e.c.ReadTree(ctx, e.web("acme/svc/tree/main/t"), nil)
	if scm.Code(err) != scm.Canceled || time.Since(start) > 5*time.Second {
		t.Fatalf("ReadTree cancelled: %v after %v; want Canceled at once", err, time.Since(start))
	}
	if d := e.s.Stats().Download; d != 0 {
		t.Errorf("downloads = %d; want 0", d)
	}
}

// craftedGitHub answers POST /graphql with answer (the data of the tree
// query) and counts the tarball requests, which it answers 500.
func craftedGitHub(t *testing.T, answer string) (*githubscm.Driver, *atomic.Int32) {
	t.Helper()
	var tarballs atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost && r.URL.Path == "/graphql" {
			fmt.Fprintf(w, `{"data":%s}`, answer)
			return
		}
		if strings.Contains(r.URL.Path, "/tarball") {
			tarballs.Add(1)
		}
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"message":"no"}`)
	}))
	t.Cleanup(srv.Close)
	d, err := githubscm.New(&integrations.Integration{Kind: integrations.GitHub, Host: strings.TrimPrefix(srv.URL, "http://"), APIBaseURL: srv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, &tarballs
}

// treeAnswer is the data of a tree query at commit c0ffee... holding
// entries.
func treeAnswer(entries ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"repository": map[string]any{
		"commit": map[string]any{"__typename": "Commit", "oid": strings.Repeat("c0ffee", 6) + "c0ff"},
		"tree":   map[string]any{"__typename": "Tree", "oid": strings.Repeat("a", 40), "entries": entries}}})
	return string(b)
}

func blobEntry(name, text, oid string) map[string]any {
	return map[string]any{"name": name, "type": "blob", "mode": 0o100644, "oid": oid,
		"object": map[string]any{"byteSize": len(text), "isBinary": false, "isTruncated": false, "text": text}}
}

// TestReadTreeGraphQLHostile: entry names the archive reader refuses are
// refused (InvalidArgument) without the tarball; a text that is not the
// blob (GitHub transcoded it, or a hostile answer) sends the read to the
// tarball.
func TestReadTreeGraphQLHostile(t *testing.T) {
	good := func(name string) map[string]any { return blobEntry(name, "x\n", fakegithub.BlobSHA([]byte("x\n"))) }
	tests := []struct {
		name    string
		answer  string
		code    errcode.Code
		tarball bool
	}{
		{"dot-dot", treeAnswer(good("..")), errcode.InvalidArgument, false},
		{"slash", treeAnswer(good("a/../../etc/passwd")), errcode.InvalidArgument, false},
		{"empty", treeAnswer(good("")), errcode.InvalidArgument, false},
		{"dot", treeAnswer(good(".")), errcode.InvalidArgument, false},
		{"backslash", treeAnswer(good(`..\x`)), errcode.InvalidArgument, false},
		{"dot-dot in a subtree", treeAnswer(map[string]any{"name": "sub", "type": "tree", "mode": 0o40000, "oid": strings.Repeat("b", 40),
			"object": map[string]any{"entries": []any{good("..")}}}), errcode.InvalidArgument, false},
		{"text not the blob", treeAnswer(blobEntry("a.txt", "x\n", strings.Repeat("d", 40))), errcode.Unavailable, true},
		{"size not the text's", treeAnswer(map[string]any{"name": "a.txt", "type": "blob", "mode": 0o100644, "oid": fakegithub.BlobSHA([]byte("x\n")),
			"object": map[string]any{"byteSize": 1, "isBinary": false, "isTruncated": false, "text": "x\n"}}), errcode.Unavailable, true},
		{"submodule", treeAnswer(map[string]any{"name": "mod", "type": "commit", "mode": 0o160000, "oid": strings.Repeat("e", 40), "object": nil}), errcode.Unavailable, true},
		{"isBinary unknown", treeAnswer(map[string]any{"name": "a.txt", "type": "blob", "mode": 0o100644, "oid": fakegithub.BlobSHA([]byte("x\n")),
			"object": map[string]any{"byteSize": 2, "isBinary": nil, "isTruncated": false, "text": "x\n"}}), errcode.Unavailable, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, tarballs := craftedGitHub(t, tt.answer)
			_, err := d.ReadTree(t.Context(), http.DefaultClient, &driver.TreeRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Dir: "t",
				MaxFiles: 100, MaxBytes: 1 << 20})
			// The tarball's 500 is Unavailable once classified: check
			// the driver's error through ErrorInfo.
			if got := d.ErrorInfo(err).Code; got != tt.code {
				t.Errorf("ReadTree: %v (%v); want %v", err, got, tt.code)
			}
			if got := tarballs.Load() > 0; got != tt.tarball {
				t.Errorf("tarball requested: %v; want %v", got, tt.tarball)
			}
		})
	}
	t.Run("good answer", func(t *testing.T) {
		d, tarballs := craftedGitHub(t, treeAnswer(good("a.txt")))
		tree, err := d.ReadTree(t.Context(), http.DefaultClient, &driver.TreeRequest{Repo: driver.Repo{Owner: "acme", Name: "svc"}, Dir: "t",
			MaxFiles: 100, MaxBytes: 1 << 20})
		if err != nil || tarballs.Load() != 0 {
			t.Fatalf("ReadTree: %v, %d tarball requests; want the files", err, tarballs.Load())
		}
		want := []driver.TreeFile{{Path: "a.txt", Content: []byte("x\n")}}
		if diff := cmp.Diff(want, tree.Files); diff != "" || tree.CommitID != strings.Repeat("c0ffee", 6)+"c0ff" {
			t.Errorf("files (-want +got):\n%s\ncommit %q", diff, tree.CommitID)
		}
	})
}
