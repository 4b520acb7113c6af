package integrations

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/redact"
)

// Secret holds a credential from configuration: a token, password, private
// key or client secret. It never shows its value when formatted with any
// fmt verb, marshalled to JSON or logged with log/slog; call [Secret.Reveal]
// to use it. Marshalling is one-way: the JSON or text of a Secret is
// "[redacted]", which unmarshals to an error, not to a Secret.
//
// The value sits behind a pointer so that even a reflection-based printer
// that walks unexported fields prints an address, not the secret. The zero
// value is the empty secret.
type Secret struct {
	v *string
}

// NewSecret wraps s. An empty s yields the zero Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret value.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == nil || *s.v == "" }

// Equal reports whether two secrets hold the same value. go-cmp uses it.
func (s Secret) Equal(o Secret) bool { return s.Reveal() == o.Reveal() }

func (s Secret) redacted() string { return redact.Of(s.Reveal()) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string { return s.redacted() }

// GoString returns a redacted Go-syntax representation.
func (s Secret) GoString() string { return fmt.Sprintf("integrations.Secret(%q)", s.redacted()) }

// Format redacts the secret for every verb, including %d and %x.
func (s Secret) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.redacted(), s.GoString()) }

// LogValue redacts the secret in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.redacted()) }

// MarshalJSON writes "[redacted]" (or "" for an empty secret).
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.redacted()) }

// MarshalText writes "[redacted]" (or "" for an empty secret).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.redacted()), nil }

// UnmarshalText sets the secret from text, so configuration decoders can
// fill it. It refuses "[redacted]" (InvalidArgument), leaving s as it
// was: that is what a Secret marshals to, never a credential, so a
// configuration written back from a marshalled one fails to load instead
// of sending "[redacted]" as a token.
func (s *Secret) UnmarshalText(b []byte) error {
	if string(b) == redact.Mark {
		return errcode.New(errcode.InvalidArgument, "integrations.Secret", `the value is "`+redact.Mark+`", a secret as scmkit prints it, not a credential: configure the real value`)
	}
	*s = NewSecret(string(b))
	return nil
}
