// Package redact is scmkit's one rule for printing a value that holds a
// secret (a token, a key, a password): the secret shows as [Mark] under
// every fmt verb, in log/slog output and in JSON, and a value that holds
// no secret shows as "", so that a reader can still tell the two apart.
//
// A type with a secret implements String (and GoString when its Go syntax
// is worth showing) without the secret, and forwards Format to [Format],
// so that no verb (%x, %d, %+v, %#v) reaches its fields.
package redact

import (
	"fmt"
	"strconv"
)

// Mark stands for a secret wherever one would be shown.
const Mark = "[redacted]"

// Of returns Mark for a secret that is set, and "" for an empty one.
func Of(secret string) string {
	if secret == "" {
		return ""
	}
	return Mark
}

// Format prints s under every verb (quoted under %q) and gs under %#v:
// the String and GoString of a value that must not be printed field by
// field.
func Format(f fmt.State, verb rune, s, gs string) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, gs)
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(s))
	default:
		fmt.Fprint(f, s)
	}
}
