package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"net/http"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/permission"
	"github.com/scmkit/scmkit/permission/rbac"
)

// defaultPolicy is the portal's RBAC policy: only members of
// group:default/platform-team may register components.
//
//go:embed rbac-policy.csv
var defaultPolicy []byte

// access is who the signed-in user is in the catalog and what she may do:
// sign-in resolvers over the organisation read from GitHub, and the RBAC
// policy of a CSV file.
type access struct {
	org       *org.Snapshot
	resolvers identity.Resolvers // by provider id and auth environment
	issuer    *identity.Issuer
	authz     *permission.Authorizer
}

// signInConfigs are the sign-in resolvers by provider id and type, for
// the environment the portal serves (auth.environment). The e-mail local
// part resolver is limited to the organisation's domain: without it, any
// verified alice@elsewhere would sign in as user:default/alice.
var signInConfigs = map[string]struct{ typ, json string }{
	"github": {"github", `{"resolvers":[{"resolver":"userIdMatchingUserEntityAnnotation"},{"resolver":"usernameMatchingUserEntityName"}]}`},
	"oidc":   {"oidc", `{"resolvers":[{"resolver":"emailLocalPartMatchingUserEntityName","allowedDomains":["example.com"]}]}`},
	"ldap":   {"ldap", `{"resolvers":[{"resolver":"usernameMatchingUserEntityName"}]}`},
}

// newAccess reads the organisation with the githuborg entries of cfg's
// catalog.providers.githubOrg, and builds the resolvers of the
// environment served (auth.environment) and the policy (policyCSV, nil
// meaning the embedded one).
func newAccess(ctx context.Context, cfg *config.Config, issuer string, policyCSV []byte) (*access, error) {
	var env string
	if err := cfg.Decode("auth.environment", &env); err != nil || env == "" {
		return nil, errcode.New(errcode.InvalidArgument, "portal", "auth.environment is required: the environment whose sign-ins the portal resolves")
	}
	gcs, err := githuborg.DecodeConfig(cfg)
	if err != nil {
		return nil, err
	}
	res, err := credentials.NewResolver(cfg.Registry, nil)
	if err != nil {
		return nil, err
	}
	snap := &org.Snapshot{}
	for _, gc := range gcs {
		rd, err := githuborg.New(gc, &githuborg.Options{Registry: cfg.Registry, Resolver: res})
		if err != nil {
			return nil, err
		}
		s, err := rd.Read(ctx)
		if err != nil {
			return nil, err
		}
		snap.Users = append(snap.Users, s.Users...)
		snap.Groups = append(snap.Groups, s.Groups...)
	}
	snap.Sort()
	if err := snap.Validate(); err != nil {
		return nil, err
	}
	x := &access{org: snap, resolvers: identity.Resolvers{}}
	cat := identity.NewSnapshotCatalog(snap)
	for id, sc := range signInConfigs {
		var c identity.SignInConfig
		if err := json.Unmarshal([]byte(sc.json), &c); err != nil {
			return nil, err
		}
		r, err := identity.NewSignInResolver(sc.typ, c, cat, nil)
		if err != nil {
			return nil, err
		}
		x.resolvers.Set(id, env, r)
	}
	if x.issuer, err = identity.NewIssuer(&identity.IssuerOptions{Issuer: issuer}); err != nil {
		return nil, err
	}
	if policyCSV == nil {
		policyCSV = defaultPolicy
	}
	f, err := rbac.ParseCSV("rbac-policy.csv", bytes.NewReader(policyCSV))
	if err != nil {
		return nil, err
	}
	pol, err := rbac.New([]*rbac.File{f}, rbac.FromSnapshot(snap), nil)
	if err != nil {
		return nil, err
	}
	x.authz = permission.NewAuthorizer(pol, nil)
	return x, nil
}

// backstageIdentity is the hook of auth.Options.BackstageIdentity: a
// sign-in that no resolver maps to a catalog user is refused.
func (x *access) backstageIdentity() func(context.Context, *auth.Session) (*auth.BackstageIdentity, error) {
	return identity.BackstageIdentityFunc(x.resolvers, x.issuer)
}

// principal is the catalog identity of a session, resolved by the
// resolvers of the provider and environment it signed in through.
func (x *access) principal(ctx context.Context, s *auth.Session) (identity.Principal, error) {
	return x.resolvers.Principal(ctx, s)
}

// who authenticates a request for permission.Require.
func (a *app) who(r *http.Request) (identity.Principal, error) {
	s, err := a.auth.Session(r)
	if err != nil {
		return identity.Principal{}, err
	}
	if a.access == nil {
		return identity.Principal{}, errcode.New(errcode.PermissionDenied, "portal", "no permission policy configured")
	}
	return a.access.principal(r.Context(), s)
}

// userRef is the catalog ref of a session's user, "" when unknown.
func (a *app) userRef(ctx context.Context, s *auth.Session) string {
	if a.access == nil {
		return ""
	}
	p, err := a.access.principal(ctx, s)
	if err != nil || p.User == nil {
		return ""
	}
	return p.User.EntityRef
}
