package auth

import (
	"net/url"
	"strings"
	"testing"
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
