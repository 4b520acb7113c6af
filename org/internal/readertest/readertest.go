// Package readertest holds what the tests of the org readers share. It is
// imported by tests only.
package readertest

import (
	"bytes"
	"context"
	"testing"

	"github.com/scmkit/scmkit/org"
)

// Counter is what Budget needs of a fake: its request count and a reset.
type Counter struct {
	// Reset sets the fake's request count to zero.
	Reset func()
	// Requests returns the requests counted since the last Reset.
	Requests func() int
}

// Budget proves a request budget: every iteration of b reads r once from
// a reset count, checks that the snapshot has users users and groups
// groups, and the requests of the last read are reported as requests/op;
// more than budget fails the benchmark.
func Budget(b *testing.B, r org.Reader, c Counter, users, groups, budget int) {
	b.Helper()
	var reqs int
	for b.Loop() {
		c.Reset()
		snap, err := r.Read(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Users) != users || len(snap.Groups) != groups {
			b.Fatalf("%d users, %d groups; want %d and %d", len(snap.Users), len(snap.Groups), users, groups)
		}
		reqs = c.Requests()
	}
	b.ReportMetric(float64(reqs), "requests/op")
	if reqs > budget {
		b.Errorf("requests = %d, budget %d", reqs, budget)
	}
}

// YAML returns snap as the catalog file it writes, to compare snapshots.
func YAML(t testing.TB, snap *org.Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	if err := snap.WriteYAML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
