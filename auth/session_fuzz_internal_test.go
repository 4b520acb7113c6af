package auth

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// sameSession reports how a and b differ in what a record holds, or "".
func sameSession(a, b *Session) string {
	switch {
	case a.Identity != b.Identity:
		return "identity"
	case a.Env != b.Env || a.Host != b.Host:
		return "env or host"
	case a.Tokens.AccessToken != b.Tokens.AccessToken || a.Tokens.TokenType != b.Tokens.TokenType || a.Tokens.RefreshToken != b.Tokens.RefreshToken ||
		a.Tokens.IDToken != b.Tokens.IDToken || a.Tokens.Scope != b.Tokens.Scope || !a.Tokens.Expiry.Equal(b.Tokens.Expiry):
		return "tokens"
	case !a.Created.Equal(b.Created) || !a.Expires.Equal(b.Expires) || !a.issued.Equal(b.issued) || !a.checked.Equal(b.checked):
		return "times"
	}
	return ""
}

// FuzzSessionRecord decodes stored session records (the plaintext of a
// sealed record, as a store or a previous version of scmkit may hold
// it). Whatever decodes encodes again, and that encoding decodes to the
// same session and encodes to the same bytes; sealed under a session's
// key in the store, the Handler serves exactly what decodes (and has
// not ended) and refuses the rest as Unauthorized, never with a token in
// its error; the same bytes unsealed never open. Nothing panics.
func FuzzSessionRecord(f *testing.F) {
	now := time.Now()
	h, err := New(&Options{BaseURL: "https://portal.example.com/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"),
		Environment: "development", Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	full := &Session{Identity: Identity{Provider: "github", Issuer: "https://github.com", Subject: "42", Login: "alice", Email: "alice@example.com",
		EmailVerified: true, DisplayName: "Alice", Picture: "https://avatars.example.com/a", DN: "uid=alice,ou=people,dc=example,dc=com"},
		Env: "development", Host: "github.com",
		Tokens:  Tokens{AccessToken: "gho_secretaccesstoken", TokenType: "bearer", RefreshToken: "ghr_secretrefreshtoken", IDToken: "eyJ.secret.id", Scope: "repo read:user", Expiry: now.Add(8 * time.Hour)},
		Created: now.Add(-time.Hour), Expires: now.Add(24 * time.Hour), issued: now.Add(-time.Minute), checked: now.Add(-time.Second)}
	b, err := full.encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	// More seeds in testdata/fuzz/FuzzSessionRecord.

	cookie, key := h.newSessionCookie()
	req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/", nil)
	req.AddCookie(&http.Cookie{Name: h.cookieName("session"), Value: cookie})
	f.Fuzz(func(t *testing.T, plain []byte) {
		s, derr := decodeSession(plain)
		if derr == nil {
			b1, err := s.encode()
			if err != nil {
				t.Fatalf("%q decodes but does not encode again: %v", plain, err)
			}
			s2, err := decodeSession(b1)
			if err != nil {
				t.Fatalf("%q decodes, and its encoding %q does not: %v", plain, b1, err)
			}
			if d := sameSession(s, s2); d != "" {
				t.Fatalf("%q: the %s changed through encode and decode (%q)", plain, d, b1)
			}
			if b2, err := s2.encode(); err != nil || !bytes.Equal(b1, b2) {
				t.Fatalf("%q: encodes to %q, then to %q (%v)", plain, b1, b2, err)
			}
		}
		ctx := t.Context()
		if _, err := h.store.Put(ctx, key, seal(h.keys.records, plain, []byte(key)), time.Hour); err != nil {
			t.Fatal(err)
		}
		got, err := h.Session(req)
		switch {
		case err == nil && derr != nil:
			t.Fatalf("%q does not decode (%v), yet the Handler served %v", plain, derr, got)
		case err == nil:
			if d := sameSession(s, got); d != "" {
				t.Fatalf("%q: the Handler served a session whose %s differs from the record's", plain, d)
			}
			if !now.Before(got.Expires) {
				t.Fatalf("%q: the Handler served a session that ended at %v", plain, got.Expires)
			}
		default:
			if errcode.CodeOf(err) != errcode.Unauthorized {
				t.Fatalf("%q: %v, want Unauthorized", plain, err)
			}
			if s != nil {
				for _, tok := range []string{s.Tokens.AccessToken, s.Tokens.RefreshToken, s.Tokens.IDToken} {
					if len(tok) >= 4 && strings.Contains(err.Error(), tok) {
						t.Fatalf("%q: the error %q shows a token", plain, err)
					}
				}
			}
		}
		// The same bytes, not sealed: never a session.
		if _, err := h.store.Put(ctx, key, plain, time.Hour); err != nil {
			t.Fatal(err)
		}
		if got, err := h.Session(req); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("an unsealed record %q: %v, %v; want Unauthorized", plain, got, err)
		}
	})
}
