package auth

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// cutToken cuts a subject token out of an error's text in every form a
// provider may echo it: whole, URL-encoded, its start or end alone (a
// clipped description), split in two; and leaves other text alone.
func TestCutToken(t *testing.T) {
	tok := "AbCdEfGhIjKlMnOp+QrStUvWxYz0123456789/abcdefghijklmnopqrstuvwxyzABCDEFGH=="
	for name, text := range map[string]string{
		"plain":       "bad token " + tok + " here",
		"url-encoded": "invalid subject_token=" + url.QueryEscape(tok),
		"start only":  "not a token we know: " + tok[:30] + "…",
		"end only":    "token ending in …" + tok[len(tok)-30:],
		"split":       "bad token " + tok[:40] + " " + tok[40:],
		"twice":       tok + tok,
	} {
		got := cutToken(text, tok)
		for i := 0; i+16 <= len(tok); i++ {
			if strings.Contains(got, tok[i:i+16]) {
				t.Errorf("%s: %q still shows %q", name, got, tok[i:i+16])
				break
			}
		}
		if !strings.Contains(got, "[REDACTED]") {
			t.Errorf("%s: %q cut nothing", name, got)
		}
	}
	if got := cutToken("invalid_grant: the subject token expired", tok); got != "invalid_grant: the subject token expired" {
		t.Errorf("text without the token changed: %q", got)
	}
}

// Cuts keep the text valid UTF-8 around a non-ASCII token, and a long
// token against a short text (or the reverse) costs their sum.
func TestCutTokenUTF8AndSize(t *testing.T) {
	tok := "é" + strings.Repeat("a", 20) + "ü"
	for _, text := range []string{
		"x ©" + strings.Repeat("a", 15) + " y",
		"bad: " + tok[:len(tok)-1] + "…",
		"bad: " + tok[:len(tok)-2] + "ã rest",
	} {
		if got := cutToken(text, tok); !utf8.ValidString(got) {
			t.Errorf("cutToken(%q) = %q: invalid UTF-8", text, got)
		}
	}
	long := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 2000) // 72 KB
	for _, text := range []string{"bad token " + long[1000:1100] + " here", "x " + long + " y"} {
		got := cutToken(text, long)
		if strings.Contains(got, long[1000:1016]) || !strings.Contains(got, "[REDACTED]") {
			t.Errorf("a long token was not cut from a %d-byte text", len(text))
		}
	}
}
