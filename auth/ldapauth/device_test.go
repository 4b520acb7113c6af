package ldapauth_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// TestKnownDeviceNotSlowedByGuesser: a guesser's failures slow down the
// username everywhere but in the browser its owner signed in from
// before (the Handler's device cookie): there her attempts are counted
// apart, and her own failures back off that browser alone.
func TestKnownDeviceNotSlowedByGuesser(t *testing.T) {
	s := need(t)
	clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := baseConfig(s)
	c.Backoff = &ldapauth.BackoffConfig{FreeAttempts: 3, FreeAttemptsPerAddress: 100, InitialDelay: ldapauth.Duration(time.Minute), MaxDelay: ldapauth.Duration(time.Hour)}
	a := newAuth(t, c, &ldapauth.Options{Now: clk.Now})
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h, err := auth.New(&auth.Options{BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"), Environment: "development", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Register("ldap", "development", a); err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/auth/", h)
	browser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar}
	}
	post := func(c *http.Client, user, pw string) int {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
		req, _ := http.NewRequest("POST", srv.URL+"/api/auth/ldap/login?env=development", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	bobs, guesser, stranger := browser(), browser(), browser()
	if st := post(bobs, "bob", "bob-password"); st != http.StatusOK {
		t.Fatalf("bob's first sign-in: %d", st)
	}
	for i := range 4 {
		if st := post(guesser, "bob", "guess"); st != http.StatusUnauthorized && st != http.StatusTooManyRequests {
			t.Fatalf("guess %d: %d", i+1, st)
		}
	}
	if _, err := a.AuthenticateFrom(t.Context(), "bob", "bob-password", ""); errcode.CodeOf(err) != errcode.RateLimited {
		t.Fatalf("after the guesses the username is not backing off (%v): not the case tested", err)
	}
	if st, retry := postRetry(t, srv.URL, stranger, "BOB", "bob-password"); st != http.StatusTooManyRequests || retry == "" {
		t.Errorf("a browser bob never signed in from, while the username backs off: %d (Retry-After %q), want 429 with Retry-After", st, retry)
	}
	if st := post(bobs, "BOB", "bob-password"); st != http.StatusOK {
		t.Fatalf("bob, in his own browser, is slowed down by the guesser: %d", st)
	}
	// His own mistakes back off his browser alone.
	for i := range 3 {
		if st := post(bobs, "bob", "typo"); st != http.StatusUnauthorized {
			t.Fatalf("bob's typo %d: %d", i+1, st)
		}
	}
	if st := post(bobs, "bob", "bob-password"); st == http.StatusOK {
		t.Errorf("bob's browser was not slowed down by its own failures")
	}
	// A device cookie is for its username only.
	if _, err := a.AuthenticateFrom(auth.ContextWithDevice(t.Context(), auth.Device{Username: "alice", ID: "x"}), "bob", "bob-password", ""); errcode.CodeOf(err) != errcode.RateLimited {
		t.Errorf("alice's device let bob's username past its back-off: %v", err)
	}
	if _, err := a.AuthenticateFrom(auth.ContextWithDevice(t.Context(), auth.Device{Username: "Bob", ID: "y"}), "bob", "bob-password", ""); err != nil {
		t.Errorf("another device of bob's (the username folded): %v", err)
	}
	// A device is bound to the folded username, like the username's own
	// count: signed in as "ｂｏｂ", it serves "BOB"; the spellings tried
	// from it share its one count, so they cannot multiply its free
	// attempts (3 here).
	dev := auth.ContextWithDevice(t.Context(), auth.Device{Username: "ｂｏｂ", ID: "w"})
	if _, err := a.AuthenticateFrom(dev, "BOB", "bob-password", ""); err != nil {
		t.Errorf("bob's device signed in as ｂｏｂ, tried as BOB: %v", err)
	}
	for i, spelling := range []string{"Bob", "ｂｏｂ", "b\u00adob"} {
		if _, err := a.AuthenticateFrom(dev, spelling, "typo", ""); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("typo %d (%q) from bob's device: %v, want Unauthorized", i+1, spelling, err)
		}
	}
	if _, err := a.AuthenticateFrom(dev, "bob", "bob-password", ""); errcode.CodeOf(err) != errcode.RateLimited {
		t.Errorf("after 3 failures spelled 3 ways bob's device is not backing off (%v): the spellings counted apart", err)
	}
}

// postRetry posts a sign-in and returns the status and Retry-After.
func postRetry(t *testing.T, base string, c *http.Client, user, pw string) (int, string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	req, _ := http.NewRequest("POST", base+"/api/auth/ldap/login?env=development", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}
