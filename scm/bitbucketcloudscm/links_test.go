package bitbucketcloudscm_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// linkRepo serves, as Bitbucket Cloud documents its /src listing, a
// directory holding a file, an executable, a symbolic link pointing out of
// the repository (its content is the target) and a submodule (its content
// is a commit id), and refuses the archive download as it does for access
// tokens. It records the paths read. The listing ends with the extra
// entries (JSON objects), each of which is served as a file when read.
func linkRepo(t *testing.T, extra ...string) (*bitbucketcloudscm.Driver, *http.Client, func() []string) {
	t.Helper()
	files := map[string]struct {
		attrs   string
		content string
	}{
		"tpl/a.txt":  {`[]`, "a\n"},
		"tpl/run.sh": {`["executable"]`, "#!/bin/sh\n"},
		"tpl/ln":     {`["link"]`, "../../../etc/passwd"},
		"tpl/sub":    {`["subrepository"]`, "0123456789abcdef0123456789abcdef01234567"},
	}
	var (
		mu   sync.Mutex
		read []string
	)
	const src = "/2.0/repositories/acme/svc/src/main/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := strings.CutPrefix(r.URL.EscapedPath(), src)
		switch {
		case strings.HasSuffix(r.URL.Path, ".tar.gz"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"type":"error","error":{"message":"Access denied"}}`)
		case ok && (p == "tpl/" || p == ""):
			var vals []string
			for _, name := range slices.Sorted(func(yield func(string) bool) {
				for k := range files {
					if !yield(k) {
						return
					}
				}
			}) {
				f := files[name]
				vals = append(vals, fmt.Sprintf(`{"path":%q,"type":"commit_file","attributes":%s,"size":%d}`, name, f.attrs, len(f.content)))
			}
			vals = append(vals, extra...)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"pagelen":100,"page":1,"size":%d,"values":[{"path":"tpl","type":"commit_directory"},%s]}`, len(vals), strings.Join(vals, ","))
		case ok:
			mu.Lock()
			read = append(read, p)
			mu.Unlock()
			f, found := files[p]
			if !found {
				f.content = "outside\n"
			}
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, f.content)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	d, err := bitbucketcloudscm.New(&integrations.Integration{Kind: integrations.BitbucketCloud, Host: u.Host,
		APIBaseURL: srv.URL + "/2.0", BaseURL: srv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, srv.Client(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(read)
	}
}

// TestTreeFallbackLeavesOutLinksAndSubmodules: when the archive is
// refused and the tree is read through the API, symbolic links and
// submodules are left out, as ReadTree documents and as the archive path
// does (a link's or submodule's /src content is its target or commit id,
// not a file of the tree), and they are not even read. ListFiles, which
// lists blobs, keeps the link and leaves out the submodule.
func TestTreeFallbackLeavesOutLinksAndSubmodules(t *testing.T) {
	d, hc, reads := linkRepo(t)
	repo := driver.Repo{Owner: "acme", Name: "svc"}
	tree, err := d.ReadTree(t.Context(), hc, &driver.TreeRequest{Repo: repo, Ref: "main", Dir: "tpl"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range tree.Files {
		got[f.Path] = fmt.Sprintf("%q exec=%v", f.Content, f.Executable)
	}
	want := map[string]string{"a.txt": `"a\n" exec=false`, "run.sh": `"#!/bin/sh\n" exec=true`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree files (-want +got):\n%s", diff)
	}
	if r := reads(); slices.Contains(r, "tpl/ln") || slices.Contains(r, "tpl/sub") {
		t.Errorf("read %v; want no read of the link or the submodule", r)
	}

	l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: repo, Ref: "main", Dir: "tpl"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"tpl/a.txt", "tpl/ln", "tpl/run.sh"}, l.Paths); diff != "" {
		t.Errorf("ListFiles (-want +got):\n%s", diff)
	}
}

// TestTreeFallbackRefusesPathsOutsideDir: a listing (from a hostile or
// broken host) that names a path outside the directory listed, or one with
// a ".." element, fails the fallback tree and ListFiles with
// InvalidArgument, as such an archive entry does, before any file is read:
// no file from elsewhere in the repository lands in the snapshot. A
// backslash, legal in a git file name, is listed, but refuses the tree
// before any read, as it refuses an archive.
func TestTreeFallbackRefusesPathsOutsideDir(t *testing.T) {
	for _, tc := range []struct {
		entry  string
		listed bool
	}{
		{entry: `{"path":"other/secret.txt","type":"commit_file","attributes":[],"size":8}`},
		{entry: `{"path":"tpl/../../etc/passwd","type":"commit_file","attributes":[],"size":8}`},
		{entry: `{"path":"tpl/./a.txt","type":"commit_file","attributes":[],"size":8}`},
		{entry: `{"path":"/tpl/abs","type":"commit_file","attributes":[],"size":8}`},
		{entry: `{"path":"tpl/nul\u0000","type":"commit_file","attributes":[],"size":8}`},
		{entry: `{"path":"tpl/x\\..\\y","type":"commit_file","attributes":[],"size":8}`, listed: true},
	} {
		entry := tc.entry
		t.Run(entry, func(t *testing.T) {
			d, hc, reads := linkRepo(t, entry)
			repo := driver.Repo{Owner: "acme", Name: "svc"}
			tree, err := d.ReadTree(t.Context(), hc, &driver.TreeRequest{Repo: repo, Ref: "main", Dir: "tpl"})
			if got := d.ErrorInfo(err).Code; got != errcode.InvalidArgument {
				var paths []string
				if tree != nil {
					for _, f := range tree.Files {
						paths = append(paths, f.Path)
					}
				}
				t.Errorf("ReadTree: %v (%v), files %q; want InvalidArgument", got, err, paths)
			}
			if r := reads(); len(r) > 0 {
				t.Errorf("read %q; want no read", r)
			}
			l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: repo, Ref: "main", Dir: "tpl"})
			if tc.listed {
				if err != nil || len(l.Paths) != 4 {
					t.Errorf("ListFiles: %+v, %v; want the 4 files", l, err)
				}
			} else if got := d.ErrorInfo(err).Code; got != errcode.InvalidArgument {
				t.Errorf("ListFiles: %v (%v), %+v; want InvalidArgument", got, err, l)
			}
		})
	}
}

// TestDotSegmentSlugRefused: a workspace or repository name whose slug is
// a dot segment ("!.." gives "..") would make /repositories/acme/../src/...,
// which dot-segment normalisation turns into another resource of the same
// host (the credential goes along): refused with InvalidArgument before
// any request, through go-bitbucket too (an empty ref reads the main
// branch with it).
func TestDotSegmentSlugRefused(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	defer fake.Close()
	d, hc := driverFor(t, fake, nil)
	for _, tc := range []struct{ owner, name, ref string }{
		{workspace, "!..", "main"}, {workspace, "!..", ""}, {"!..", "svc", "main"}, {workspace, " .", ""},
	} {
		before := fake.Stats()
		_, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: driver.Repo{Owner: tc.owner, Name: tc.name}, Ref: tc.ref, Path: "README.md"})
		after := fake.Stats()
		if got := d.ErrorInfo(err).Code; got != errcode.InvalidArgument || after.API+after.Web != before.API+before.Web {
			t.Errorf("ReadFile of %s/%s at %q: %v (%v) after %d requests; want InvalidArgument after 0", tc.owner, tc.name, tc.ref, got, err,
				after.API+after.Web-before.API-before.Web)
		}
	}
}

// TestNoCodeSearchKeepsTreeVersion: the drivers that Opener opens with
// NoCodeSearch keep every capability but FindFiles, TreeVersion included:
// a conditional ReadTree of an unchanged directory costs 1 request with
// them too, not the whole repository's archive.
func TestNoCodeSearchKeepsTreeVersion(t *testing.T) {
	fake := newWorld(t, nil)
	defer fake.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	cfg := integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Username: user, Token: integrations.NewSecret(goodToken)}}}
	c := adaptertest.NewClient(t, cfg, &scm.Options{Transport: tr, Drivers: map[integrations.Kind]driver.Opener{
		integrations.BitbucketCloud: bitbucketcloudscm.Opener(&bitbucketcloudscm.Options{NoCodeSearch: true})}})
	u := fake.URL() + "/" + workspace + "/" + scmtest.BasicRepo + "/src/main/templates/service/"
	fsys, err := c.ReadTree(t.Context(), u, &scm.TreeOptions{WithETag: true})
	if err != nil {
		t.Fatal(err)
	}
	etag := scm.TreeETag(fsys)
	if etag == "" {
		t.Fatal("ReadTree with WithETag gave no ETag")
	}
	before := fake.Stats()
	_, err = c.ReadTree(t.Context(), u, &scm.TreeOptions{IfNoneMatch: etag})
	after := fake.Stats()
	if scm.Code(err) != scm.NotModified || after.API+after.Web-before.API-before.Web != 1 {
		t.Errorf("conditional ReadTree of an unchanged directory: %v after %d requests; want NotModified after 1", err,
			after.API+after.Web-before.API-before.Web)
	}
}

// TestNoCodeSearchMethods: the driver Opener opens with NoCodeSearch has
// every exported method of *Driver but FindFiles, so that no optional
// capability (driver.TreeVersioner, driver.RepositoryCreator, ...) is lost
// when one is added to Driver.
func TestNoCodeSearchMethods(t *testing.T) {
	fake := newWorld(t, nil)
	defer fake.Close()
	in := adaptertest.Integration(t, integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Token: integrations.NewSecret(accessToken)}}}, fake.Host())
	d, err := bitbucketcloudscm.Opener(&bitbucketcloudscm.Options{NoCodeSearch: true})(in)
	if err != nil {
		t.Fatal(err)
	}
	full, got := reflect.TypeOf((*bitbucketcloudscm.Driver)(nil)), reflect.TypeOf(d)
	for i := range full.NumMethod() {
		name := full.Method(i).Name
		if _, ok := got.MethodByName(name); !ok && name != "FindFiles" {
			t.Errorf("the NoCodeSearch driver has no %s method", name)
		}
	}
	if _, ok := d.(driver.FileFinder); ok {
		t.Error("the NoCodeSearch driver is a driver.FileFinder")
	}
}

// htmlListing answers the recursive listings (max_depth) with a 200 HTML
// page, as a misbehaving proxy might, and forwards the rest.
type htmlListing struct{ base http.RoundTripper }

func (h htmlListing) RoundTrip(r *http.Request) (*http.Response, error) {
	if !r.URL.Query().Has("max_depth") {
		return h.base.RoundTrip(r)
	}
	const page = "<html><body>Log in</body></html>"
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Request: r, Header: http.Header{"Content-Type": {"text/html"}},
		Body: io.NopCloser(strings.NewReader(page)), ContentLength: int64(len(page))}, nil
}

// noDisposition drops the answers' Content-Disposition.
type noDisposition struct{ base http.RoundTripper }

func (n noDisposition) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := n.base.RoundTrip(r)
	if resp != nil {
		resp.Header.Del("Content-Disposition")
	}
	return resp, err
}

// TestListFilesUnderAFile: Bitbucket answers the listing of a path that
// is a file with the file's content; ListFiles then lists nothing (as on
// Bitbucket Data Center, whose "not a directory" answer gives no files),
// so Search under a file finds nothing instead of failing (Unknown). The
// path is confirmed to be a file (?format=meta): another answer that is
// not a listing (a proxy's page) still fails.
func TestListFilesUnderAFile(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	defer fake.Close()
	d, hc := driverFor(t, fake, nil)
	repo := driver.Repo{Owner: workspace, Name: scmtest.BasicRepo}
	l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: repo, Ref: "main", Dir: "README.md"})
	if err != nil || len(l.Paths) != 0 || l.Truncated {
		t.Errorf("ListFiles under a file = %+v, %v; want no files", l, err)
	}
	// Without the Content-Disposition that marks a file's content (a
	// proxy may drop it), ?format=meta confirms the file.
	base := hc.Transport
	hc.Transport = noDisposition{base}
	l, err = d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: repo, Ref: "main", Dir: "README.md"})
	if err != nil || len(l.Paths) != 0 || l.Truncated {
		t.Errorf("ListFiles under a file, its content unmarked = %+v, %v; want no files", l, err)
	}
	hc.Transport = htmlListing{base}
	l, err = d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: repo, Ref: "main", Dir: "templates"})
	if err == nil {
		t.Errorf("ListFiles answered by an HTML page = %+v; want an error", l)
	}
}

// TestNewlineInPathRefused: a multipart field name cannot carry CR or LF
// (they are written %0D and %0A, which Bitbucket takes literally), so a
// change whose path holds one would be committed under another name:
// refused with InvalidArgument before any request.
func TestNewlineInPathRefused(t *testing.T) {
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	defer fake.Close()
	d, hc := driverFor(t, fake, nil)
	for _, p := range []string{"a\nb.txt", "dir/c\rd.txt"} {
		before := fake.Stats()
		_, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: driver.Repo{Owner: workspace, Name: scmtest.BasicRepo},
			Base: "main", Branch: "gen/newline", Title: "t", Changes: []driver.Change{{Path: p, Content: []byte("x\n")}}})
		after := fake.Stats()
		if got := d.ErrorInfo(err).Code; got != errcode.InvalidArgument || after.API+after.Web != before.API+before.Web {
			t.Errorf("OpenPullRequest writing %q: %v (%v) after %d requests; want InvalidArgument after 0", p, got, err,
				after.API+after.Web-before.API-before.Web)
		}
	}
	if files, _ := fake.Files(workspace, scmtest.BasicRepo, "gen/newline"); len(files) != 0 {
		t.Errorf("branch gen/newline holds %d files; want no branch", len(files))
	}
}
