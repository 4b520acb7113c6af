package gitlabscm_test

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/scm"
)

// The benchmarks report requests/op (counted by the fake) next to
// allocs/op. Allocations include the in-process fake's.

func benchWorld(b *testing.B) *world {
	b.Helper()
	w := newWorld(b, worldOptions{})
	w.add(b, "acme/platform", "svc", map[string]string{
		"catalog-info.yaml":                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\n",
		"templates/service/template.yaml":  "kind: Template\n",
		"templates/service/skeleton/a.txt": "a\n",
		"templates/service/skeleton/b.txt": "b\n",
		"README.md":                        "# svc\n",
	})
	return w
}

func report(b *testing.B, w *world, before int) {
	b.ReportMetric(float64(w.requests()-before)/float64(b.N), "requests/op")
}

func BenchmarkGitLabReadFile(b *testing.B) {
	w := benchWorld(b)
	u := w.fileURL(b, "acme/platform", "svc", "", "catalog-info.yaml")
	b.ReportAllocs()
	before := w.requests()
	for b.Loop() {
		if _, err := w.c.ReadFile(b.Context(), u, nil); err != nil {
			b.Fatal(err)
		}
	}
	report(b, w, before)
}

func BenchmarkGitLabReadFileNotModified(b *testing.B) {
	w := benchWorld(b)
	u := w.fileURL(b, "acme/platform", "svc", "", "catalog-info.yaml")
	f, err := w.c.ReadFile(b.Context(), u, nil)
	if err != nil {
		b.Fatal(err)
	}
	opts := &scm.ReadFileOptions{IfNoneMatch: f.ETag}
	b.ReportAllocs()
	before := w.requests()
	for b.Loop() {
		if _, err := w.c.ReadFile(b.Context(), u, opts); scm.Code(err) != scm.NotModified {
			b.Fatalf("code %v (%v); want NotModified", scm.Code(err), err)
		}
	}
	report(b, w, before)
}

func BenchmarkGitLabReadTree(b *testing.B) {
	w := benchWorld(b)
	u := w.treeURL(b, "acme/platform", "svc", "", "templates/service")
	b.ReportAllocs()
	before := w.requests()
	for b.Loop() {
		if _, err := w.c.ReadTree(b.Context(), u, nil); err != nil {
			b.Fatal(err)
		}
	}
	report(b, w, before)
}

func BenchmarkGitLabSearch(b *testing.B) {
	w := benchWorld(b)
	u := w.fileURL(b, "acme/platform", "svc", "", "templates/**/*.txt")
	b.ReportAllocs()
	before := w.requests()
	for b.Loop() {
		if _, err := w.c.Search(b.Context(), u, nil); err != nil {
			b.Fatal(err)
		}
	}
	report(b, w, before)
}

func BenchmarkGitLabOpenPullRequest(b *testing.B) {
	w := benchWorld(b)
	repoURL := w.url(b, "acme/platform", "svc", "", "", false)
	changes := textChanges("generated", 10)
	b.ReportAllocs()
	before := w.requests()
	i := 0
	for b.Loop() {
		i++
		pr, err := w.c.OpenPullRequest(b.Context(), &scm.PullRequestSpec{RepoURL: repoURL,
			Branch: fmt.Sprintf("bench/%d", i), Title: "Ten files", Changes: changes})
		if err != nil {
			b.Fatal(err)
		}
		if pr.Existing {
			b.Fatal("Existing = true; want a new merge request")
		}
	}
	report(b, w, before)
}

func BenchmarkGitLabOpenPullRequestExisting(b *testing.B) {
	w := benchWorld(b)
	spec := &scm.PullRequestSpec{RepoURL: w.url(b, "acme/platform", "svc", "", "", false), Branch: "again",
		Title: "Ten files", Changes: textChanges("generated", 10)}
	if _, err := w.c.OpenPullRequest(b.Context(), spec); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	before := w.requests()
	for b.Loop() {
		if pr, err := w.c.OpenPullRequest(b.Context(), spec); err != nil || !pr.Existing {
			b.Fatalf("OpenPullRequest = %+v, %v; want the existing merge request", pr, err)
		}
	}
	report(b, w, before)
}

// BenchmarkGitLabFindFiles discovers catalog-info.yaml across a group of
// 1,000 projects in nested subgroups.
func BenchmarkGitLabFindFiles(b *testing.B) {
	w := newWorld(b, worldOptions{})
	want := seedGroup(b, w, "big", 1000)
	u := w.ownerURL(b, "big")
	b.ReportAllocs()
	before := w.requests()
	for b.Loop() {
		n := 0
		for _, err := range w.c.FindFiles(b.Context(), u, "catalog-info.yaml") {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != want {
			b.Fatalf("found %d; want %d", n, want)
		}
	}
	report(b, w, before)
}

// BenchmarkGitLabListRepositories lists a group of 1,000 projects.
func BenchmarkGitLabListRepositories(b *testing.B) {
	w := newWorld(b, worldOptions{})
	seedGroup(b, w, "big", 1000)
	u := w.ownerURL(b, "big")
	b.ReportAllocs()
	before := w.requests()
	for b.Loop() {
		n := 0
		for _, err := range w.c.ListRepositories(b.Context(), u, nil) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 1000 {
			b.Fatalf("listed %d; want 1000", n)
		}
	}
	report(b, w, before)
}
