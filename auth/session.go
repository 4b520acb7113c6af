package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/scm"
)

// Session is a signed-in user's session, as a [Handler] keeps it in its
// [SessionStore]. The browser holds only an opaque, signed id for it; the
// store holds it sealed. Get one with [Handler.Session].
//
// A Session prints (under every fmt verb, slog and JSON) without its
// tokens.
type Session struct {
	// Identity is who signed in.
	Identity Identity
	// Env is the auth environment the user signed in under.
	Env string
	// Host is the integration host that accepts Tokens.AccessToken
	// (ProviderInfo.Host), "" when none does.
	Host string
	// Tokens are the provider's tokens, as of Version.
	Tokens Tokens
	// Created is when the user signed in.
	Created time.Time
	// Expires is when the session ends, whatever the tokens do.
	Expires time.Time
	// Version is the store's version of the record this was read from.
	Version int64

	h       *Handler
	key     string    // store key
	issued  time.Time // when Tokens were obtained
	checked time.Time // when the provider last confirmed the session ([Rechecker]); zero: at sign-in
	stale   bool      // the record was opened with a previous secret (Options.PreviousSecrets)
}

// lastChecked is when the provider last confirmed the session: its last
// re-check, else when its tokens were obtained, else its sign-in.
func (s *Session) lastChecked() time.Time {
	switch {
	case !s.checked.IsZero():
		return s.checked
	case !s.issued.IsZero():
		return s.issued
	}
	return s.Created
}

// String describes the session without its tokens, e.g.
// "session github:alice (github.com)".
func (s Session) String() string {
	str := "session " + s.Identity.String()
	if s.Host != "" {
		str += " (" + s.Host + ")"
	}
	return str
}

// Format prints String under every verb.
func (s Session) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.String()) }

// LogValue shows the session without its tokens.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", s.Identity.String()), slog.String("host", s.Host), slog.Any("tokens", s.Tokens))
}

// MarshalJSON writes the identity and the session's times, not its tokens.
func (s Session) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Identity Identity  `json:"identity"`
		Env      string    `json:"env,omitempty"`
		Host     string    `json:"host,omitempty"`
		Created  time.Time `json:"created"`
		Expires  time.Time `json:"expires"`
	}{s.Identity, s.Env, s.Host, s.Created, s.Expires})
}

// UserCredentials returns the user's provider token as credentials for the
// integration host of the provider she signed in with, and for no other:
// pass it to scm.Client.ForUser. A user who signed in with GitHub
// Enterprise at ghe.example.com gets her token offered to that host only;
// a session whose provider has no integration host (OIDC, LDAP) gives
// empty credentials. The source reads the session's current tokens from
// the store and refreshes them before they expire, once across all
// callers (and all replicas sharing the store).
func (s *Session) UserCredentials() scm.UserCredentials {
	if s == nil || s.Host == "" || s.h == nil || s.Tokens.AccessToken == "" {
		return scm.UserCredentials{}
	}
	return scm.UserCredentials{s.Host: &userSource{h: s.h, key: s.key, label: "user " + s.Identity.String()}}
}

// stored is a session as sealed into a Record.
type stored struct {
	Identity     Identity  `json:"i"`
	Env          string    `json:"e,omitempty"`
	Host         string    `json:"h,omitempty"`
	AccessToken  string    `json:"at,omitempty"`
	TokenType    string    `json:"tt,omitempty"`
	RefreshToken string    `json:"rt,omitempty"`
	IDToken      string    `json:"it,omitempty"`
	Scope        string    `json:"sc,omitempty"`
	Expiry       time.Time `json:"x,omitzero"`
	Created      time.Time `json:"c"`
	Expires      time.Time `json:"z"`
	Issued       time.Time `json:"ti,omitzero"`
	Checked      time.Time `json:"ck,omitzero"`
}

func (s *Session) encode() ([]byte, error) {
	return json.Marshal(stored{
		Identity: s.Identity, Env: s.Env, Host: s.Host,
		AccessToken: s.Tokens.AccessToken, TokenType: s.Tokens.TokenType, RefreshToken: s.Tokens.RefreshToken,
		IDToken: s.Tokens.IDToken, Scope: s.Tokens.Scope, Expiry: s.Tokens.Expiry,
		Created: s.Created, Expires: s.Expires, Issued: s.issued, Checked: s.checked,
	})
}

func decodeSession(b []byte) (*Session, error) {
	var st stored
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	return &Session{
		Identity: st.Identity, Env: st.Env, Host: st.Host,
		Tokens: Tokens{AccessToken: st.AccessToken, TokenType: st.TokenType, RefreshToken: st.RefreshToken,
			IDToken: st.IDToken, Scope: st.Scope, Expiry: st.Expiry},
		Created: st.Created, Expires: st.Expires, issued: st.Issued, checked: st.Checked,
	}, nil
}

// userSource is the credentials.Source of a session's access token.
type userSource struct {
	h     *Handler
	key   string
	label string
}

// Credential returns the session's access token, refreshed first when it
// expires within the handler's refresh margin.
func (u *userSource) Credential(ctx context.Context) (*credentials.Credential, error) {
	s, err := u.h.current(ctx, u.key)
	if err != nil {
		return nil, err
	}
	return &credentials.Credential{Kind: credentials.KindUser, Token: s.Tokens.AccessToken, Expiry: s.Tokens.Expiry, Source: u.label}, nil
}

// current reads the session key again (from the handler's cache when the
// store's version is unchanged: another replica may have refreshed, and
// revoked, the tokens a source was made with) and refreshes its tokens
// first when they are due.
func (h *Handler) current(ctx context.Context, key string) (*Session, error) {
	cur, err := h.load(ctx, key)
	if err != nil {
		return nil, err
	}
	return h.fresh(ctx, key, cur)
}

// String names the source, never the token.
func (u *userSource) String() string { return "auth.UserSource(" + u.label + ")" }

// Format prints String under every verb.
func (u *userSource) Format(f fmt.State, verb rune) { redact.Format(f, verb, u.String(), u.String()) }

// LogValue names the source, never the token.
func (u *userSource) LogValue() slog.Value { return slog.StringValue(u.String()) }
