package credentials

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/scmkit/scmkit/internal/redact"
)

// Kind says what sort of identity a credential is.
type Kind string

const (
	// KindUser is the signed-in user's OAuth token, acting on their behalf.
	KindUser Kind = "user"
	// KindApp is an app's credential: a GitHub App installation token or
	// app JWT, or a Bitbucket Cloud OAuth consumer (client credentials)
	// token.
	KindApp Kind = "app"
	// KindToken is a token from configuration: a personal, project, group,
	// workspace or repository access token, an API token, or a password.
	KindToken Kind = "token"
	// KindAnonymous is no credential at all.
	KindAnonymous Kind = "anonymous"
)

// Credential is one identity to present to a host.
//
// Its String, GoString, LogValue and MarshalJSON never show Token.
type Credential struct {
	Kind Kind
	// Token is the secret: an OAuth or installation token, a PAT, an API
	// token or a password. Empty for KindAnonymous.
	Token string
	// Username, when set, makes the credential HTTP Basic (Username:Token):
	// a Bitbucket Cloud API token or app password, a Bitbucket Server
	// password. Bearer otherwise.
	Username string
	// Expiry is when Token stops working; zero means it does not expire.
	Expiry time.Time
	// Source says where the credential came from, e.g.
	// "integrations.github[0].apps[1] installation 42", never the secret.
	Source string
}

// Source supplies credentials; it is oauth2.TokenSource with a context.
//
// Credential must be safe for concurrent use, must pass ctx to any request
// it makes, and its callers must not modify the returned value.
type Source interface {
	Credential(ctx context.Context) (*Credential, error)
}

// SourceFunc adapts a function to a [Source].
type SourceFunc func(ctx context.Context) (*Credential, error)

// Credential calls f(ctx).
func (f SourceFunc) Credential(ctx context.Context) (*Credential, error) { return f(ctx) }

// ExpiryDelta is how early [Credential.Valid] treats a credential as
// expired, so that it is not sent just as it lapses (as oauth2.Token does).
const ExpiryDelta = 10 * time.Second

// Valid reports whether c is usable now: not nil, a token (or anonymous),
// and not expiring within ExpiryDelta.
func (c *Credential) Valid() bool {
	if c == nil || (c.Token == "" && c.Kind != KindAnonymous) {
		return false
	}
	return !c.ExpiresWithin(time.Now(), ExpiryDelta)
}

// ExpiresWithin reports whether c expires before now+margin. A credential
// with a zero Expiry never does. Pass an injected clock's now in tests.
func (c *Credential) ExpiresWithin(now time.Time, margin time.Duration) bool {
	return !c.Expiry.IsZero() && c.Expiry.Before(now.Add(margin))
}

// Scheme returns the HTTP authentication scheme for c: "Basic" when
// Username is set, "Bearer" when only Token is, "" for no token.
func (c *Credential) Scheme() string {
	switch {
	case c.Token == "":
		return ""
	case c.Username != "":
		return "Basic"
	default:
		return "Bearer"
	}
}

// String describes c without its secret, e.g.
// "app credential from integrations.github[0].apps[0] installation 42,
// expires 2026-01-02T15:04:05Z".
func (c Credential) String() string {
	s := string(c.Kind) + " credential"
	if c.Source != "" {
		s += " from " + c.Source
	}
	if c.Username != "" {
		s += " as " + c.Username
	}
	if !c.Expiry.IsZero() {
		s += ", expires " + c.Expiry.UTC().Format(time.RFC3339)
	}
	return s
}

// GoString describes c in Go syntax with its secret redacted.
func (c Credential) GoString() string {
	exp := "time.Time{}"
	if !c.Expiry.IsZero() {
		exp = strconv.Quote(c.Expiry.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("credentials.Credential{Kind: %q, Token: %q, Username: %q, Expiry: %s, Source: %q}",
		c.Kind, redact.Of(c.Token), c.Username, exp, c.Source)
}

// Format prints String for every verb (GoString for %#v), so no verb
// shows the secret.
func (c Credential) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, c.String(), c.GoString())
}

// LogValue shows c's metadata in log/slog output, never its secret.
func (c Credential) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", string(c.Kind)), slog.String("source", c.Source)}
	if c.Token != "" {
		attrs = append(attrs, slog.String("token", redact.Mark))
	}
	if c.Username != "" {
		attrs = append(attrs, slog.String("username", c.Username))
	}
	if !c.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", c.Expiry))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes c's metadata with the secret redacted.
func (c Credential) MarshalJSON() ([]byte, error) {
	var exp *time.Time
	if !c.Expiry.IsZero() {
		exp = &c.Expiry
	}
	return json.Marshal(struct {
		Kind     Kind       `json:"kind"`
		Token    string     `json:"token,omitempty"`
		Username string     `json:"username,omitempty"`
		Expiry   *time.Time `json:"expiry,omitempty"`
		Source   string     `json:"source,omitempty"`
	}{c.Kind, redact.Of(c.Token), c.Username, exp, c.Source})
}

// Static returns a Source that always returns c. The Source keeps its own
// copy, so later changes to c do not affect it.
func Static(c Credential) Source {
	cp := c
	return SourceFunc(func(context.Context) (*Credential, error) { return &cp, nil })
}
