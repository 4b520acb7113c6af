package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzCredentialRedacts: whatever the token is, nothing a Credential
// prints, marshals or logs depends on it, beyond whether there is one:
// every verb, %v of a pointer and of a slice, JSON, and slog's text and
// JSON handlers give the same text for the token and for another one.
func FuzzCredentialRedacts(f *testing.F) {
	f.Add("token", "ghp_s3cr3t", "", "integrations.github[0].token", int64(0))
	f.Add("token", "p@ss w%rd\"\n", "bob", "integrations.bitbucketServer[0]", int64(1_700_000_000))
	f.Add("user", "%v", "", "", int64(-1))
	f.Fuzz(func(t *testing.T, kind, token, username, source string, expiry int64) {
		if token == "" {
			return
		}
		show := func(tok string) string {
			c := Credential{Kind: Kind(kind), Token: tok, Username: username, Source: source, Expiry: time.Unix(expiry, 0)}
			var b bytes.Buffer
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
				fmt.Fprintf(&b, verb+"|", c)
			}
			fmt.Fprintf(&b, "%v|%+v|%#v|", &c, []Credential{c}, map[string]*Credential{"k": &c})
			j, err := json.Marshal(c)
			if err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
			b.Write(j)
			slog.New(slog.NewTextHandler(&b, nil)).Info("m", "c", c, "p", &c)
			slog.New(slog.NewJSONHandler(&b, nil)).Info("m", "c", c)
			return b.String()
		}
		got, want := show(token), show("T")
		// slog writes a time; the two records may differ in it only.
		got, want = dropTimes(got), dropTimes(want)
		if got != want {
			t.Fatalf("a Credential's text depends on its token %q:\n%s\nwith another token:\n%s", token, got, want)
		}
	})
}

// dropTimes removes slog's time fields.
func dropTimes(s string) string {
	var out bytes.Buffer
	for line := range bytes.Lines([]byte(s)) {
		if i := bytes.Index(line, []byte("time=")); i >= 0 {
			if j := bytes.IndexByte(line[i:], ' '); j >= 0 {
				line = append(bytes.Clone(line[:i]), line[i+j:]...)
			}
		}
		if i := bytes.Index(line, []byte(`"time":"`)); i >= 0 {
			if j := bytes.Index(line[i+8:], []byte(`"`)); j >= 0 {
				line = append(bytes.Clone(line[:i]), line[i+8+j+1:]...)
			}
		}
		out.Write(line)
	}
	return out.String()
}

// FuzzDecodeCredential: a credential comes back from a shared store
// (Redis) as bytes another replica, or whoever can write the store,
// wrote. Whatever they are, a decoded credential has a token, and what
// this package encodes decodes to the same credential (a token that is
// not UTF-8, which JSON would change, is not encoded at all).
func FuzzDecodeCredential(f *testing.F) {
	f.Add([]byte(`{"kind":"app","token":"ghs_x","expiry":"2026-12-08T01:00:00Z","source":"app 1 installation 2"}`), "token", "t", "u")
	f.Add([]byte(`{"kind":"user"}`), "user", "", "")
	f.Add([]byte(`null`), "", "x", "")
	f.Fuzz(func(t *testing.T, raw []byte, kind, token, username string) {
		if c, err := decodeCredential(raw); err == nil && (c == nil || c.Token == "") {
			t.Fatalf("decodeCredential(%q) = %+v without a token", raw, c)
		}
		c := &Credential{Kind: Kind(kind), Token: token, Username: username, Source: "s", Expiry: time.Unix(1_700_000_000, 5).UTC()}
		b, err := encodeCredential(c)
		if err != nil {
			// Not shared, rather than shared as another token.
			if utf8.ValidString(token) && utf8.ValidString(username) && utf8.ValidString(kind) {
				t.Fatalf("encode(%+v): %v", *c, err)
			}
			return
		}
		back, err := decodeCredential(b)
		if token == "" {
			if err == nil {
				t.Fatalf("a credential without a token decoded: %+v", back)
			}
			return
		}
		if err != nil || *back != *c {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", *c, back, err)
		}
	})
}
