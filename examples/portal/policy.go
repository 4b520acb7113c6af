package main

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
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

// worldPolicy holds the fake world's RBAC policy, rbac-policy.csv (only
// members of group:default/platform-team may register components), read
// as its app-config's permission.rbac.policies-csv-file names it.
//
//go:embed rbac-policy.csv
var worldPolicy embed.FS

// access is who the signed-in user is in the catalog and what she may do:
// sign-in resolvers over the organisation read from GitHub, and the RBAC
// policy of the configuration's permission section.
type access struct {
	org       *org.Snapshot
	catalog   *identity.SnapshotCatalog
	resolvers identity.Resolvers // by provider id and auth environment
	issuer    *identity.Issuer
	authz     *permission.Authorizer
}

// newAccess builds what a Backstage app-config says about who is who and
// who may do what:
//
//   - the organisation, read with every catalog.providers.githubOrg
//     entry and combined with org.Merge (the first entry wins a name two
//     of them have, and memberships are never combined across them: a
//     second organisation's "platform-team" does not make its members
//     members of the first's);
//   - the sign-in resolvers of auth.providers.<id>.<auth.environment>.signIn,
//     over that organisation;
//   - the RBAC policy of the permission section (permission.enabled,
//     permission.rbac.policies-csv-file, conditionalPoliciesFile,
//     maxDepth, admin.superUsers), its files read from policyFiles, or
//     relative to the working directory as Backstage reads them when
//     policyFiles is nil.
//
// Without permission.enabled: true there is no policy: it returns nil
// and a warning, and the portal then refuses what needs a permission and
// acts with the user's own credentials only. (Backstage would allow
// everything; a template should not.)
func newAccess(ctx context.Context, cfg *config.Config, issuer string, policyFiles fs.FS) (*access, []string, error) {
	var pc rbac.Config
	if err := cfg.Decode("permission", &pc); err != nil {
		return nil, nil, err
	}
	if !pc.Enabled {
		return nil, append(pc.Warnings(), "permission.enabled is not true: the portal has no permission policy; it refuses registrations "+
			"and reads and writes with the signed-in user's own token only"), nil
	}
	var env string
	if err := cfg.Decode("auth.environment", &env); err != nil || env == "" {
		return nil, nil, errcode.New(errcode.InvalidArgument, "portal", "auth.environment is required: the environment whose sign-ins the portal resolves")
	}
	gcs, err := githuborg.DecodeConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	// Keys of the permission section that scmkit does not read (a typo
	// such as policiesCsvFile loads an empty policy, which denies
	// everything): say so at startup.
	warnings := pc.Warnings()
	for _, gc := range gcs {
		warnings = append(warnings, gc.Warnings...)
	}
	for _, other := range []string{"catalog.providers.gitlab", "catalog.providers.microsoftGraphOrg", "catalog.providers.ldapOrg"} {
		if cfg.Has(other) {
			// Its users would be missing: their sign-ins refused, their
			// groups' roles not granted. Read it as githubOrg is read,
			// with its package's DecodeConfig and New, into snaps.
			warnings = append(warnings, other+": not read by the portal, which reads catalog.providers.githubOrg only")
		}
	}
	res, err := credentials.NewResolver(cfg.Registry, nil)
	if err != nil {
		return nil, nil, err
	}
	var snaps []*org.Snapshot
	for _, gc := range gcs {
		rd, err := githuborg.New(gc, &githuborg.Options{Registry: cfg.Registry, Resolver: res})
		if err != nil {
			return nil, nil, err
		}
		s, err := rd.Read(ctx)
		if err != nil {
			return nil, nil, err
		}
		snaps = append(snaps, s)
	}
	// Never append snapshots: two providers' entities of one name would
	// both be kept, and their memberships combined.
	snap := org.Merge(snaps...)
	warnings = append(warnings, snap.Warnings...)
	x := &access{org: snap, catalog: identity.NewSnapshotCatalog(snap)}
	if err := x.catalog.Err(); err != nil {
		return nil, nil, err
	}
	if x.resolvers, err = identity.ResolversFromConfig(cfg, env, nil, x.catalog, nil); err != nil {
		return nil, nil, err
	}
	if x.issuer, err = identity.NewIssuer(&identity.IssuerOptions{Issuer: issuer}); err != nil {
		return nil, nil, err
	}
	var pol *rbac.Policy
	if policyFiles != nil {
		pol, err = rbac.Load(policyFiles, &pc, rbac.FromSnapshot(snap))
	} else {
		pol, err = rbac.LoadFiles(".", &pc, rbac.FromSnapshot(snap))
	}
	if err != nil {
		return nil, nil, err
	}
	// The Logger gets the cause of every refused check that failed (a
	// loader's error, a policy's), which the HTTP answer leaves out.
	x.authz = permission.NewAuthorizer(pol, &permission.AuthorizerOptions{Logger: slog.Default()})
	return x, warnings, nil
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
