package identity

import (
	"context"
	"strings"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// Resolvers are sign-in resolvers by provider id and auth environment
// (id → env → resolver), as auth.providers.<id>.<env>.signIn configures
// them. A sign-in is resolved only by the resolvers of the provider and
// the environment it came through (auth.Session.Env, carried in the
// sealed state of the sign-in): environments never lend each other
// their resolvers, as in Backstage, where each environment's signIn is
// its own, so a second environment whose identity provider is looser
// (a development tenant with self-registration) cannot sign users in
// through production's resolvers.
//
// A nil Resolvers resolves nothing (every sign-in is refused); Set and
// Merge need a non-nil one, from make(Resolvers) or [ResolversFromConfig].
type Resolvers map[string]map[string]*SignInResolver

// Merge sets in rs every resolver of other, whose resolvers win where both
// have one for a provider and environment: the resolvers of several
// environments, each read with ResolversFromConfig, served by one portal.
func (rs Resolvers) Merge(other Resolvers) {
	for id, byEnv := range other {
		for env, r := range byEnv {
			rs.Set(id, env, r)
		}
	}
}

// For returns the resolver of provider id in environment env, nil when
// there is none.
func (rs Resolvers) For(id, env string) *SignInResolver { return rs[id][env] }

// Set sets the resolver of provider id in environment env.
func (rs Resolvers) Set(id, env string, r *SignInResolver) {
	if rs[id] == nil {
		rs[id] = map[string]*SignInResolver{}
	}
	rs[id][env] = r
}

// Principal returns the caller of a server-rendered portal's request: the
// catalog user that the session's identity resolves to, with the resolver
// of the provider and environment she signed in through, as at her
// sign-in (Backstage resolves a sign-in once and puts the result in its
// token; a portal that keeps sessions resolves on each request, and sees
// a change of the catalog at once). It makes no request to the provider;
// the resolver reads the catalog. A provider or environment without
// resolvers is PermissionDenied, as [BackstageIdentityFunc] refuses its
// sign-in; a user the catalog does not know is the resolver's error
// (NotFound).
func (rs Resolvers) Principal(ctx context.Context, s *auth.Session) (Principal, error) {
	res, err := rs.resolve(ctx, "identity.Principal", s)
	if err != nil {
		return Principal{}, err
	}
	u := res.Identity
	return Principal{User: &u}, nil
}

// resolve resolves s's identity with the resolver of its provider id and
// environment.
func (rs Resolvers) resolve(ctx context.Context, op string, s *auth.Session) (*Resolution, error) {
	r := rs.For(s.Identity.Provider, s.Env)
	if r == nil {
		return nil, errcode.Newf(errcode.PermissionDenied, op, "no sign-in resolvers for provider %q in the %q environment", s.Identity.Provider, s.Env)
	}
	return r.Resolve(ctx, FromAuth(s.Identity, r.providerType))
}

// BackstageIdentityFunc returns the hook auth.Options.BackstageIdentity
// takes: after each sign-in and refresh it resolves the session's identity
// with the resolver of its provider id and environment (several providers
// may resolve to the same user) and issues her Backstage token. A provider
// or environment without resolvers is refused, as Backstage refuses a
// sign-in it cannot resolve; the error's message names the reason, never
// a secret.
func BackstageIdentityFunc(resolvers Resolvers, is *Issuer) func(context.Context, *auth.Session) (*auth.BackstageIdentity, error) {
	return func(ctx context.Context, s *auth.Session) (*auth.BackstageIdentity, error) {
		res, err := resolvers.resolve(ctx, "identity.SignIn", s)
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
// has auth.providers.<id>.<env>.signIn in cfg, under its id and env (call
// it once per environment served and merge, for several); the
// provider's type is its id, as in Backstage (github, gitlab, microsoft,
// google, okta, bitbucket, oidc, ldap), unless types maps the id to
// another. A provider without signIn is left out (its sign-ins are then
// refused by [BackstageIdentityFunc]). Errors are InvalidArgument and
// name the provider.
//
// An env that no provider of cfg is configured for (a misspelt
// auth.environment, say) is an error naming the environments cfg has,
// rather than resolvers that refuse every sign-in; a cfg with no
// provider configured for any environment (no auth.providers) builds
// none, without error. When cfg also has an
// UnsetVariables(path string) []string method, as *config.Config has, an
// error names the environment variables that the signIn block (or, with
// env empty, auth.environment) used and that are not set.
func ResolversFromConfig(cfg Decoder, env string, types map[string]string, c Catalog, opts *ResolverOptions) (Resolvers, error) {
	const op = "identity.ResolversFromConfig"
	var providers map[string]map[string]struct {
		SignIn *SignInConfig `json:"signIn"`
	}
	if err := cfg.Decode("auth.providers", &providers); err != nil {
		return nil, err
	}
	unset := func(path string) string {
		if u, ok := cfg.(interface{ UnsetVariables(string) []string }); ok {
			if names := u.UnsetVariables(path); len(names) > 0 {
				return " (the environment does not set " + strings.Join(names, ", ") + ")"
			}
		}
		return ""
	}
	if err := envConfigured(providers, env, unset); err != nil {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: err.Error()}
	}
	out := Resolvers{}
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
			path := "auth.providers." + id + "." + env + ".signIn"
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: path + unset(path), Err: err}
		}
		out.Set(id, env, r)
	}
	return out, nil
}
