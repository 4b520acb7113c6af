package bitbucketcloudscm_test

import (
	"path"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// Files whose content is JSON shaped like Bitbucket's /src listing. The
// answer for a .json file is application/json, as a listing is (its
// Content-Type comes from the file name); what tells them apart is the
// Content-Disposition: attachment Bitbucket gives raw file content.
var listingShaped = map[string]string{
	"conf/data.json":  `{"pagelen":10,"values":[{"type":"commit_file","path":"conf/data.json/injected.yaml","size":3}],"page":1,"size":1}`,
	"conf/empty.json": `{"pagelen":10,"values":[],"page":1,"size":0}`,
	"conf/next.json": `{"pagelen":1,"values":[{"type":"commit_file","path":"conf/next.json/a","size":1}],` +
		`"next":"https://api.bitbucket.org/2.0/repositories/other/repo/src/main/?page=2"}`,
	"conf/real.yaml": "kind: Component\n",
}

const jsonRepo = "json-files"

func jsonFilesFake(t testing.TB) *fakebitbucketcloud.Server {
	t.Helper()
	fake := newWorld(t, &fakebitbucketcloud.Options{Tokens: []string{accessToken}})
	t.Cleanup(fake.Close)
	fsys := fstest.MapFS{}
	for p, c := range listingShaped {
		fsys[p] = &fstest.MapFile{Data: []byte(c), Mode: 0o644}
	}
	if _, err := fake.AddFS(fakebitbucketcloud.Repo{Workspace: workspace, Slug: jsonRepo, MainBranch: "main"}, fsys); err != nil {
		t.Fatal(err)
	}
	return fake
}

// TestListingShapedJSONFile: a file whose content looks like a directory
// listing is read as the file it is, and listing it as a directory gives
// no files (not the paths its content names), in one request.
func TestListingShapedJSONFile(t *testing.T) {
	fake := jsonFilesFake(t)
	d, hc := driverFor(t, fake, nil)
	repo := driver.Repo{Owner: workspace, Name: jsonRepo}
	for p, content := range listingShaped {
		t.Run(p, func(t *testing.T) {
			f, err := d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: repo, Ref: "main", Path: p})
			if err != nil {
				t.Errorf("ReadFile(%s): %v (code %v); want its content", p, err, d.ErrorInfo(err).Code)
			} else if string(f.Content) != content {
				t.Errorf("ReadFile(%s) = %q; want %q", p, f.Content, content)
			}
			before := fake.Stats().API
			l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: repo, Ref: "main", Dir: p})
			if err != nil {
				t.Fatalf("ListFiles(%s): %v", p, err)
			}
			if len(l.Paths) != 0 || l.Truncated {
				t.Errorf("ListFiles(%s) = %q, truncated %v; want no files (it is a file)", p, l.Paths, l.Truncated)
			}
			if n := fake.Stats().API - before; n != 1 {
				t.Errorf("ListFiles(%s) made %d requests; want 1", p, n)
			}
		})
	}
	// The directory is still a directory.
	l, err := d.ListFiles(t.Context(), hc, &driver.ListFilesRequest{Repo: repo, Ref: "main", Dir: "conf"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"conf/data.json", "conf/empty.json", "conf/next.json", "conf/real.yaml"}, l.Paths); diff != "" {
		t.Errorf("ListFiles(conf) (-want +got):\n%s", diff)
	}
	_, err = d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: repo, Ref: "main", Path: "conf"})
	if err == nil {
		t.Fatal("ReadFile(conf) read a directory")
	}
	_, err = d.ReadFile(t.Context(), hc, &driver.ReadFileRequest{Repo: repo, Ref: "main", Path: "conf", DirAsMissing: true})
	if got := d.ErrorInfo(err).Code; got != errcode.NotFound {
		t.Errorf("ReadFile(conf, DirAsMissing) code %v (%v); want NotFound", got, err)
	}
}

// BenchmarkBitbucketCloudListFiles lists a directory, and a path that is a
// file (no files).
func BenchmarkBitbucketCloudListFiles(b *testing.B) {
	fake := jsonFilesFake(b)
	d, hc := driverFor(b, fake, nil)
	requests := func() int { return fake.Stats().API }
	for _, dir := range []string{"conf", "conf/real.yaml"} {
		b.Run(dir, func(b *testing.B) {
			adaptertest.Bench(b, requests, func(int) error {
				_, err := d.ListFiles(b.Context(), hc, &driver.ListFilesRequest{Repo: driver.Repo{Owner: workspace, Name: jsonRepo}, Ref: "main", Dir: dir})
				return err
			})
		})
	}
}

// TestChangeUnderListingShapedJSONFile: a pull request's change under a
// path that is a file is checked as under any file, whatever the file's
// content looks like: a Create under conf/data.json, whose content
// names conf/data.json/x.txt, is not refused as existing.
func TestChangeUnderListingShapedJSONFile(t *testing.T) {
	fake := jsonFilesFake(t)
	d, hc := driverFor(t, fake, nil)
	repo := driver.Repo{Owner: workspace, Name: jsonRepo}
	codes := map[string]errcode.Code{}
	for _, file := range []string{"conf/real.yaml", "conf/data.json"} {
		p := file + "/injected.yaml"
		if file == "conf/data.json" {
			p = "conf/data.json/injected.yaml" // the path its content names
		}
		_, err := d.OpenPullRequest(t.Context(), hc, &driver.PullRequestRequest{Repo: repo, Base: "main", Branch: "gen/" + path.Base(file),
			Title: "t", Changes: []driver.Change{{Path: p, Action: driver.Create, Content: []byte("x\n")}}})
		codes[file] = d.ErrorInfo(err).Code
		if codes[file] == errcode.AlreadyExists {
			t.Errorf("Create %s: AlreadyExists (%v); the path does not exist", p, err)
		}
	}
	if codes["conf/real.yaml"] != codes["conf/data.json"] {
		t.Errorf("Create under a plain file gave %v, under a listing-shaped JSON file %v; want the same", codes["conf/real.yaml"], codes["conf/data.json"])
	}
}
