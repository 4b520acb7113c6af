package ldapauth_test

import (
	"context"
	"testing"

	"github.com/scmkit/scmkit/auth/ldapauth"
)

// TestCloseClosesEveryConnection: after sign-ins that succeed, fail on a
// wrong password, and are given up by their caller, every connection the
// Authenticator opened is open until Close and closed by it; a second
// Close changes nothing, and a sign-in after Close leaves no connection
// open.
func TestCloseClosesEveryConnection(t *testing.T) {
	s := need(t)
	a, err := ldapauth.New(baseConfig(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuthenticateFrom(t.Context(), "bob", "wrong-password", "192.0.2.2"); err == nil {
		t.Fatal("a wrong password signed in")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := a.AuthenticateFrom(ctx, "alice", "alice-password", "192.0.2.3"); err == nil {
		t.Fatal("a cancelled sign-in succeeded")
	}
	if st := a.Stats(); st.Open == 0 || st.Dials == 0 {
		t.Fatalf("before Close: %+v; want idle connections kept for the next sign-in", st)
	}
	for i := range 2 {
		if err := a.Close(); err != nil {
			t.Fatalf("Close %d: %v", i+1, err)
		}
		if st := a.Stats(); st.Open != 0 {
			t.Fatalf("after Close %d: %d connections open", i+1, st.Open)
		}
	}
	if _, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", "192.0.2.4"); err != nil {
		t.Fatalf("a sign-in after Close: %v", err)
	}
	if st := a.Stats(); st.Open != 0 {
		t.Errorf("a sign-in after Close left %d connections open", st.Open)
	}
}
