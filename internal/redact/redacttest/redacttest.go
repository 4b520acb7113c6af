// Package redacttest checks, for scmkit's tests, that a value never shows
// a secret however a program prints or logs it. It is for tests only.
package redacttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Verbs are the fmt verbs a program might print a value with.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}

// Shown returns every way a program might print or log v: under each of
// Verbs, as JSON (when v marshals), through log/slog's JSON and text
// handlers, and its Error text when v is an error.
func Shown(v any) []string {
	var out []string
	for _, verb := range Verbs {
		out = append(out, fmt.Sprintf(verb, v))
	}
	if js, err := json.Marshal(v); err == nil {
		out = append(out, string(js))
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("value", "v", v)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("value", "v", v)
	out = append(out, buf.String())
	if e, ok := v.(error); ok && e != nil {
		out = append(out, e.Error())
	}
	return out
}

// Hidden fails tb for each way Shown shows v that contains one of
// secrets, as it is or hex-encoded (as %x and %X would show it). name
// names v in the message; empty secrets are skipped.
func Hidden(tb testing.TB, name string, v any, secrets ...string) {
	tb.Helper()
	for _, out := range Shown(v) {
		for _, s := range secrets {
			if s == "" {
				continue
			}
			for _, form := range []string{s, fmt.Sprintf("%x", s), fmt.Sprintf("%X", s)} {
				if strings.Contains(out, form) {
					tb.Errorf("%s: output %q shows a secret", name, out)
				}
			}
		}
	}
}
