// Package identity says who the signed-in user is in the portal: it maps
// the identity a provider vouched for to a catalog User (sign-in
// resolvers), computes her ownership refs, and issues and verifies
// Backstage-compatible user tokens.
//
// # Sign-in resolvers
//
// A [SignInResolver] runs Backstage's declarative resolvers
// (auth.providers.<id>.<env>.signIn.resolvers, decoded into
// [SignInConfig]) with the same names, rules and order: only "not found"
// falls through to the next resolver; two matching users, a domain not
// allowed or a missing e-mail abort the sign-in. Beyond Backstage:
// allowedDomains is enforced by every e-mail resolver, an e-mail the
// provider did not verify never matches, a GitHub id matches only in its
// exact case, and an LDAP DN resolver (ldapDnMatchingUserEntityAnnotation)
// matches backstage.io/ldap-dn as LDAP compares DNs. Users are looked up
// in a [Catalog]: an org.Snapshot through [NewSnapshotCatalog], or any
// catalog the embedder wraps. [SignInResolver.Explain] returns each
// resolver's outcome. [BackstageIdentityFunc] plugs resolvers and an
// [Issuer] into auth.Options.BackstageIdentity.
//
// # Ownership refs
//
// [OwnershipRefs] returns the user's ref and her groups' refs (Backstage's
// `ent` claim): direct memberships, as Backstage, or also every group above
// them (Transitive), with a cap and a clear error above it or on a group
// cycle.
//
// # Tokens
//
// An [Issuer] mints ES256 user tokens with Backstage's header and claims
// (typ vnd.backstage.user, aud backstage, iss, sub, ent, iat, exp, uip),
// with the lifetime clamped as Backstage clamps it, and publishes its keys
// as a JWKS with overlap-based rotation, through a [KeyStore] that the
// replicas of a fleet can share (redisstore's Store.IssuerKeys). A
// [Verifier] checks tokens strictly (size, algorithm allow-list, typ, kid,
// signature, aud, exp, iat, sub) with keys from a JWKS URL, cached,
// refetched once for an unknown kid and when JWKSMaxAge old, and not
// trusted past JWKSMaxStale without a successful fetch. With
// IssuerOptions.StaticKeys (Backstage's auth.keyStore.provider: static,
// [StaticKey]) the Issuer signs with the operator's keys instead of making
// and rotating its own. [LimitedToken] rebuilds the limited user token from uip.
// With IssuerOptions.OmitOwnershipClaim (Backstage's
// auth.omitIdentityTokenOwnershipClaim) tokens carry no ent, so that a
// user in many groups can sign in; the Issuer records her ownership refs
// in a [UserInfoStore] and serves them at Backstage's user info endpoint
// ([Issuer.UserInfoHandler]), which a Verifier asks once per token
// (VerifierOptions.UserInfoURL).
// A [PluginVerifier] checks the plugin-to-plugin tokens Backstage backend
// plugins send (typ vnd.backstage.plugin, aud the receiving plugin, keys
// from the calling plugin's JWKS, an allow-list of calling plugins) and
// the limited user token of their obo claim; its Authenticate takes user
// tokens too.
//
// [User] and [Principal] name who acts: package permission decides for
// them, and an audit hook can record them.
//
// # Errors
//
// Errors are *errcode.Error values: Unauthorized for a token that does not
// verify (the message says why, never shows the token); NotFound, Conflict,
// PermissionDenied or InvalidArgument from resolvers (see
// [SignInResolver.Resolve]); InvalidArgument for bad configuration.
package identity
