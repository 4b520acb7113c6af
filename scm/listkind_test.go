package scm

import (
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
)

func TestListKinds(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	l := &listKinds{now: func() time.Time { return now }}
	alice := &credentials.Credential{Kind: credentials.KindUser, Token: "alice-token", Source: "user"}
	bob := &credentials.Credential{Kind: credentials.KindUser, Token: "bob-token", Source: "user"}
	ka := listKindKey("github.com", "Alice", alice)
	if kb := listKindKey("github.com", "alice", bob); kb == ka {
		t.Fatal("two users' tokens share a key")
	}
	if k := listKindKey("github.com", "alice", nil); k == ka {
		t.Fatal("anonymous shares the user's key")
	}
	if k := listKindKey("ghe.example.com", "alice", alice); k == ka {
		t.Fatal("two hosts share a key")
	}
	if k := listKindKey("github.com", "ALICE", alice); k != ka {
		t.Fatal("owner case changes the key; GitHub logins are case-insensitive")
	}
	l.put(ka, "self")
	if got := l.get(ka); got != "self" {
		t.Fatalf("get = %q; want self", got)
	}
	now = now.Add(listKindTTL)
	if got := l.get(ka); got != "" {
		t.Fatalf("get after %v = %q; want forgotten", listKindTTL, got)
	}
	l.put(ka, "user")
	l.put(ka, "")
	if got := l.get(ka); got != "" {
		t.Fatalf("get after put(\"\") = %q; want forgotten", got)
	}
	for i := range maxListKinds + 10 {
		l.put(listKindKey("github.com", "o"+string(rune('a'+i%26))+time.Duration(i).String(), alice), "user")
	}
	if n := len(l.m); n > maxListKinds {
		t.Fatalf("%d entries; want at most %d", n, maxListKinds)
	}
}
