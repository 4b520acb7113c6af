package org_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

// scriptShared is an org.Shared whose Claim answers what claim says for
// its n-th call; it never gives the claim. It records what Run asked.
type scriptShared struct {
	claim func(n int, have int64) org.Claim

	mu      sync.Mutex
	calls   int
	maxDues []time.Duration
}

func (s *scriptShared) Claim(ctx context.Context, name string, have int64, lease, maxDue time.Duration) (org.Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.maxDues = append(s.maxDues, maxDue)
	c := s.claim(s.calls, have)
	c.Name = name
	return c, nil
}

func (s *scriptShared) Done(ctx context.Context, c org.Claim, snap []byte, next time.Duration, failures int) (int64, error) {
	return 0, errcode.New(errcode.Conflict, "script.Done", "never claimed")
}

func (s *scriptShared) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// sharedEnvelope is a snapshot of one user as another replica stores it;
// readAt is the writer's clock (which Run must not trust).
func sharedEnvelope(readAt time.Time, source, user string) []byte {
	m := map[string]any{"readAt": readAt.UTC(), "users": []org.User{{Metadata: org.Metadata{Name: user}}}, "groups": []org.Group{}}
	if source != "" {
		m["source"] = source
	}
	b, _ := json.Marshal(m)
	return b
}

// names is the user names of s.
func names(s *org.Snapshot) []string {
	var out []string
	for _, u := range s.Users {
		out = append(out, u.Metadata.Name)
	}
	return out
}

// Shared snapshots are ordered by Shared's versions, not by the clock of
// the replica that read them: version 2 replaces version 1 although
// version 1's replica clock ran an hour ahead, and version 1 put back
// afterwards (by someone who can write to Redis) is refused.
func TestRunOrdersSharedSnapshotsByVersion(t *testing.T) {
	sh := &scriptShared{claim: func(n int, have int64) org.Claim {
		c := org.Claim{Due: 20 * time.Millisecond}
		var snap []byte
		switch {
		case n <= 2:
			c.Version, snap = 1, sharedEnvelope(time.Now().Add(time.Hour), "", "alice-v1")
		case n <= 5:
			c.Version, snap = 2, sharedEnvelope(time.Now(), "", "bob-v2")
		default:
			c.Version, snap = 1, sharedEnvelope(time.Now().Add(2*time.Hour), "", "alice-v1")
		}
		if have != c.Version {
			c.Snapshot = snap
		}
		return c
	}}
	var pub published
	runFor(t, 600*time.Millisecond, org.RunOptions{
		Sources: []org.Source{{Name: "s", Reader: &fakeReader{user: "never"}, Schedule: &org.Schedule{Frequency: time.Hour, Timeout: time.Second}}},
		Shared:  sh, PollInterval: 20 * time.Millisecond, Publish: pub.publish,
	})
	all := pub.all()
	if sh.count() < 8 {
		t.Fatalf("%d claims; the test needs the put-back version asked for", sh.count())
	}
	var got [][]string
	for _, s := range all {
		got = append(got, names(s))
	}
	if len(all) != 2 || names(all[0])[0] != "alice-v1" || names(all[1])[0] != "bob-v2" {
		t.Errorf("published %v; want [alice-v1] then [bob-v2] only: the newer version replaces the older whatever its writer's clock, and the older put back is refused", got)
	}
}

// Whatever Shared says of the next read's time or of another's claim, a
// replica asks again within the poll interval: a next read far away
// written into Redis, or a claim that never ends, does not stop it.
// And it tells Shared how far away a next read of its own can be.
func TestRunPollsWhateverSharedSays(t *testing.T) {
	for name, c := range map[string]org.Claim{
		"next read a century away":    {Due: 876000 * time.Hour},
		"claim held for a century":    {Held: 876000 * time.Hour},
		"next read at the end of int": {Due: time.Duration(1<<63 - 1)},
	} {
		t.Run(name, func(t *testing.T) {
			sh := &scriptShared{claim: func(int, int64) org.Claim { return c }}
			runFor(t, 300*time.Millisecond, org.RunOptions{
				Sources: []org.Source{{Name: "s", Reader: &fakeReader{user: "a"}, Schedule: &org.Schedule{Frequency: time.Hour, Timeout: time.Second}}},
				Shared:  sh, PollInterval: 20 * time.Millisecond, Publish: func(context.Context, *org.Snapshot) error { return nil },
			})
			if n := sh.count(); n < 5 {
				t.Errorf("%d claims in 300ms with a 20ms poll interval; want one a poll interval", n)
			}
			sh.mu.Lock()
			defer sh.mu.Unlock()
			// The longest wait is the frequency (1h; MaxBackoff is 15m), plus its
			// jitter (at most a minute) and a second.
			if want := time.Hour + time.Minute + time.Second; len(sh.maxDues) == 0 || sh.maxDues[0] != want {
				t.Errorf("maxDue %v; want %v", sh.maxDues, want)
			}
		})
	}
}

// A replica that cannot open the fleet's snapshot (sealed under another
// encryption key during a key rotation, say) and holds nothing of the
// source reads it itself at once and publishes that, logging at Error,
// instead of serving nothing until the fleet's next read.
func TestRunReadsItselfWhenSharedDoesNotOpen(t *testing.T) {
	sh := &scriptShared{claim: func(int, int64) org.Claim { return org.Claim{Version: 7, Due: time.Hour} }}
	var logs bytes.Buffer
	var mu sync.Mutex
	rd := &fakeReader{user: "alice"}
	var pub published
	runFor(t, 400*time.Millisecond, org.RunOptions{
		Sources: []org.Source{{Name: "s", Reader: rd, Schedule: &org.Schedule{Frequency: time.Hour, Timeout: time.Second}}},
		Shared:  sh, PollInterval: 20 * time.Millisecond, Publish: pub.publish,
		Logger: slog.New(slog.NewTextHandler(&lockedBuf{b: &logs, mu: &mu}, nil)),
	})
	all := pub.all()
	if rd.count() != 1 || len(all) != 1 || names(all[0])[0] != "alice" {
		t.Fatalf("%d reads, %d publications; want one read of its own, published", rd.count(), len(all))
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "does not open on this replica") {
		t.Errorf("no Error logged:\n%s", logs.String())
	}
}

// A replica that holds a snapshot of the fleet's, and then cannot open
// the next one, keeps what it holds and reads the source itself a
// frequency after it got it (not at once, and not never).
func TestRunReadsOnItsOwnScheduleWhileSharedDoesNotOpen(t *testing.T) {
	const freq = 300 * time.Millisecond
	var taken time.Time
	var tmu sync.Mutex
	sh := &scriptShared{claim: func(n int, have int64) org.Claim {
		if n == 1 {
			tmu.Lock()
			taken = time.Now()
			tmu.Unlock()
			return org.Claim{Version: 1, Due: time.Hour, Snapshot: sharedEnvelope(time.Now(), "", "fleet")}
		}
		return org.Claim{Version: 2, Due: time.Hour}
	}}
	rd := &fakeReader{user: "own"}
	var pub published
	runFor(t, 2*freq, org.RunOptions{
		Sources: []org.Source{{Name: "s", Reader: rd, Schedule: &org.Schedule{Frequency: freq, Timeout: time.Second}}},
		Shared:  sh, PollInterval: 20 * time.Millisecond, Publish: pub.publish,
	})
	all := pub.all()
	if len(all) != 2 || names(all[0])[0] != "fleet" || names(all[1])[0] != "own" || rd.count() != 1 {
		t.Fatalf("%d reads, %d publications; want the fleet's snapshot, then one read of its own", rd.count(), len(all))
	}
	tmu.Lock()
	defer tmu.Unlock()
	if d := rd.times()[0].Sub(taken); d < freq-20*time.Millisecond {
		t.Errorf("read %v after taking the fleet's snapshot; want a frequency (%v) after", d, freq)
	}
}

// A snapshot taken from Shared keeps the source it was read from, so that
// Merge's warnings name it: the one its reader set, or the Source's name.
func TestRunSharedSnapshotKeepsSource(t *testing.T) {
	sh := &scriptShared{claim: func(n int, have int64) org.Claim {
		c := org.Claim{Version: 1, Due: time.Hour}
		if have != 1 {
			c.Snapshot = sharedEnvelope(time.Now(), "githubOrg:a", "alice")
		}
		return c
	}}
	old := &scriptShared{claim: func(n int, have int64) org.Claim {
		c := org.Claim{Version: 1, Due: time.Hour}
		if have != 1 {
			c.Snapshot = sharedEnvelope(time.Now(), "", "alice") // stored before envelopes had a source
		}
		return c
	}}
	var pub published
	ctx, cancel := context.WithTimeout(testCtx(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	latest := make(chan *org.Snapshot, 100)
	for _, s := range []org.Shared{sh, old} {
		wg.Go(func() {
			err := org.Run(ctx, org.RunOptions{
				Sources: []org.Source{
					{Name: "a", Reader: &fakeReader{user: "x"}, Schedule: &org.Schedule{Frequency: time.Hour, Timeout: time.Second}},
					{Name: "local-b", Reader: &fakeReader{user: "alice"}, Schedule: &org.Schedule{Frequency: time.Hour, Timeout: time.Second, Scope: org.ScopeLocal}},
				},
				Shared: s, PollInterval: 20 * time.Millisecond,
				Publish: func(ctx context.Context, s *org.Snapshot) error { latest <- s; return pub.publish(ctx, s) },
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(latest)
	var warnings []string
	for s := range latest {
		warnings = append(warnings, s.Warnings...)
	}
	var sawReader, sawName bool
	for _, w := range warnings {
		if strings.Contains(w, "snapshot 0") {
			t.Errorf("a warning names the shared source by position: %s", w)
		}
		sawReader = sawReader || strings.Contains(w, "githubOrg:a")
		sawName = sawName || strings.Contains(w, "in a and")
	}
	if !sawReader || !sawName {
		t.Errorf("warnings %q; want one naming githubOrg:a (the reader's) and one naming a (the source's name)", warnings)
	}
}

// A frequency below MinFrequency (from config, {milliseconds: 0.5}, or in
// Go) is refused before any read: a failing source was read hundreds of
// times a second. So is a MinBackoff below it.
func TestRunRefusesSubSecondFrequency(t *testing.T) {
	var sch org.Schedule
	err := sch.UnmarshalJSON([]byte(`{"frequency": {"milliseconds": 0.5}, "timeout": "PT3M"}`))
	if err == nil || !strings.Contains(err.Error(), "schedule.frequency: 500µs is shorter than 1s") {
		t.Errorf("{milliseconds: 0.5}: %v", err)
	}
	rd := &fakeReader{user: "a", fail: func(int) error { return errors.New("provider down") }}
	for want, o := range map[string]org.RunOptions{
		`source "s": schedule.frequency 500µs is shorter than 1s`: {Sources: []org.Source{{Name: "s", Reader: rd, Schedule: &org.Schedule{Frequency: 500 * time.Microsecond, Timeout: time.Minute}}}},
		"RunOptions.MinBackoff 10ms is shorter than 1s":           {Sources: []org.Source{{Name: "s", Reader: rd, Schedule: &org.Schedule{Frequency: time.Minute, Timeout: time.Minute}}}, MinBackoff: 10 * time.Millisecond},
	} {
		o.Publish = func(context.Context, *org.Snapshot) error { return nil }
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := org.Run(ctx, o)
		cancel()
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	if rd.count() != 0 {
		t.Errorf("%d reads by a refused Run", rd.count())
	}
	if sch := (org.Schedule{}); sch.UnmarshalJSON([]byte(`{"frequency": {"seconds": 1}, "timeout": "PT3M"}`)) != nil || sch.Frequency != time.Second {
		t.Errorf("a 1s frequency: %+v", sch)
	}
}

// A frequency shorter than MinBackoff does not shorten the wait after a
// failed read below MinBackoff.
func TestRunBackoffNotCutBelowMinBackoff(t *testing.T) {
	rd := &fakeReader{user: "a", fail: func(int) error { return errors.New("provider down") }}
	runFor(t, 500*time.Millisecond, org.RunOptions{
		Sources:    []org.Source{{Name: "s", Reader: rd, Schedule: &org.Schedule{Frequency: 10 * time.Millisecond, Timeout: time.Second}}},
		MinBackoff: 200 * time.Millisecond,
		Publish:    func(context.Context, *org.Snapshot) error { return nil },
	})
	if n := rd.count(); n < 2 || n > 3 {
		t.Errorf("%d failing reads in 500ms with MinBackoff 200ms (doubling) and a 10ms frequency; want 2 or 3", n)
	}
}

type lockedBuf struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Someone who keeps Shared's next read always a little ahead (or a claim
// always held) delays the fleet's reads but does not stop them: a replica
// that sees no snapshot stored for twice the longest wait plus the
// timeout reads alone, once per such time.
func TestRunReadsAloneWhenTheFleetStalls(t *testing.T) {
	for name, c := range map[string]org.Claim{
		"next read always ahead": {Due: 500 * time.Millisecond},
		"claim always held":      {Held: 500 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sh := &scriptShared{claim: func(int, int64) org.Claim { return c }}
			rd := &fakeReader{user: "a"}
			var pub published
			start := time.Now()
			// Longest wait 200ms, so maxDue 200+20ms+1s; the stall is 2*1.22s + 100ms.
			runFor(t, 3200*time.Millisecond, org.RunOptions{
				Sources: []org.Source{{Name: "s", Reader: rd, Schedule: &org.Schedule{Frequency: 200 * time.Millisecond, Timeout: 100 * time.Millisecond}}},
				Shared:  sh, PollInterval: 20 * time.Millisecond, Publish: pub.publish,
				MinBackoff: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
			})
			if rd.count() != 1 || len(pub.all()) != 1 {
				t.Fatalf("%d reads, %d publications in 3.2s; want one read alone after the 2.54s stall", rd.count(), len(pub.all()))
			}
			if d := rd.times()[0].Sub(start); d < 2540*time.Millisecond {
				t.Errorf("read alone %v after the start; want after the 2.54s stall", d)
			}
		})
	}
}
