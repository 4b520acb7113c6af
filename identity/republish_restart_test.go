package identity

import (
	"context"
	"slices"
	"testing"
	"time"
)

// A StartRepublishing called right after the previous one's context was
// cancelled (a component restarting: cancel, start again) must start a
// goroutine, though the ended one may not have been scheduled to clear its
// state yet.
func TestStartRepublishingRightAfterCancel(t *testing.T) {
	c := newClock()
	st := NewMemoryKeyStore()
	a := replica(t, c, st, time.Hour, "")
	t.Cleanup(func() { a.Close() })
	tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice"})
	if err != nil {
		t.Fatal(err)
	}
	kid := headerKid(t, tok.Token)
	ctx1, cancel1 := context.WithCancel(t.Context())
	a.StartRepublishing(ctx1, 10*time.Millisecond)
	cancel1()
	a.StartRepublishing(t.Context(), 10*time.Millisecond) // no sleep between
	time.Sleep(50 * time.Millisecond)
	flushStore(t, st)
	deadline := time.Now().Add(2 * time.Second)
	for !slices.Contains(storeKids(t, st), kid) {
		if time.Now().After(deadline) {
			t.Fatalf("StartRepublishing right after cancelling the previous one's context started nothing: key %s not republished within 2 s (interval 10 ms)", kid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
