package scm

import (
	"context"
	"iter"
	"log/slog"
	"strings"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// AuditFunc receives one [AuditEvent] per operation of a [Client], when the
// operation completes (for ListRepositories and FindFiles: when the loop
// over their sequence ends). It is called on the operation's goroutine,
// before the operation returns, so it must be quick: hand the event to a
// logger or a buffered channel, never to the network. It may be called
// concurrently by concurrent operations.
type AuditFunc func(ctx context.Context, e AuditEvent)

// AuditEvent says who did what through a [Client]: the operation, where,
// its outcome, and the acting identity — the user the call was made for
// (set with [UserOptions].User in [Client.ForUser]; empty for the portal's
// own calls) and the credential it was made with (its Kind and Source: a
// GitHub App installation, a configured token, the user's own token, or
// none). A write made with an app or a configured token for a user names
// both: "who opened this pull request, as whom".
//
// An event holds no secret: no token, no URL query or user information.
// Its String and LogValue give one line or one slog group.
type AuditEvent struct {
	// Op is the operation, e.g. "scm.OpenPullRequest".
	Op string
	// Write is true for operations that change something.
	Write bool
	// Host is the integration host ("github.com"), or the URL's host for a
	// URL outside every integration.
	Host string
	// Owner and Repo are the owner and repository the URL names, when it
	// could be parsed.
	Owner, Repo string
	// URL is the operation's URL without user information, query or
	// fragment.
	URL string
	// Code is the outcome: OK, or the code of the error returned (for a
	// sequence: of the last error yielded).
	Code ErrorCode
	// User is the entity ref of the user the operation was made for
	// ("user:default/alice"), from UserOptions.User; empty when the portal
	// acted on its own.
	User string
	// UserDisplay is how the user was known at sign-in, e.g. "github alice",
	// from UserOptions.UserDisplay; may be empty.
	UserDisplay string
	// Credential is the kind of credential the operation was made with
	// (user, app, token, anonymous); empty when the operation failed
	// before one was resolved.
	Credential credentials.Kind
	// CredentialSource says which credential it was (credentials.Credential.
	// Source, e.g. "github app 12 installation 34" or "user github alice");
	// never the secret itself.
	CredentialSource string
}

// AsUser reports whether the operation was made with the user's own
// credential.
func (e AuditEvent) AsUser() bool { return e.Credential == credentials.KindUser }

// OnBehalf reports whether the operation was made for a user but with the
// portal's own credential (an app or a configured token): the event then
// names both.
func (e AuditEvent) OnBehalf() bool {
	return e.User != "" && (e.Credential == credentials.KindApp || e.Credential == credentials.KindToken)
}

// Actor describes who acted, in words: "user:default/alice with her own
// credential (user github:alice)", "service (app github app 12
// installation 34) on behalf of user:default/alice", "service (token
// integrations.github[0].token)", "anonymous".
func (e AuditEvent) Actor() string {
	cred := string(e.Credential)
	if e.CredentialSource != "" {
		cred += " " + e.CredentialSource
	}
	switch {
	case e.Credential == "":
		if e.User != "" {
			return e.User + " (no credential resolved)"
		}
		return "service (no credential resolved)"
	case e.AsUser():
		who := e.User
		if who == "" {
			who = "a user"
		}
		if e.CredentialSource != "" {
			cred = e.CredentialSource
		}
		return who + " with her own credential (" + cred + ")"
	case e.Credential == credentials.KindAnonymous:
		if e.User != "" {
			return "anonymous on behalf of " + e.User
		}
		return "anonymous"
	case e.User != "":
		return "service (" + cred + ") on behalf of " + e.User
	}
	return "service (" + cred + ")"
}

// String is one log line: "scm.OpenPullRequest https://github.com/acme/web
// OK by service (app ...) on behalf of user:default/alice".
func (e AuditEvent) String() string {
	return e.Op + " " + e.URL + " " + e.Code.String() + " by " + e.Actor()
}

// LogValue gives the event as a slog group.
func (e AuditEvent) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("op", e.Op), slog.Bool("write", e.Write), slog.String("host", e.Host),
		slog.String("owner", e.Owner), slog.String("repo", e.Repo), slog.String("url", e.URL),
		slog.String("code", e.Code.String()), slog.String("user", e.User), slog.String("userDisplay", e.UserDisplay),
		slog.String("credential", string(e.Credential)), slog.String("credentialSource", e.CredentialSource),
		slog.String("actor", e.Actor()))
}

// AuditLog returns an [AuditFunc] writing each event to l at level Info,
// with the message "scm audit" and the event under the key "audit".
func AuditLog(l *slog.Logger) AuditFunc {
	return func(ctx context.Context, e AuditEvent) {
		l.LogAttrs(ctx, slog.LevelInfo, "scm audit", slog.Any("audit", e))
	}
}

// auditRec is the event of one operation being built.
type auditRec struct {
	e AuditEvent
}

type auditKey struct{}

// auditStart begins the event of an operation; done emits it with the
// operation's error. Without an audit hook it changes nothing.
func (c *Client) auditStart(ctx context.Context, op string, t *target, write bool) (context.Context, func(error)) {
	if c == nil || c.s == nil || c.s.audit == nil {
		return ctx, func(error) {}
	}
	rec := &auditRec{e: AuditEvent{Op: op, Write: write, User: c.policy.User, UserDisplay: c.policy.UserDisplay}}
	if t.URL != nil {
		rec.e.URL, rec.e.Host = t.redacted(), strings.ToLower(t.URL.Host)
	}
	fn := c.s.audit
	return context.WithValue(ctx, auditKey{}, rec), func(err error) {
		rec.e.Code = errcode.CodeOf(err)
		fn(ctx, rec.e)
	}
}

// auditCall records where a call goes and with which credential; cred nil
// means none (anonymous).
func auditCall(ctx context.Context, in *integrations.Integration, loc integrations.Location, cred *credentials.Credential) {
	rec, _ := ctx.Value(auditKey{}).(*auditRec)
	if rec == nil {
		return
	}
	if in != nil {
		rec.e.Host = in.Host
	}
	rec.e.Owner, rec.e.Repo = loc.Owner, loc.Repo
	if cred == nil {
		rec.e.Credential, rec.e.CredentialSource = credentials.KindAnonymous, ""
		return
	}
	rec.e.Credential, rec.e.CredentialSource = cred.Kind, cred.Source
	if rec.e.Credential == "" {
		rec.e.Credential = credentials.KindToken
	}
}

// auditSeq runs body as a sequence whose event is emitted when the loop
// over it ends, with the code of the last error yielded.
func auditSeq[T any](c *Client, ctx context.Context, op, rawURL string, body func(ctx context.Context, t *target, yield func(T, error) bool)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		t := c.lookup(rawURL)
		actx, done := c.auditStart(ctx, op, t, false)
		var last error
		body(actx, t, func(v T, err error) bool {
			if err != nil {
				last = err
			}
			return yield(v, err)
		})
		done(last)
	}
}
