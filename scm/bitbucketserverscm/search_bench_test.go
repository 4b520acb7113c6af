package bitbucketserverscm_test

import (
	"fmt"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	fakekit "github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// benchDiscover discovers catalog-info.yaml in a project of 1,000
// repositories (each has it) and reports requests/op.
func benchDiscover(b *testing.B, mode fakebitbucketserver.SearchMode, opts *bitbucketserverscm.Options, want scm.FindMethod) {
	fake := fakebitbucketserver.New(&fakebitbucketserver.Options{Tokens: []string{goodToken}})
	b.Cleanup(fake.Close)
	for i := range 1000 {
		if _, err := fake.AddRepo(fakebitbucketserver.Repo{Project: "ACME", Name: fmt.Sprintf("svc-%04d", i),
			Files: []fakekit.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
			b.Fatal(err)
		}
	}
	fake.SetSearch(mode)
	c := searchClient(b, fake, opts)
	owner := fake.URL() + "/projects/ACME"
	run := func() {
		n := 0
		for f, err := range c.FindFiles(b.Context(), owner, "catalog-info.yaml") {
			if err != nil {
				b.Fatal(err)
			}
			if f.Method != want {
				b.Fatalf("Method %v; want %v", f.Method, want)
			}
			n++
		}
		if n != 1000 {
			b.Fatalf("found %d; want 1000", n)
		}
	}
	run() // warm up: connections, and the driver learns whether search works
	b.ReportAllocs()
	before := fake.Stats().Total
	b.ResetTimer()
	for b.Loop() {
		run()
	}
	b.StopTimer()
	b.ReportMetric(float64(fake.Stats().Total-before)/float64(b.N), "requests/op")
}

// BenchmarkBitbucketServerDiscoverSearch: Data Center code search, 100
// hits per request.
func BenchmarkBitbucketServerDiscoverSearch(b *testing.B) {
	benchDiscover(b, fakebitbucketserver.SearchEnabled, nil, scm.FoundByFinder)
}

// BenchmarkBitbucketServerDiscoverSearchUnavailable: a server without
// search; after the first discovery the driver does not try it again.
func BenchmarkBitbucketServerDiscoverSearchUnavailable(b *testing.B) {
	benchDiscover(b, fakebitbucketserver.SearchNotInstalled, nil, scm.FoundByReadFile)
}

// BenchmarkBitbucketServerDiscoverNoCodeSearch: search turned off by
// option, the per-repository reads of before.
func BenchmarkBitbucketServerDiscoverNoCodeSearch(b *testing.B) {
	benchDiscover(b, fakebitbucketserver.SearchEnabled, &bitbucketserverscm.Options{NoCodeSearch: true}, scm.FoundByReadFile)
}
