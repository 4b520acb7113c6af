package bitbucketcloudscm_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest"
	fakekit "github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// checkedRepo is a repository with eleven files in conf/, for pull requests
// whose changes are checked (Create, Update, Delete).
const checkedRepo = "checked"

// oddName is a file of checkedRepo whose name a query must quote.
const oddName = `conf/say "hi" OR \ AND path = "x".yaml`

func addCheckedRepo(t testing.TB, fake *fakebitbucketcloud.Server) {
	t.Helper()
	var files []fakekit.File
	for i := range 10 {
		files = append(files, fakekit.File{Path: fmt.Sprintf("conf/f%02d.yaml", i), Content: []byte(fmt.Sprintf("n: %d\n", i))})
	}
	files = append(files, fakekit.File{Path: oddName, Content: []byte("odd\n")})
	if _, err := fake.AddRepo(fakebitbucketcloud.Repo{Workspace: workspace, Slug: checkedRepo, Files: files}); err != nil {
		t.Fatal(err)
	}
}

// checkedChanges are ten changes in conf/: four Updates and two Deletes of
// files that exist, four Creates of files named by tag that do not.
func checkedChanges(tag string) []scm.Change {
	var ch []scm.Change
	for i := range 4 {
		ch = append(ch, scm.Change{Path: fmt.Sprintf("conf/f%02d.yaml", i), Action: scm.Update, Content: []byte("updated\n")})
	}
	for i := 4; i < 6; i++ {
		ch = append(ch, scm.Change{Path: fmt.Sprintf("conf/f%02d.yaml", i), Action: scm.Delete})
	}
	for i := range 4 {
		ch = append(ch, scm.Change{Path: fmt.Sprintf("conf/new-%s-%d.yaml", tag, i), Action: scm.Create, Content: []byte("new\n")})
	}
	return ch
}

// BenchmarkBitbucketCloudOpenPullRequestChecked opens a pull request with
// ten Create, Update and Delete changes in one directory on a new branch
// from an explicit base: each change's file must (not) exist.
func BenchmarkBitbucketCloudOpenPullRequestChecked(b *testing.B) {
	e := benchEnv(b)
	addCheckedRepo(b, e.fake)
	adaptertest.Bench(b, e.requests, func(i int) error {
		_, err := e.c.OpenPullRequest(b.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(checkedRepo), Base: "main",
			Branch: fmt.Sprintf("bench/%d", i+1), Title: "Generated", Changes: checkedChanges(fmt.Sprint(i + 1))})
		return err
	})
}

// BenchmarkBitbucketCloudReadFileDefaultBranch reads a file of the main
// branch, naming no ref (as discovery without code search reads
// catalog-info.yaml), again and again.
func BenchmarkBitbucketCloudReadFileDefaultBranch(b *testing.B) {
	e := newEnv(b, &fakebitbucketcloud.Options{Tokens: []string{accessToken}}, integrations.BitbucketCloudConfig{})
	d, hc := driverFor(b, e.fake, nil)
	adaptertest.Bench(b, e.requests, func(int) error {
		_, err := d.ReadFile(b.Context(), hc, &driver.ReadFileRequest{Repo: basicRepo, Path: "catalog-info.yaml"})
		return err
	})
}

// BenchmarkBitbucketCloudReadTreeDefaultBranch reads a directory of the
// main branch, naming no ref, again and again.
func BenchmarkBitbucketCloudReadTreeDefaultBranch(b *testing.B) {
	e := newEnv(b, &fakebitbucketcloud.Options{Tokens: []string{accessToken}}, integrations.BitbucketCloudConfig{})
	d, hc := driverFor(b, e.fake, nil)
	adaptertest.Bench(b, e.requests, func(int) error {
		t, err := d.ReadTree(b.Context(), hc, &driver.TreeRequest{Repo: basicRepo, Dir: "templates/service"})
		if err == nil && t.Archive != nil {
			t.Archive.Body.Close()
		}
		return err
	})
}

// BenchmarkBitbucketCloudReadTreeArchiveRefused reads a directory at a
// known ref with an access token, which the archive download refuses.
func BenchmarkBitbucketCloudReadTreeArchiveRefused(b *testing.B) {
	e := newEnv(b, &fakebitbucketcloud.Options{Tokens: []string{accessToken}, ArchiveRefusesBearer: true},
		integrations.BitbucketCloudConfig{Token: integrations.NewSecret(accessToken)})
	u := e.repoURL(scmtest.BasicRepo) + "/src/main/templates/service/"
	adaptertest.Bench(b, e.requests, func(int) error {
		_, err := e.c.ReadTree(b.Context(), u, nil)
		return err
	})
}

// counting is an http.RoundTripper that presents a Bearer token and counts
// requests and the bytes of the answers' bodies as received (compression
// off: what a server that does not compress sends).
type counting struct {
	base            http.RoundTripper
	token           string
	requests, bytes atomic.Int64
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+c.token)
	c.requests.Add(1)
	resp, err := c.base.RoundTrip(r)
	if resp != nil && resp.Body != nil {
		resp.Body = countedBody{ReadCloser: resp.Body, n: &c.bytes}
	}
	return resp, err
}

type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// BenchmarkBitbucketCloudTemplateTree compares, for a 21-file, 30 KiB
// template folder beside 20 MiB of other files and for a 300-file folder,
// the two ways ReadTree reads a folder: the web host's archive of the
// whole repository, and the API (the listing, then one read per file),
// which it takes when the archive refuses the credential. It reports
// requests/op and bytes/op (answer bodies received).
func BenchmarkBitbucketCloudTemplateTree(b *testing.B) {
	rng := rand.NewChaCha8([32]byte{1})
	var small []fakekit.File
	for i := range 21 {
		content := make([]byte, 1450)
		for j := range content {
			content[j] = 'a' + byte((i+j)%26)
		}
		small = append(small, fakekit.File{Path: fmt.Sprintf("templates/service/file%02d.txt", i), Content: content})
	}
	for i := range 20 {
		data := make([]byte, 1<<20)
		rng.Read(data)
		small = append(small, fakekit.File{Path: fmt.Sprintf("assets/blob%03d.bin", i), Content: data})
	}
	var big []fakekit.File
	for i := range 300 {
		big = append(big, fakekit.File{Path: fmt.Sprintf("templates/big/d%d/file%03d.txt", i%10, i), Content: fmt.Appendf(nil, "file %d\n", i)})
	}
	for _, world := range []struct {
		name  string
		files []fakekit.File
		dir   string
		want  int
	}{
		{"small folder in a 20 MiB repository", small, "templates/service", 21},
		{"300-file folder", big, "templates/big", 300},
	} {
		for _, path := range []string{"archive", "API"} {
			b.Run(world.name+"/"+path, func(b *testing.B) {
				fake := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Tokens: []string{accessToken}, ArchiveRefusesBearer: path == "API"})
				b.Cleanup(fake.Close)
				if _, err := fake.AddRepo(fakebitbucketcloud.Repo{Workspace: workspace, Slug: "mono", Files: world.files}); err != nil {
					b.Fatal(err)
				}
				d, _ := driverFor(b, fake, nil)
				tr := &http.Transport{DisableCompression: true}
				b.Cleanup(tr.CloseIdleConnections)
				cnt := &counting{base: tr, token: accessToken}
				hc := &http.Client{Transport: cnt}
				req := &driver.TreeRequest{Repo: driver.Repo{Owner: workspace, Name: "mono"}, Ref: "main", Dir: world.dir,
					MaxFiles: 1000, MaxBytes: 1 << 30, CredentialKey: "bench"}
				read := func() error {
					t, err := d.ReadTree(b.Context(), hc, req)
					if err != nil {
						return err
					}
					if t.Archive != nil {
						_, err = io.Copy(io.Discard, t.Archive.Body)
						t.Archive.Body.Close()
						return err
					}
					if len(t.Files) != world.want {
						return fmt.Errorf("%d files; want %d", len(t.Files), world.want)
					}
					return nil
				}
				if err := read(); err != nil { // the archive's refusal is learnt
					b.Fatal(err)
				}
				cnt.requests.Store(0)
				cnt.bytes.Store(0)
				b.ReportAllocs()
				for b.Loop() {
					if err := read(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cnt.requests.Load())/float64(b.N), "requests/op")
				b.ReportMetric(float64(cnt.bytes.Load())/float64(b.N), "bytes/op")
			})
		}
	}
}
