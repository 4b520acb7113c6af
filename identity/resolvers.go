package identity

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

// Names of the sign-in resolvers: Backstage's, plus
// ldapDnMatchingUserEntityAnnotation for LDAP sign-ins.
const (
	EmailMatchingUserEntityProfileEmail  = "emailMatchingUserEntityProfileEmail"
	EmailLocalPartMatchingUserEntityName = "emailLocalPartMatchingUserEntityName"
	UsernameMatchingUserEntityName       = "usernameMatchingUserEntityName"
	UserIDMatchingUserEntityAnnotation   = "userIdMatchingUserEntityAnnotation"
	EmailMatchingUserEntityAnnotation    = "emailMatchingUserEntityAnnotation"
	UsernameMatchingUserEntityAnnotation = "usernameMatchingUserEntityAnnotation"
	LDAPDNMatchingUserEntityAnnotation   = "ldapDnMatchingUserEntityAnnotation"
)

// Annotations the provider-specific resolvers match.
var (
	userIDAnnotations = map[string]string{
		"github":    "github.com/user-id",
		"microsoft": "graph.microsoft.com/user-id",
		"bitbucket": "bitbucket.org/user-id",
	}
	emailAnnotations = map[string]string{
		"google":    "google.com/email",
		"microsoft": "microsoft.com/email",
		"okta":      "okta.com/email",
	}
	usernameAnnotations = map[string]string{"bitbucket": "bitbucket.org/username"}
)

// ldapDNAnnotation is the annotation org/ldaporg writes.
const ldapDNAnnotation = "backstage.io/ldap-dn"

// SignInInfo is what an identity provider told about the user: the input
// of the resolvers.
type SignInInfo struct {
	// ProviderType selects the provider-specific resolvers: "github",
	// "gitlab", "microsoft", "google", "okta", "bitbucket", "ldap",
	// "oidc"…
	ProviderType string
	// UserID is the provider's stable user id, as the catalog's
	// annotation holds it: for GitHub the github.com/user-id annotation,
	// the GraphQL node id (compared case-exactly), which org/githuborg
	// writes and auth's GitHub provider reports as Identity.Subject; the
	// Microsoft Graph object id; the Bitbucket account uuid.
	UserID string
	// Username is the login (GitHub, GitLab) or LDAP uid; never a
	// Bitbucket nickname, which is not unique (see [FromAuth]).
	Username string
	// Email is the profile e-mail; EmailVerified whether the provider
	// verified it. An unverified address never matches.
	Email         string
	EmailVerified bool
	// DN is the LDAP entry's distinguished name.
	DN string
	// Issuer is the provider instance's base URL (auth.Identity.Issuer,
	// which auth's providers always set): https://github.com or a GitHub
	// Enterprise Server's URL, https://gitlab.com or a self-managed
	// GitLab's URL. The resolvers compare its host with the instance a
	// catalog user names, when she names one (see
	// [SignInResolver.Resolve]). Empty means unknown: no instance is
	// compared, as in Backstage.
	Issuer string
}

// FromAuth returns the SignInInfo of an auth.Identity: UserID is
// id.Subject (see [SignInInfo.UserID] for GitHub), Username id.Login,
// except for Bitbucket: its API has had no usernames since 2019, and the
// Login of a Bitbucket sign-in is the nickname, which Atlassian documents
// as not unique and which every user chooses, so it is no username to
// match a catalog user by (usernameMatchingUserEntityAnnotation refuses
// such a sign-in; match bitbucket.org/user-id, the account uuid, with
// userIdMatchingUserEntityAnnotation). providerType is the provider's
// type; "" means id.Provider (Backstage's ids are usually the types).
func FromAuth(id auth.Identity, providerType string) SignInInfo {
	if providerType == "" {
		providerType = id.Provider
	}
	username := id.Login
	if providerType == "bitbucket" {
		username = ""
	}
	return SignInInfo{ProviderType: providerType, UserID: id.Subject, Username: username,
		Email: id.Email, EmailVerified: id.EmailVerified, DN: id.DN, Issuer: id.Issuer}
}

// ResolverConfig is one entry of signIn.resolvers.
type ResolverConfig struct {
	Resolver string
	// AllowedDomains restricts the e-mail domains, enforced by every
	// e-mail resolver (Backstage enforces it in one).
	AllowedDomains []string
	// DangerouslyAllowSignInWithoutUserInCatalog signs a user absent from
	// the catalog in as user:default/<name>, with no group. Unlike
	// Backstage, it refuses (PermissionDenied) when a catalog user
	// already has that ref: the sign-in would take her identity.
	DangerouslyAllowSignInWithoutUserInCatalog bool
	// DangerouslyAllowAnyEmailDomain (dangerouslyAllowAnyEmailDomain,
	// scmkit's; emailLocalPartMatchingUserEntityName only) lets that
	// resolver run without AllowedDomains. Unlike Backstage, scmkit
	// refuses emailLocalPartMatchingUserEntityName without
	// allowedDomains: any verified alice@anywhere.example would sign in
	// as user:default/alice. Set it only when the provider vouches for
	// addresses of your own domains alone (a single-tenant IdP).
	DangerouslyAllowAnyEmailDomain bool
	present                        map[string]bool
}

// UnmarshalJSON reads an entry, keeping which options were given so that
// options a resolver does not take can be refused.
func (c *ResolverConfig) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var v struct {
		Resolver       string   `json:"resolver"`
		AllowedDomains []string `json:"allowedDomains"`
		Dangerously    bool     `json:"dangerouslyAllowSignInWithoutUserInCatalog"`
		AnyDomain      bool     `json:"dangerouslyAllowAnyEmailDomain"`
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return err
	}
	*c = ResolverConfig{Resolver: v.Resolver, AllowedDomains: v.AllowedDomains, DangerouslyAllowSignInWithoutUserInCatalog: v.Dangerously,
		DangerouslyAllowAnyEmailDomain: v.AnyDomain, present: map[string]bool{}}
	for k := range raw {
		c.present[k] = true
	}
	return nil
}

// SignInConfig is auth.providers.<id>.<env>.signIn. Decode it with
// [github.com/scmkit/scmkit/config.Config.Decode] (see the example).
type SignInConfig struct {
	Resolvers []ResolverConfig `json:"resolvers"`
}

// ResolverOptions configure a [SignInResolver]. Nil means the defaults.
type ResolverOptions struct {
	// Ownership computes the ownership refs of the resolved user.
	Ownership *OwnershipOptions
}

// SignInResolver maps a signed-in identity to a catalog User with
// Backstage's declarative resolvers, tried in order: only "not found"
// falls through to the next; anything else (two matching users, a domain
// not allowed, a missing e-mail, a wrong-case-only GitHub id) aborts the
// sign-in. It is safe for concurrent use.
type SignInResolver struct {
	providerType string
	steps        []ResolverConfig
	catalog      Catalog
	ownership    *OwnershipOptions
}

// options each resolver takes, besides "resolver".
var resolverOptions = map[string][]string{
	EmailMatchingUserEntityProfileEmail:  {"allowedDomains", "dangerouslyAllowSignInWithoutUserInCatalog"},
	EmailLocalPartMatchingUserEntityName: {"allowedDomains", "dangerouslyAllowSignInWithoutUserInCatalog", "dangerouslyAllowAnyEmailDomain"},
	UsernameMatchingUserEntityName:       {"dangerouslyAllowSignInWithoutUserInCatalog"},
	UserIDMatchingUserEntityAnnotation:   {"dangerouslyAllowSignInWithoutUserInCatalog"},
	EmailMatchingUserEntityAnnotation:    {"allowedDomains", "dangerouslyAllowSignInWithoutUserInCatalog"},
	UsernameMatchingUserEntityAnnotation: {"dangerouslyAllowSignInWithoutUserInCatalog"},
	LDAPDNMatchingUserEntityAnnotation:   {},
}

// resolverFor reports whether a resolver exists for a provider type.
func resolverFor(name, providerType string) bool {
	switch name {
	case EmailMatchingUserEntityProfileEmail, EmailLocalPartMatchingUserEntityName:
		return true
	case UsernameMatchingUserEntityName:
		return providerType == "github" || providerType == "gitlab" || providerType == "ldap"
	case UserIDMatchingUserEntityAnnotation:
		return userIDAnnotations[providerType] != ""
	case EmailMatchingUserEntityAnnotation:
		return emailAnnotations[providerType] != ""
	case UsernameMatchingUserEntityAnnotation:
		return usernameAnnotations[providerType] != ""
	case LDAPDNMatchingUserEntityAnnotation:
		return providerType == "ldap"
	}
	return false
}

// NewSignInResolver returns the resolvers of cfg for a provider type,
// looking users up in c. It returns InvalidArgument, naming the entry, for
// an empty list, an unknown resolver, one the provider does not have, or
// an option the resolver does not take (as Backstage refuses them at
// startup), and, unlike Backstage, for emailLocalPartMatchingUserEntityName
// without allowedDomains (see
// [ResolverConfig.DangerouslyAllowAnyEmailDomain]).
func NewSignInResolver(providerType string, cfg SignInConfig, c Catalog, opts *ResolverOptions) (*SignInResolver, error) {
	const op = "identity.NewSignInResolver"
	if len(cfg.Resolvers) == 0 {
		return nil, errcode.New(errcode.InvalidArgument, op, "signIn.resolvers is empty")
	}
	if c == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "no catalog")
	}
	r := &SignInResolver{providerType: providerType, steps: slices.Clone(cfg.Resolvers), catalog: c}
	if opts != nil {
		r.ownership = opts.Ownership
	}
	for i, s := range r.steps {
		allowed, known := resolverOptions[s.Resolver]
		switch {
		case !known:
			return nil, errcode.Newf(errcode.InvalidArgument, op, "signIn.resolvers[%d]: unknown resolver %q", i, s.Resolver)
		case !resolverFor(s.Resolver, providerType):
			return nil, errcode.Newf(errcode.InvalidArgument, op, "signIn.resolvers[%d]: the %s provider has no resolver %q", i, providerType, s.Resolver)
		}
		for k := range s.present {
			if k != "resolver" && !slices.Contains(allowed, k) {
				return nil, errcode.Newf(errcode.InvalidArgument, op, "signIn.resolvers[%d]: %s takes no option %q", i, s.Resolver, k)
			}
		}
		if s.present == nil {
			// built in code: check the options set
			if len(s.AllowedDomains) > 0 && !slices.Contains(allowed, "allowedDomains") {
				return nil, errcode.Newf(errcode.InvalidArgument, op, "signIn.resolvers[%d]: %s takes no allowedDomains", i, s.Resolver)
			}
			if s.DangerouslyAllowSignInWithoutUserInCatalog && !slices.Contains(allowed, "dangerouslyAllowSignInWithoutUserInCatalog") {
				return nil, errcode.Newf(errcode.InvalidArgument, op, "signIn.resolvers[%d]: %s takes no dangerouslyAllowSignInWithoutUserInCatalog", i, s.Resolver)
			}
			if s.DangerouslyAllowAnyEmailDomain && !slices.Contains(allowed, "dangerouslyAllowAnyEmailDomain") {
				return nil, errcode.Newf(errcode.InvalidArgument, op, "signIn.resolvers[%d]: %s takes no dangerouslyAllowAnyEmailDomain", i, s.Resolver)
			}
		}
		if s.Resolver == EmailLocalPartMatchingUserEntityName {
			switch {
			case len(s.AllowedDomains) == 0 && !s.DangerouslyAllowAnyEmailDomain:
				return nil, errcode.Newf(errcode.InvalidArgument, op, "signIn.resolvers[%d]: %s needs allowedDomains: without it any verified "+
					"address, such as alice@attacker.example, signs in as the catalog's user:default/alice; list your organisation's "+
					"e-mail domains in allowedDomains (or, only if the provider vouches for your own domains alone, set "+
					"dangerouslyAllowAnyEmailDomain: true)", i, s.Resolver)
			case len(s.AllowedDomains) > 0 && s.DangerouslyAllowAnyEmailDomain:
				return nil, errcode.Newf(errcode.InvalidArgument, op, "signIn.resolvers[%d]: %s has both allowedDomains and "+
					"dangerouslyAllowAnyEmailDomain; keep allowedDomains", i, s.Resolver)
			}
		}
		for _, d := range s.AllowedDomains {
			if d == "" || strings.ContainsAny(d, "@ ") {
				return nil, errcode.Newf(errcode.InvalidArgument, op, "signIn.resolvers[%d]: %q is not a domain", i, d)
			}
		}
	}
	return r, nil
}

// Step is one resolver tried during a sign-in.
type Step struct {
	Resolver string `json:"resolver"`
	// Outcome is "matched", "not found" (fell through), "refused"
	// (aborted the sign-in) or "not tried".
	Outcome string `json:"outcome"`
	// Detail says what was looked up and why it did not match.
	Detail string `json:"detail,omitempty"`
}

// Resolution is the outcome of a sign-in resolution.
type Resolution struct {
	// User is the catalog user; nil when signed in without a catalog
	// user (dangerouslyAllowSignInWithoutUserInCatalog).
	User *org.User
	// Identity is her Backstage identity: entity ref and ownership refs.
	Identity User
	// Resolver is the resolver that matched.
	Resolver string
	// Steps are the resolvers tried, in order, with their outcomes.
	Steps []Step
}

// errNotFound marks a resolver's "no such user": the only outcome that
// falls through.
var errNotFound = errors.New("not found")

// Resolve finds the catalog user for info and her ownership refs. It
// returns the resolution, or an error with the steps so far:
//
//   - NotFound ("Failed to sign-in, unable to resolve user identity") when
//     every resolver found nobody;
//   - Conflict when one resolver matches two users (never the first);
//   - PermissionDenied when an e-mail's domain is not allowed, when
//     signing in without a catalog user would take a catalog user's ref,
//     or when the user found carries the stable id of another account
//     (see below);
//   - InvalidArgument when the provider gave no e-mail (or id, username,
//     DN) that a resolver needs, or a GitHub id matches only in another
//     case;
//   - the catalog's error, and OwnershipRefs' errors (too many refs, a
//     group cycle with transitive ownership).
//
// A user found by name or id must be the signed-in account when she says
// which account she is, stricter than Backstage (a user without these
// annotations matches as in Backstage):
//
//   - ldap, usernameMatchingUserEntityName: a user with a
//     backstage.io/ldap-dn annotation (org/ldaporg writes it) matches only
//     a sign-in with that DN (another entry with the same uid, say in
//     another directory or OU, does not);
//   - gitlab, usernameMatchingUserEntityName: a user with a
//     <host>/user-login annotation holding her web URL on that host
//     (Backstage's and org/gitlaborg's) matches only a sign-in from that
//     instance (SignInInfo.Issuer), so gitlab.com's alice is not a
//     self-managed instance's alice;
//   - github, usernameMatchingUserEntityName and
//     userIdMatchingUserEntityAnnotation: a user with a <host>/user-id
//     annotation equal to her github.com/user-id (org/githuborg writes it
//     for users of a GitHub Enterprise Server, whose node ids are small
//     and repeat across instances) matches only a sign-in from that
//     instance. A user without it (read from github.com, or by Backstage)
//     carries no instance and matches a sign-in from any instance by id,
//     as in Backstage.
//
// A SignInInfo without Issuer names no instance, and the instance checks
// are skipped for it.
//
// usernameMatchingUserEntityName on github matches the login alone, as
// Backstage's (which deprecates it): GitHub lets anyone register a login
// its owner gave up, who then signs in as the catalog's user of that
// name. Prefer userIdMatchingUserEntityAnnotation.
//
// Use [SignInResolver.Explain] to get the steps also on failure.
func (r *SignInResolver) Resolve(ctx context.Context, info SignInInfo) (*Resolution, error) {
	res, err := r.Explain(ctx, info)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Explain is Resolve, returning the resolution with its steps also when it
// fails (then with a nil User).
func (r *SignInResolver) Explain(ctx context.Context, info SignInInfo) (*Resolution, error) {
	const op = "identity.Resolve"
	res := &Resolution{}
	for i, s := range r.steps {
		if err := errcode.FromContext(ctx, op); err != nil {
			return res, err
		}
		ref, user, detail, err := r.try(ctx, s, info)
		step := Step{Resolver: s.Resolver, Detail: detail}
		switch {
		case err == nil:
			step.Outcome = "matched"
			res.Steps = append(res.Steps, step)
			res.User, res.Resolver = user, s.Resolver
			if user == nil {
				res.Identity = User{EntityRef: ref.String(), OwnershipEntityRefs: []string{ref.String()}}
				return res, nil
			}
			ent, err := OwnershipRefs(ctx, r.catalog, ref, r.ownership)
			if err != nil {
				return res, err
			}
			res.Identity = User{EntityRef: ref.String(), OwnershipEntityRefs: ent}
			return res, nil
		case errors.Is(err, errNotFound):
			step.Outcome = "not found"
			res.Steps = append(res.Steps, step)
		default:
			step.Outcome = "refused"
			res.Steps = append(res.Steps, step)
			for _, rest := range r.steps[i+1:] {
				res.Steps = append(res.Steps, Step{Resolver: rest.Resolver, Outcome: "not tried"})
			}
			var ce *errcode.Error
			if errors.As(err, &ce) {
				return res, err
			}
			return res, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: s.Resolver + ": looking the user up in the catalog failed", Err: err}
		}
	}
	return res, &errcode.Error{Code: errcode.NotFound, Op: op, Msg: "Failed to sign-in, unable to resolve user identity (" + describeSteps(res.Steps) + ")"}
}

func describeSteps(steps []Step) string {
	parts := make([]string, len(steps))
	for i, s := range steps {
		parts[i] = s.Resolver + ": " + s.Detail
	}
	return strings.Join(parts, "; ")
}

// try runs one resolver. It returns errNotFound (wrapped) for "no user".
func (r *SignInResolver) try(ctx context.Context, s ResolverConfig, info SignInInfo) (org.Ref, *org.User, string, error) {
	const op = "identity.Resolve"
	invalid := func(msg string) (org.Ref, *org.User, string, error) {
		return org.Ref{}, nil, msg, errcode.New(errcode.InvalidArgument, op, s.Resolver+": "+msg)
	}
	// fallback is the name a user absent from the catalog gets with
	// dangerouslyAllowSignInWithoutUserInCatalog.
	var fallback string
	var filter Filter
	exactCase := false
	switch s.Resolver {
	case EmailMatchingUserEntityProfileEmail, EmailLocalPartMatchingUserEntityName, EmailMatchingUserEntityAnnotation:
		if info.Email == "" {
			return invalid("the profile contains no e-mail address")
		}
		local, domain, ok := strings.Cut(info.Email, "@")
		if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
			return invalid("the profile's e-mail address is malformed")
		}
		if len(s.AllowedDomains) > 0 && !slices.ContainsFunc(s.AllowedDomains, func(d string) bool { return org.EqualFoldASCII(d, domain) }) {
			return org.Ref{}, nil, "domain " + domain + " not allowed", errcode.Newf(errcode.PermissionDenied, op,
				"%s: sign-in from the e-mail domain %s is not allowed", s.Resolver, domain)
		}
		if !info.EmailVerified {
			detail := "the e-mail address is not verified by the provider"
			if r.providerType == "github" {
				detail += " (GitHub says which e-mail is verified only with the user:email scope in additionalScopes, or to a GitHub App with the Email addresses permission)"
			}
			return org.Ref{}, nil, detail, errNotFound
		}
		fallback = local
		switch s.Resolver {
		case EmailMatchingUserEntityProfileEmail:
			filter = Filter{Email: info.Email}
		case EmailLocalPartMatchingUserEntityName:
			filter = Filter{Ref: org.UserRef(org.DefaultNamespace, local)}
		default:
			filter = Filter{Annotation: emailAnnotations[r.providerType], Value: info.Email}
		}
	case UsernameMatchingUserEntityName:
		if info.Username == "" {
			return invalid("the profile contains no username")
		}
		fallback = info.Username
		filter = Filter{Ref: org.UserRef(org.DefaultNamespace, info.Username)}
	case UsernameMatchingUserEntityAnnotation:
		if info.Username == "" {
			return invalid("the profile contains no username")
		}
		fallback = info.Username
		filter = Filter{Annotation: usernameAnnotations[r.providerType], Value: info.Username}
	case UserIDMatchingUserEntityAnnotation:
		if info.UserID == "" {
			return invalid("the profile contains no user id")
		}
		fallback = info.Username
		filter = Filter{Annotation: userIDAnnotations[r.providerType], Value: info.UserID}
		exactCase = r.providerType == "github"
	case LDAPDNMatchingUserEntityAnnotation:
		if info.DN == "" {
			return invalid("the sign-in carries no DN")
		}
		return r.byDN(ctx, info.DN)
	}
	users, err := r.catalog.FindUsers(ctx, filter)
	if err != nil {
		return org.Ref{}, nil, filter.String(), err
	}
	users = foldMatches(users, filter)
	if exactCase {
		exact := slices.DeleteFunc(slices.Clone(users), func(u org.User) bool { return u.Metadata.Annotations[filter.Annotation] != filter.Value })
		if len(users) > 0 && len(exact) == 0 {
			return org.Ref{}, nil, filter.String() + " matches only in another case", errcode.Newf(errcode.InvalidArgument, op,
				"%s: %s matches a user only in another letter case; GitHub ids are case-sensitive", s.Resolver, filter)
		}
		users = exact
	}
	if len(users) == 0 && s.Resolver == EmailMatchingUserEntityProfileEmail {
		if plain, ok := withoutPlus(info.Email); ok {
			filter = Filter{Email: plain}
			if users, err = r.catalog.FindUsers(ctx, filter); err != nil {
				return org.Ref{}, nil, filter.String(), err
			}
			users = foldMatches(users, filter)
		}
	}
	if len(users) == 0 && s.DangerouslyAllowSignInWithoutUserInCatalog && fallback != "" {
		// The fallback ref must not be someone's: a profile e-mail
		// alice@elsewhere, or a GitHub login "alice" whose id no catalog
		// user has, would otherwise sign in as the catalog's
		// user:default/alice and own what she owns.
		ref := org.UserRef(org.DefaultNamespace, fallback)
		taken, err := r.catalog.FindUsers(ctx, Filter{Ref: ref})
		if err != nil {
			return org.Ref{}, nil, filter.String(), err
		}
		if len(taken) > 0 {
			return org.Ref{}, nil, filter.String() + ": no user; " + ref.String() + " is another catalog user", errcode.Newf(errcode.PermissionDenied, op,
				"%s: no catalog user has %s, and signing in without a catalog user as %s would take the identity of that catalog user", s.Resolver, filter, ref)
		}
	}
	ref, u, detail, err := r.one(s, users, filter, fallback)
	if err == nil && u != nil {
		if why := r.otherAccount(s.Resolver, u, info); why != "" {
			return org.Ref{}, nil, detail + ": " + why, errcode.Newf(errcode.PermissionDenied, op,
				"%s: %s matches %s, but %s", s.Resolver, filter, ref, why)
		}
	}
	return ref, u, detail, err
}

// otherAccount says why the catalog user u, found by resolver, is not the
// account info signed in with ("" when nothing says she is another): see
// Resolve.
func (r *SignInResolver) otherAccount(resolver string, u *org.User, info SignInInfo) string {
	a := u.Metadata.Annotations
	switch {
	case r.providerType == "ldap" && resolver == UsernameMatchingUserEntityName:
		want, ok := a[ldapDNAnnotation]
		if !ok {
			return ""
		}
		wdn, err := ldap.ParseDN(want)
		if err != nil {
			return "her " + ldapDNAnnotation + " is malformed"
		}
		if info.DN == "" {
			return "her " + ldapDNAnnotation + " is " + want + " and the sign-in carries no DN"
		}
		if dn, err := ldap.ParseDN(info.DN); err != nil || !dn.EqualFold(wdn) {
			return "her " + ldapDNAnnotation + " is " + want + ", not the sign-in's DN"
		}
	case r.providerType == "gitlab" && resolver == UsernameMatchingUserEntityName:
		var hosts []string
		for k, v := range a {
			h, ok := strings.CutSuffix(k, "/user-login")
			if vu, err := url.Parse(v); ok && err == nil && (vu.Scheme == "https" || vu.Scheme == "http") && vu.Host != "" && hostOf(vu) == strings.ToLower(h) {
				hosts = append(hosts, hostOf(vu))
			}
		}
		if len(hosts) > 0 && info.Issuer != "" && !slices.Contains(hosts, signInHost(info)) {
			slices.Sort(hosts)
			return "she is a user of " + strings.Join(hosts, ", ") + ", not of " + cmp.Or(signInHost(info), "the sign-in's instance")
		}
	case r.providerType == "github" && (resolver == UsernameMatchingUserEntityName || resolver == UserIDMatchingUserEntityAnnotation):
		id := a[userIDAnnotations["github"]]
		if id == "" {
			return ""
		}
		var hosts []string
		for k, v := range a {
			if h, ok := strings.CutSuffix(k, "/user-id"); ok && v == id && h != "" && !strings.EqualFold(h, "github.com") {
				hosts = append(hosts, strings.ToLower(h))
			}
		}
		if len(hosts) > 0 && info.Issuer != "" && !slices.Contains(hosts, signInHost(info)) {
			slices.Sort(hosts)
			return "she is a user of " + strings.Join(hosts, ", ") + ", not of " + cmp.Or(signInHost(info), "the sign-in's instance")
		}
	}
	return ""
}

// signInHost is the lower-case host (with a port other than the scheme's
// default) of info.Issuer, "" when it does not parse.
func signInHost(info SignInInfo) string {
	u, err := url.Parse(info.Issuer)
	if err != nil || u.Host == "" {
		return ""
	}
	return hostOf(u)
}

// hostOf is u's lower-case host, without the scheme's default port.
func hostOf(u *url.URL) string {
	if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
		return strings.ToLower(u.Hostname())
	}
	return strings.ToLower(u.Host)
}

// foldMatches keeps the users whose looked-up value equals f's with ASCII
// letters compared case-insensitively and every other byte exactly. A
// catalog may fold case with Unicode rules, under which "\u212Aate"
// (KELVIN SIGN) finds "kate" and "adm\u0130n" finds "admin": a sign-in
// must not resolve to another person through such a fold.
func foldMatches(users []org.User, f Filter) []org.User {
	return slices.DeleteFunc(slices.Clone(users), func(u org.User) bool {
		switch {
		case f.Annotation != "":
			return !org.EqualFoldASCII(u.Metadata.Annotations[f.Annotation], f.Value)
		case f.Email != "":
			return !org.EqualFoldASCII(u.Spec.Profile.Email, f.Email)
		}
		return !org.EqualFoldASCII(u.Ref().String(), f.Ref.String())
	})
}

// one turns the lookup's users into the outcome.
func (r *SignInResolver) one(s ResolverConfig, users []org.User, f Filter, fallback string) (org.Ref, *org.User, string, error) {
	switch len(users) {
	case 1:
		u := users[0]
		return u.Ref(), &u, f.String(), nil
	case 0:
		if s.DangerouslyAllowSignInWithoutUserInCatalog && fallback != "" {
			ref := org.UserRef(org.DefaultNamespace, fallback)
			if org.ValidName(ref.Name) {
				return ref, nil, f.String() + ": no user; signed in without a catalog user as " + ref.String(), nil
			}
		}
		return org.Ref{}, nil, "no user with " + f.String(), fmt.Errorf("%w: %s", errNotFound, f)
	}
	refs := make([]string, len(users))
	for i, u := range users {
		refs[i] = u.Ref().String()
	}
	return org.Ref{}, nil, f.String() + " matches " + strings.Join(refs, ", "), errcode.Newf(errcode.Conflict, "identity.Resolve",
		"%s: %s matches %d users (%s); refusing to pick one", s.Resolver, f, len(users), strings.Join(refs, ", "))
}

// byDN finds the user whose backstage.io/ldap-dn annotation is the DN,
// compared as LDAP compares DNs (attribute types case-insensitively,
// insignificant spaces ignored). The annotation lookup narrows by the
// normalised string; DNs that differ only in escaping are compared
// after parsing.
func (r *SignInResolver) byDN(ctx context.Context, dn string) (org.Ref, *org.User, string, error) {
	const op = "identity.Resolve"
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return org.Ref{}, nil, "malformed DN", errcode.New(errcode.InvalidArgument, op, LDAPDNMatchingUserEntityAnnotation+": the sign-in's DN is malformed")
	}
	f := Filter{Annotation: ldapDNAnnotation, Value: parsed.String()}
	users, err := r.catalog.FindUsers(ctx, f)
	if err != nil {
		return org.Ref{}, nil, f.String(), err
	}
	if len(users) == 0 && parsed.String() != dn {
		f.Value = dn
		if users, err = r.catalog.FindUsers(ctx, f); err != nil {
			return org.Ref{}, nil, f.String(), err
		}
	}
	users = slices.DeleteFunc(users, func(u org.User) bool {
		other, err := ldap.ParseDN(u.Metadata.Annotations[ldapDNAnnotation])
		return err != nil || !parsed.EqualFold(other)
	})
	return r.one(ResolverConfig{Resolver: LDAPDNMatchingUserEntityAnnotation}, users, f, "")
}

// withoutPlus removes plus-addressing: "a+tag@x" → "a@x".
func withoutPlus(email string) (string, bool) {
	local, domain, _ := strings.Cut(email, "@")
	base, _, ok := strings.Cut(local, "+")
	if !ok || base == "" {
		return "", false
	}
	return base + "@" + domain, true
}
