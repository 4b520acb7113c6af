package auth

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/scmkit/scmkit/internal/redact"
)

// A Response, its ProviderBody and its BackstageIdentity carry bearer
// tokens: they print and log without them. Only their JSON, the wire body
// a Backstage frontend reads, carries the tokens.

// String shows which tokens r carries, never their values.
func (r Response) String() string {
	s := "auth.Response{profile=" + strconv.Quote(r.Profile.Email) + " providerInfo=" + r.ProviderInfo.String()
	if r.BackstageIdentity != nil {
		s += " backstageIdentity=" + r.BackstageIdentity.String()
	}
	return s + "}"
}

// GoString is like String.
func (r Response) GoString() string { return r.String() }

// Format prints String under every verb, so no verb shows a token.
func (r Response) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.String()) }

// LogValue shows r in log/slog output without its tokens: slog's JSON
// handler would otherwise marshal them with the struct.
func (r Response) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("email", r.Profile.Email), slog.Any("providerInfo", r.ProviderInfo)}
	if r.BackstageIdentity != nil {
		attrs = append(attrs, slog.Any("backstageIdentity", *r.BackstageIdentity))
	}
	return slog.GroupValue(attrs...)
}

// String shows which tokens p carries, never their values.
func (p ProviderBody) String() string {
	s := "auth.ProviderBody{"
	if p.AccessToken != "" {
		s += "accessToken=" + redact.Mark + " "
	}
	if p.IDToken != "" {
		s += "idToken=" + redact.Mark + " "
	}
	return s + "scope=" + strconv.Quote(p.Scope) + " expiresInSeconds=" + strconv.FormatInt(p.ExpiresInSeconds, 10) + "}"
}

// GoString is like String.
func (p ProviderBody) GoString() string { return p.String() }

// Format prints String under every verb, so no verb shows a token.
func (p ProviderBody) Format(f fmt.State, verb rune) { redact.Format(f, verb, p.String(), p.String()) }

// LogValue shows p in log/slog output without its tokens.
func (p ProviderBody) LogValue() slog.Value {
	return slog.GroupValue(slog.String("accessToken", redact.Of(p.AccessToken)), slog.String("idToken", redact.Of(p.IDToken)),
		slog.String("scope", p.Scope), slog.Int64("expiresInSeconds", p.ExpiresInSeconds))
}

// String shows whose identity b is, never its token.
func (b BackstageIdentity) String() string {
	return "auth.BackstageIdentity{token=" + redact.Of(b.Token) + " user=" + strconv.Quote(b.Identity.UserEntityRef) +
		" expiresInSeconds=" + strconv.FormatInt(b.ExpiresInSeconds, 10) + "}"
}

// GoString is like String.
func (b BackstageIdentity) GoString() string { return b.String() }

// Format prints String under every verb, so no verb shows the token.
func (b BackstageIdentity) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, b.String(), b.String())
}

// LogValue shows b in log/slog output without its token.
func (b BackstageIdentity) LogValue() slog.Value {
	return slog.GroupValue(slog.String("token", redact.Of(b.Token)), slog.String("userEntityRef", b.Identity.UserEntityRef),
		slog.Any("ownershipEntityRefs", b.Identity.OwnershipEntityRefs), slog.Int64("expiresInSeconds", b.ExpiresInSeconds))
}
