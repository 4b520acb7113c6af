package identity

import (
	"context"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// BackstageIdentityFunc returns the hook auth.Options.BackstageIdentity
// takes: after each sign-in and refresh it resolves the session's identity
// with the resolver registered for its provider id (resolvers by provider
// id, e.g. "github", "microsoft"; several providers may resolve to the
// same user) and issues her Backstage token. A provider without resolvers
// is refused, as Backstage refuses a sign-in it cannot resolve; the
// error's message names the reason, never a secret.
func BackstageIdentityFunc(resolvers map[string]*SignInResolver, is *Issuer) func(context.Context, *auth.Session) (*auth.BackstageIdentity, error) {
	return func(ctx context.Context, s *auth.Session) (*auth.BackstageIdentity, error) {
		r := resolvers[s.Identity.Provider]
		if r == nil {
			return nil, errcode.Newf(errcode.PermissionDenied, "identity.SignIn", "no sign-in resolvers for provider %q", s.Identity.Provider)
		}
		res, err := r.Resolve(ctx, FromAuth(s.Identity, r.providerType))
		if err != nil {
			return nil, err
		}
		bi, err := is.SignIn(ctx, res.Identity, nil)
		if err != nil {
			return nil, err
		}
		return &auth.BackstageIdentity{Token: bi.Token, ExpiresInSeconds: bi.ExpiresInSeconds,
			Identity: auth.BackstageUserRef{Type: "user", UserEntityRef: bi.Identity.EntityRef, OwnershipEntityRefs: bi.Identity.OwnershipEntityRefs}}, nil
	}
}

// Decoder reads a section of the configuration into a Go value;
// *[github.com/scmkit/scmkit/config.Config] is one. Taking it instead of
// the config package keeps imports pointing down the layers.
type Decoder interface {
	Decode(path string, out any) error
}

// ResolversFromConfig builds the sign-in resolvers of every provider that
// has auth.providers.<id>.<env>.signIn in cfg, by provider id; the
// provider's type is its id, as in Backstage (github, gitlab, microsoft,
// google, okta, bitbucket, oidc, ldap), unless types maps the id to
// another. A provider without signIn is left out (its sign-ins are then
// refused by [BackstageIdentityFunc]). Errors name the provider.
func ResolversFromConfig(cfg Decoder, env string, types map[string]string, c Catalog, opts *ResolverOptions) (map[string]*SignInResolver, error) {
	const op = "identity.ResolversFromConfig"
	var providers map[string]map[string]struct {
		SignIn *SignInConfig `json:"signIn"`
	}
	if err := cfg.Decode("auth.providers", &providers); err != nil {
		return nil, err
	}
	out := map[string]*SignInResolver{}
	for id, envs := range providers {
		sc := envs[env].SignIn
		if sc == nil {
			continue
		}
		typ := id
		if t, ok := types[id]; ok {
			typ = t
		}
		r, err := NewSignInResolver(typ, *sc, c, opts)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "auth.providers." + id + "." + env + ".signIn", Err: err}
		}
		out[id] = r
	}
	return out, nil
}
