// Package permission decides what a signed-in user may do, with
// Backstage's permission model: basic and resource permissions
// ([Permission], with Backstage's names such as catalog.entity.create),
// decisions ALLOW, DENY and CONDITIONAL ([Decision]) whose conditions are
// allOf/anyOf/not trees of rules ([Criteria]) within the RBAC plugin's
// limits, and the catalog's rules ([CatalogRules]: IS_ENTITY_OWNER,
// HAS_ANNOTATION, IS_ENTITY_KIND, HAS_LABEL, HAS_METADATA, HAS_SPEC)
// evaluated against a catalog entity.
//
// A [Policy] decides one permission for one user; package
// permission/rbac provides the community RBAC plugin's policy (CSV files,
// roles from group membership, conditional policies). An [Authorizer]
// answers batches of checks in Backstage's wire shape, as a function
// ([Authorizer.Authorize]) and as an http.Handler ([Handler]) for
// POST /api/permission/authorize: it asks the policy once per distinct
// permission, loads each distinct resource once through a
// [ResourceLoader], and turns CONDITIONAL decisions on a named resource
// into ALLOW or DENY (a resource that does not exist is DENY, so that its
// existence does not leak).
//
// Every decision carries a [Reason]: which policy line, which role, which
// group path, so that "why was she refused?" has an answer, as
// credentials.Resolver.Explain has for credentials.
//
// A plugin owning a resource type serves the other half of Backstage's
// protocol: [ApplyConditionsHandler] evaluates CONDITIONAL decisions for
// the permission backend (a resourceRef array, as a batched /authorize
// sends, is answered with one result per ref, every ref loaded in one
// call), and [MetadataHandler] lists the plugin's permissions and rules
// with their params as JSON Schema. Every handler answers errors with
// Backstage's body, {"error":{"name","message"},"response":{"statusCode"}}.
//
// To enforce a rule in an embedding server, call [Authorizer.Allowed]
// before the action (see the example ExampleAuthorizer_Allowed).
//
// # Errors
//
// Errors are *errcode.Error values (classify with errcode.CodeOf or errors.Is):
// InvalidArgument for bad input (a malformed permission or batch, a
// condition tree of the wrong shape or beyond the limits, a rule with bad
// params); Unknown when a policy answers something Backstage's server
// refuses (CONDITIONAL for a basic permission or another resource type),
// conditions naming a rule the Authorizer does not know (checked before
// anything is evaluated), or a resource loader that panics. A policy
// that errors or panics denies the permission; a typed nil Policy is
// refused by [NewAuthorizer] as a nil one is.
package permission
