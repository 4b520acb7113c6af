package permission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/internal/backstageerr"
)

// Query is what a policy decides on: a permission, never the resource, so
// that a CONDITIONAL decision can become a list filter (as in Backstage).
type Query struct {
	Permission Permission
}

// Policy decides permissions for users. user is nil for an anonymous
// caller. Decide must be safe for concurrent use; an error denies the
// permission.
type Policy interface {
	Decide(ctx context.Context, q Query, user *identity.User) (Decision, error)
}

// PolicyFunc adapts a function to a [Policy].
type PolicyFunc func(ctx context.Context, q Query, user *identity.User) (Decision, error)

// Decide calls f.
func (f PolicyFunc) Decide(ctx context.Context, q Query, user *identity.User) (Decision, error) {
	return f(ctx, q, user)
}

// ResourceLoader loads resources of one type by ref for evaluating
// conditions, as a Backstage plugin's apply-conditions endpoint does. The
// [Authorizer] calls it once per batch with each distinct ref once. A ref
// that does not exist is left out of the map (its conditions then deny).
//
// The values must be of the type the rules of the resource type evaluate:
// for "catalog-entity" and [CatalogRules], *catalog.Entity (package
// github.com/scmkit/scmkit/catalog; catalog.Entity is accepted too). A
// JSON-shaped map[string]any, as a catalog REST client gives, is not an
// entity: decode Backstage's entity JSON into catalog.Entity. A value of
// another type fails the batch (the handler answers 500 and logs the
// cause through AuthorizerOptions.Logger). [MapLoader] serves resources
// held in memory.
type ResourceLoader interface {
	LoadResources(ctx context.Context, refs []string) (map[string]any, error)
}

// LoaderFunc adapts a function to a [ResourceLoader].
type LoaderFunc func(ctx context.Context, refs []string) (map[string]any, error)

// LoadResources calls f.
func (f LoaderFunc) LoadResources(ctx context.Context, refs []string) (map[string]any, error) {
	return f(ctx, refs)
}

// MapLoader is a [ResourceLoader] over resources held in memory, keyed by
// ref exactly as the callers send them (e.g. "component:default/web"; a
// ref spelt otherwise is missing, so its conditions deny). For
// "catalog-entity" the values are *catalog.Entity. It is read, never
// changed: build a new map to update it.
type MapLoader map[string]any

// LoadResources returns the resources of m that refs name.
func (m MapLoader) LoadResources(_ context.Context, refs []string) (map[string]any, error) {
	out := make(map[string]any, len(refs))
	for _, r := range refs {
		if v, ok := m[r]; ok {
			out[r] = v
		}
	}
	return out, nil
}

// ServicePolicy decides permissions for a service principal acting as
// itself: a Backstage plugin token without obo (service is
// "plugin:<id>"), an external access token ("external:<subject>"). See
// AuthorizerOptions.ServicePolicy.
type ServicePolicy interface {
	DecideService(ctx context.Context, q Query, service string) (Decision, error)
}

// ServicePolicyFunc adapts a function to a [ServicePolicy].
type ServicePolicyFunc func(ctx context.Context, q Query, service string) (Decision, error)

// DecideService calls f.
func (f ServicePolicyFunc) DecideService(ctx context.Context, q Query, service string) (Decision, error) {
	return f(ctx, q, service)
}

// AllowServices is a [ServicePolicy] that allows the named services
// everything (as Backstage allows every service) and denies every other
// service acting as itself, e.g. AllowServices("plugin:catalog") lets the
// catalog act as itself while the scaffolder, accepted for its calls on
// a user's behalf, may not act without one.
func AllowServices(services ...string) ServicePolicy {
	allowed := make(map[string]bool, len(services))
	for _, s := range services {
		allowed[s] = true
	}
	return ServicePolicyFunc(func(_ context.Context, _ Query, service string) (Decision, error) {
		if allowed[service] {
			return Decision{Result: Allow, Reason: Reason{Policy: "service policy", Summary: service + " is allowed everything (AllowServices)"}}, nil
		}
		return Decision{Result: Deny, Reason: Reason{Policy: "service policy", Summary: service + " acting as itself is not in AllowServices"}}, nil
	})
}

// AuthorizerOptions configure an [Authorizer]. Nil means the defaults.
type AuthorizerOptions struct {
	// Loaders load resources by resource type, e.g. "catalog-entity",
	// whose loader must give *catalog.Entity values (see
	// [ResourceLoader]). An item with a resourceRef whose decision is
	// CONDITIONAL and whose resource type has no loader is denied.
	Loaders map[string]ResourceLoader
	// Rules evaluate conditions; nil means [CatalogRules].
	Rules *Rules
	// Disabled makes every decision ALLOW, as Backstage's
	// permission.enabled: false does. NewAuthorizer logs a warning saying
	// so when Logger is set.
	Disabled bool
	// ServicePolicy, when set, decides for a service principal acting as
	// itself (Principal.Service set and no User: a plugin token without
	// obo, an external access token), which is otherwise allowed
	// everything, as Backstage's permission framework allows every
	// service. Backstage has one list of trusted plugins: accepting a
	// plugin's calls on a user's behalf (identity.PluginVerifierOptions
	// .AllowedPlugins) also lets it act as itself with every right. With
	// a ServicePolicy the two are apart: [AllowServices] names the
	// services allowed everything and denies the others; a
	// [ServicePolicyFunc] decides per permission. A service acting on a
	// user's behalf is decided as that user by the Policy either way.
	ServicePolicy ServicePolicy
	// Limits bound condition trees returned by the policy; zero means
	// [DefaultLimits].
	Limits Limits
	// MaxItems caps a batch; 0 means 1000.
	MaxItems int
	// Logger, when set, receives one debug line per decision, and one
	// error line for each request the handlers answer 500 (its cause:
	// a loader failing or giving resources of the wrong type, a policy's
	// invalid decision), which the response does not show.
	Logger *slog.Logger
}

// Authorizer answers batches of permission checks with a [Policy], as
// Backstage's permission backend does at POST /api/permission/authorize,
// and evaluates CONDITIONAL decisions against resources when an item
// names one. An Authorizer is safe for concurrent use (it is not changed
// after NewAuthorizer; its Policy and loaders must be safe for concurrent
// use too). The zero Authorizer is not usable: it answers every batch with
// InvalidArgument; make one with [NewAuthorizer].
type Authorizer struct {
	policy Policy
	opts   AuthorizerOptions
}

// NewAuthorizer returns an Authorizer deciding with p. A nil p, or a
// typed nil (a nil *MyPolicy or a nil PolicyFunc in the interface), is a
// programming error and panics here, unless opts.Disabled (for "allow
// everything", as Backstage's permission.enabled: false), where p is
// never asked. A nil opts means the defaults: the catalog rules and at
// most 1,000 items a batch.
func NewAuthorizer(p Policy, opts *AuthorizerOptions) *Authorizer {
	a := &Authorizer{policy: p}
	if opts != nil {
		a.opts = *opts
	}
	if isNil(p) && !a.opts.Disabled {
		panic("permission.NewAuthorizer: nil Policy (set AuthorizerOptions.Disabled to allow everything)")
	}
	if a.opts.Rules == nil {
		a.opts.Rules = CatalogRules()
	}
	if a.opts.MaxItems <= 0 {
		a.opts.MaxItems = 1000
	}
	if a.opts.Disabled && a.opts.Logger != nil {
		a.opts.Logger.LogAttrs(context.Background(), slog.LevelWarn, "permission checks disabled: every request is allowed (permission.enabled is not true)")
	}
	return a
}

// isNil reports whether p is nil or a typed nil: an interface holding a
// nil pointer, func, map, slice, channel or interface.
func isNil(p Policy) bool {
	if p == nil {
		return true
	}
	switch v := reflect.ValueOf(p); v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// decide asks the policy (the ServicePolicy for a service acting as
// itself), turning a panic into an error (which denies): a policy bug
// must not take the server down nor allow anything.
func (a *Authorizer) decide(ctx context.Context, q Query, who identity.Principal) (d Decision, err error) {
	defer func() {
		if r := recover(); r != nil {
			// The panic value is not repeated: it may hold anything.
			d, err = Decision{}, errcode.Newf(errcode.Unknown, "permission.Authorize", "the policy panicked deciding %s", q.Permission.Name)
		}
	}()
	if who.User == nil && who.Service != "" {
		return a.opts.ServicePolicy.DecideService(ctx, q, who.Service)
	}
	return a.policy.Decide(ctx, q, who.User)
}

// Item is one check of a batch: Backstage's {id, permission, resourceRef?}.
type Item struct {
	ID          string     `json:"id"`
	Permission  Permission `json:"permission"`
	ResourceRef string     `json:"resourceRef,omitempty"`
}

// Answer is the decision for one item. Its JSON is Backstage's
// {id, result} or {id, result: "CONDITIONAL", pluginId, resourceType,
// conditions}; Reason is not sent.
type Answer struct {
	ID           string    `json:"id"`
	Result       Result    `json:"result"`
	PluginID     string    `json:"pluginId,omitempty"`
	ResourceType string    `json:"resourceType,omitempty"`
	Conditions   *Criteria `json:"conditions,omitempty"`
	Reason       Reason    `json:"-"`
}

// AuthorizeRequest is the body of POST /api/permission/authorize.
type AuthorizeRequest struct {
	Items []Item `json:"items"`
}

// AuthorizeResponse is its answer.
type AuthorizeResponse struct {
	Items []Answer `json:"items"`
}

// Authorize decides every item for who, in order. The policy is asked once
// per distinct permission (a per-request decision cache); each distinct
// resource is loaded once, in one call per resource type, each distinct
// condition tree's params read once (a claims array becomes a set), and
// each distinct (conditions, resource) pair evaluated once.
//
// A service principal acting as itself is allowed everything, as in
// Backstage (the policy sees users only), unless
// AuthorizerOptions.ServicePolicy is set, which then decides for it. A
// service acting on behalf of a user (Backstage's obo token) is decided as
// that user, so that a plugin cannot lend its service rights to her (no
// confused deputy). An anonymous principal reaches the policy with no
// user. A CONDITIONAL decision for an item with a resourceRef becomes
// ALLOW or DENY against that resource (a missing resource is DENY); one
// without a ref is returned as it is, for the caller to filter with.
//
// Authorize returns InvalidArgument for an empty or oversized batch, a
// missing or repeated id, an invalid permission or a resourceRef on a basic
// permission; Unknown when the policy returns a CONDITIONAL decision for a
// basic permission or another resource type, or a condition tree beyond
// the limits, or, for an item with a resourceRef of a type it has a loader
// for, a tree naming a rule or parameter the Authorizer does not know
// (checked before loading, so the same whether or not the resource
// exists); the loader's error when it fails (Unknown when it panics); Canceled or
// DeadlineExceeded when ctx ends. A policy that errors or panics denies.
func (a *Authorizer) Authorize(ctx context.Context, who identity.Principal, items []Item) ([]Answer, error) {
	if err := a.validate(items); err != nil {
		return nil, err
	}
	return a.authorize(ctx, who, items)
}

// authorize is Authorize on validated items; their ids need not be
// unique (the handler expands an item with several refs into one item per
// ref, each with the item's id).
func (a *Authorizer) authorize(ctx context.Context, who identity.Principal, items []Item) ([]Answer, error) {
	const op = "permission.Authorize"
	out := make([]Answer, len(items))
	for i, it := range items {
		out[i].ID = it.ID
	}
	switch {
	case a.opts.Disabled:
		return a.fill(out, Decision{Result: Allow, Reason: Reason{Policy: "permission disabled", Summary: "permission.enabled is false"}}), nil
	case who.Service != "" && who.User == nil && a.opts.ServicePolicy == nil:
		return a.fill(out, Decision{Result: Allow, Reason: Reason{Policy: "service principal", Summary: who.Service + " is a service; policies apply to users only"}}), nil
	}
	type permKey struct {
		name, action, rt string
		typ              Type
	}
	decisions := make(map[permKey]Decision)
	var want refSet
	for i, it := range items {
		if err := errcode.FromContext(ctx, op); err != nil {
			return nil, err
		}
		p := it.Permission
		k := permKey{p.Name, string(p.Attributes.Action), p.ResourceType, p.Type}
		d, ok := decisions[k]
		if !ok {
			var err error
			d, err = a.decide(ctx, Query{Permission: p}, who)
			if err != nil {
				if ctxErr := errcode.FromContext(ctx, op); ctxErr != nil {
					return nil, ctxErr
				}
				d = Decision{Result: Deny, Reason: Reason{Policy: "policy error", Summary: err.Error()}}
			}
			if err := a.check(p, d); err != nil {
				return nil, err
			}
			decisions[k] = d
		}
		out[i] = answer(it.ID, d)
		if d.Result == Conditional && it.ResourceRef != "" {
			want.add(p.ResourceType, it.ResourceRef)
		}
	}
	if len(want.byType) > 0 {
		if err := a.apply(ctx, items, out, want.byType); err != nil {
			return nil, err
		}
	}
	if a.opts.Logger != nil {
		for i, ans := range out {
			a.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "permission decision", slog.String("principal", who.String()),
				slog.String("permission", items[i].Permission.Name), slog.String("result", string(ans.Result)),
				slog.String("reason", ans.Reason.String()))
		}
	}
	return out, nil
}

// apply loads the resources and turns CONDITIONAL answers with a ref into
// ALLOW or DENY.
func (a *Authorizer) apply(ctx context.Context, items []Item, out []Answer, want map[string][]string) error {
	const op = "permission.Authorize"
	// Every tree to evaluate is checked before anything is loaded, so
	// that one naming a rule (or a parameter) the Authorizer does not
	// know fails whether or not its resource exists: a DENY for a missing
	// resource and an error for an existing one would tell which refs
	// exist.
	// Each tree is compiled once per request, so that its params are
	// read once whatever the number of refs.
	compiled := make(map[*Criteria]matcher)
	for i, it := range items {
		c := out[i].Conditions
		if out[i].Result != Conditional || it.ResourceRef == "" || a.opts.Loaders[it.Permission.ResourceType] == nil {
			continue
		}
		if _, err := a.opts.Rules.compile(c, compiled); err != nil {
			return &errcode.Error{Code: errcode.Unknown, Op: op, Msg: "the conditions of " + it.Permission.Name + ": " + withoutCode(err)}
		}
	}
	loaded, err := a.loadAll(ctx, op, want)
	if err != nil {
		return err
	}
	type evalKey struct {
		c   *Criteria
		ref string
	}
	evaluated := make(map[evalKey]bool)
	for i, it := range items {
		ans := &out[i]
		if ans.Result != Conditional || it.ResourceRef == "" {
			continue
		}
		rt := it.Permission.ResourceType
		cond := ans.Conditions
		base := ans.Reason
		*ans = Answer{ID: it.ID, Result: Deny, Reason: base}
		res, hasLoader := loaded[rt]
		if !hasLoader {
			ans.Reason.Summary = "conditional decision, and no loader for resource type " + rt + ": " + base.Summary
			continue
		}
		r, exists := res[it.ResourceRef]
		if !exists || missing(r) {
			ans.Reason.Summary = "conditional decision for a resource that does not exist: " + base.Summary
			continue
		}
		k := evalKey{cond, it.ResourceRef}
		ok, done := evaluated[k]
		if !done {
			var err error
			ok, err = compiled[cond].evaluate(r)
			if err != nil {
				return &errcode.Error{Code: errcode.Unknown, Op: op, Msg: "evaluating the conditions of " + it.Permission.Name + " on " + it.ResourceRef + ": " + withoutCode(err)}
			}
			evaluated[k] = ok
		}
		if ok {
			ans.Result = Allow
			ans.Reason.Summary = "the resource meets the conditions: " + base.Summary
		} else {
			ans.Reason.Summary = "the resource does not meet the conditions: " + base.Summary
		}
	}
	return nil
}

// withoutCode is the text of err without the code an *errcode.Error
// adds, for a message wrapping it under another code: "permission.Evaluate:
// … (InvalidArgument) (Unknown)" would read as two failures.
func withoutCode(err error) string {
	var e *errcode.Error
	if !errors.As(err, &e) || e != err {
		return err.Error()
	}
	s := e.Op
	if e.Msg != "" {
		if s != "" {
			s += ": "
		}
		s += e.Msg
	}
	if e.Err != nil {
		if s != "" {
			s += ": "
		}
		s += withoutCode(e.Err)
	}
	return s
}

// refSet collects the distinct refs of each resource type, in the order
// first seen, for one loader call per type.
type refSet struct {
	byType map[string][]string
	seen   map[[2]string]bool
}

func (s *refSet) add(rt, ref string) {
	if s.seen == nil {
		s.byType, s.seen = map[string][]string{}, map[[2]string]bool{}
	}
	k := [2]string{rt, ref}
	if !s.seen[k] {
		s.seen[k] = true
		s.byType[rt] = append(s.byType[rt], ref)
	}
}

// loadAll loads the refs of each resource type in want with one call to
// the type's loader (types without one are left out). A loader's
// *errcode.Error is returned as it is, any other error as Unavailable,
// and Canceled or DeadlineExceeded when ctx ends.
func (a *Authorizer) loadAll(ctx context.Context, op string, want map[string][]string) (map[string]map[string]any, error) {
	loaded := make(map[string]map[string]any, len(want))
	for _, rt := range slices.Sorted(maps.Keys(want)) {
		l := a.opts.Loaders[rt]
		if l == nil {
			continue
		}
		res, err := load(ctx, l, op, rt, want[rt])
		if err != nil {
			if ctxErr := errcode.FromContext(ctx, op); ctxErr != nil {
				return nil, ctxErr
			}
			var ce *errcode.Error
			if errors.As(err, &ce) {
				return nil, err
			}
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "loading " + rt + " resources", Err: err}
		}
		loaded[rt] = res
	}
	return loaded, nil
}

// load calls a loader, turning a panic (a bug, or a typed nil loader)
// into an error, which fails the batch.
func load(ctx context.Context, l ResourceLoader, op, rt string, refs []string) (res map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, errcode.Newf(errcode.Unknown, op, "the %s loader panicked", rt)
		}
	}()
	return l.LoadResources(ctx, refs)
}

func answer(id string, d Decision) Answer {
	a := Answer{ID: id, Result: d.Result, Reason: d.Reason}
	if d.Result == Conditional {
		a.PluginID, a.ResourceType, a.Conditions = d.PluginID, d.ResourceType, d.Conditions
	}
	return a
}

func (a *Authorizer) fill(out []Answer, d Decision) []Answer {
	for i := range out {
		out[i] = answer(out[i].ID, d)
	}
	return out
}

// errZero is the error of an Authorizer not made by NewAuthorizer (which
// always sets MaxItems), instead of a misleading limit of 0 items.
func (a *Authorizer) errZero(op string) error {
	if a == nil || a.opts.MaxItems == 0 {
		return errcode.New(errcode.InvalidArgument, op, "permission.Authorizer not built with NewAuthorizer (the zero Authorizer is not usable)")
	}
	return nil
}

func (a *Authorizer) validate(items []Item) error {
	const op = "permission.Authorize"
	if err := a.errZero(op); err != nil {
		return err
	}
	switch {
	case len(items) == 0:
		return errcode.New(errcode.InvalidArgument, op, "no items")
	case len(items) > a.opts.MaxItems:
		return errcode.Newf(errcode.InvalidArgument, op, "%d items, more than the limit of %d", len(items), a.opts.MaxItems)
	}
	ids := make(map[string]bool, len(items))
	for i, it := range items {
		if err := checkID(op, ids, i, it.ID); err != nil {
			return err
		}
		if err := checkItem(it.ID, it.Permission, it.ResourceRef != ""); err != nil {
			return err
		}
	}
	return nil
}

// checkID refuses the id of item i when it is empty, too long, or in ids
// (the ids seen so far), to which it adds it.
func checkID(op string, ids map[string]bool, i int, id string) error {
	switch {
	case id == "":
		return errcode.Newf(errcode.InvalidArgument, op, "item %d has no id", i)
	case len(id) > 256:
		return errcode.Newf(errcode.InvalidArgument, op, "item %d: id is longer than 256 bytes", i)
	case ids[id]:
		return errcode.Newf(errcode.InvalidArgument, op, "item %d: id %q is repeated", i, id)
	}
	ids[id] = true
	return nil
}

// checkItem refuses an invalid permission, or a resource ref on a basic
// permission.
func checkItem(id string, p Permission, hasRef bool) error {
	const op = "permission.Authorize"
	if hasRef && p.Type != Resource {
		return errcode.Newf(errcode.InvalidArgument, op, "item %q: a resourceRef on basic permission %q", id, p.Name)
	}
	if err := p.Validate(); err != nil {
		return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "item " + id, Err: err}
	}
	return nil
}

// wireItem is an item of the handler's request body: Backstage's {id,
// permission, resourceRef?}, where resourceRef is a string or, from a
// Backstage PermissionClient with
// permission.EXPERIMENTAL_enableBatchedRequests, an array of refs: one
// check per ref, answered with {id, result: [one result per ref, in
// order]}.
type wireItem struct {
	ID          string          `json:"id"`
	Permission  Permission      `json:"permission"`
	ResourceRef json.RawMessage `json:"resourceRef"`
	// basicRefsIgnored: a resourceRef on a basic permission is checked
	// for its shape and then ignored (each of its refs answered with the
	// permission's decision), as authorize/by-name does, instead of
	// refused.
	basicRefsIgnored bool
}

// expand validates the handler's items and returns one Item per check,
// with, for each wire item, how many refs its resourceRef array held (-1
// for a string or no ref: one plain answer). The checks count against
// MaxItems.
func (a *Authorizer) expand(wire []wireItem) ([]Item, []int, error) {
	const op = "permission.Authorize"
	if err := a.errZero(op); err != nil {
		return nil, nil, err
	}
	if len(wire) == 0 {
		return nil, nil, errcode.New(errcode.InvalidArgument, op, "no items")
	}
	ids := make(map[string]bool, len(wire))
	items := make([]Item, 0, len(wire))
	spans := make([]int, len(wire))
	for i, w := range wire {
		if err := checkID(op, ids, i, w.ID); err != nil {
			return nil, nil, err
		}
		var one string
		var many []string
		spans[i] = -1
		switch raw := bytes.TrimSpace(w.ResourceRef); {
		case len(raw) == 0 || string(raw) == "null":
		case raw[0] == '[':
			// Backstage's permission backend refuses an empty array
			// (z.array(z.string()).nonempty()).
			if err := json.Unmarshal(raw, &many); err != nil || len(many) == 0 || slices.Contains(many, "") {
				return nil, nil, errcode.Newf(errcode.InvalidArgument, op, "item %q: resourceRef must be a ref or a non-empty array of refs", w.ID)
			}
			spans[i] = len(many)
		default:
			if err := json.Unmarshal(raw, &one); err != nil {
				return nil, nil, errcode.Newf(errcode.InvalidArgument, op, "item %q: resourceRef must be a ref or an array of refs", w.ID)
			}
		}
		hasRef := one != "" || len(many) > 0
		if hasRef && w.basicRefsIgnored && w.Permission.Type != Resource {
			// A basic permission is never CONDITIONAL: its decision
			// does not depend on the resource, and each ref (an array
			// is still answered with one result per ref) is asked
			// without it.
			hasRef, one, many = false, "", make([]string, len(many))
		}
		if err := checkItem(w.ID, w.Permission, hasRef); err != nil {
			return nil, nil, err
		}
		if spans[i] < 0 {
			items = append(items, Item{ID: w.ID, Permission: w.Permission, ResourceRef: one})
		}
		for _, ref := range many {
			items = append(items, Item{ID: w.ID, Permission: w.Permission, ResourceRef: ref})
		}
		if len(items) > a.opts.MaxItems {
			return nil, nil, errcode.Newf(errcode.InvalidArgument, op, "more than %d checks (items and their refs), the limit", a.opts.MaxItems)
		}
	}
	return items, spans, nil
}

// batchAnswer is the answer to an item whose resourceRef was an array:
// {id, result: [ALLOW|DENY, …]}, one result per ref, in order.
type batchAnswer struct {
	ID     string   `json:"id"`
	Result []Result `json:"result"`
}

// collapse turns the answers of expanded checks back into one answer per
// wire item.
func collapse(out []Answer, spans []int) []any {
	res := make([]any, len(spans))
	j := 0
	for i, n := range spans {
		if n < 0 {
			res[i] = out[j]
			j++
			continue
		}
		b := batchAnswer{ID: out[j].ID, Result: make([]Result, n)}
		for k := range n {
			b.Result[k] = out[j+k].Result // a check with a ref is ALLOW or DENY
		}
		res[i] = b
		j += n
	}
	return res
}

// check refuses a CONDITIONAL decision that cannot apply to p, as
// Backstage's server does.
func (a *Authorizer) check(p Permission, d Decision) error {
	const op = "permission.Authorize"
	switch d.Result {
	case Allow, Deny:
		return nil
	case Conditional:
	default:
		return errcode.Newf(errcode.Unknown, op, "policy returned result %q for %s", d.Result, p.Name)
	}
	switch {
	case p.Type != Resource:
		return errcode.Newf(errcode.Unknown, op, "policy returned a CONDITIONAL decision for basic permission %s", p.Name)
	case d.PluginID == "":
		// Backstage's clients refuse a CONDITIONAL answer without the
		// plugin that applies its conditions.
		return errcode.Newf(errcode.Unknown, op, "policy returned a CONDITIONAL decision without a plugin id for %s", p.Name)
	case d.ResourceType != p.ResourceType:
		return errcode.Newf(errcode.Unknown, op, "policy returned a CONDITIONAL decision for resource type %q, but %s is about %q", d.ResourceType, p.Name, p.ResourceType)
	case d.Conditions == nil:
		return errcode.Newf(errcode.Unknown, op, "policy returned a CONDITIONAL decision without conditions for %s", p.Name)
	case !d.Conditions.resourceTypesAre(p.ResourceType):
		return errcode.Newf(errcode.Unknown, op, "policy returned conditions on another resource type for %s", p.Name)
	}
	if err := d.Conditions.Validate(a.opts.Limits); err != nil {
		return &errcode.Error{Code: errcode.Unknown, Op: op, Msg: "policy returned invalid conditions for " + p.Name, Err: err}
	}
	return nil
}

// Allowed is a convenience for one basic or resource check: it reports
// whether who may do p (on the resource named by ref, when not empty), with
// the reason.
func (a *Authorizer) Allowed(ctx context.Context, who identity.Principal, p Permission, ref string) (bool, Reason, error) {
	out, err := a.Authorize(ctx, who, []Item{{ID: "1", Permission: p, ResourceRef: ref}})
	if err != nil {
		return false, Reason{}, err
	}
	return out[0].Result == Allow, out[0].Reason, nil
}

// maxBody caps the request body of the handler: 1 MiB.
const maxBody = 1 << 20

// Handler returns an http.Handler for POST /api/permission/authorize.
// who authenticates the request (e.g. by verifying its bearer token with
// identity.Verifier); an error from it answers 401 without detail (503 with
// Retry-After when it is Unavailable, DeadlineExceeded or Canceled: keys
// that cannot be fetched, so the token may be good).
//
// The wire format is Backstage's. An item's resourceRef may be a ref or
// a non-empty array of refs, as a Backstage PermissionClient with
// permission.EXPERIMENTAL_enableBatchedRequests sends them: each ref is
// one check (counted against MaxItems), and the item's answer is
// {id, result: [ALLOW|DENY, …]}, one result per ref in the same order.
// As Backstage's permission backend, the handler refuses a resource
// permission without a ref when the principal is a user acting herself
// or nobody (only a plugin acting on her behalf may ask for the
// conditions), and answers {"items":[]} to an empty batch. The body is
// capped at 1 MiB. Bad input answers 400 with Backstage's error body
// {"error":{"name":"InputError","message":…},"response":{"statusCode":400}};
// other failures 500 without detail.
func Handler(a *Authorizer, who func(*http.Request) (identity.Principal, error)) http.Handler {
	return serveBatch(a, who, "authorize", func(_ context.Context, items []wireItem) ([]wireItem, []string, error) { return items, nil, nil })
}

// byNameItem is an item of an authorize/by-name request: {id, name,
// resourceRef?}, resourceRef a ref or a non-empty array of refs.
type byNameItem struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	ResourceRef json.RawMessage `json:"resourceRef"`
}

// ByNameHandler returns an http.Handler for POST
// /api/permission/authorize/by-name, which Backstage's frontend (its
// IdentityPermissionApi.authorizeByName and the predicate loader of
// "if" conditions) calls with permission names only: {"items":[{id, name,
// resourceRef?}]}. lookup turns a name into its permission (nil means
// [Known]: the catalog's and scaffolder's); a name it does not know is
// DENY, as in Backstage, which denies names its registry lacks (with one
// warning per request when the Authorizer has a Logger). Every item
// counts against MaxItems; the known ones are decided as [Handler]
// decides them, with the same rules, limits and answers, in the items'
// order, except that a resourceRef on a name that is a basic permission
// is ignored rather than refused, as Backstage's by-name does (a basic
// permission is never CONDITIONAL, so the ref cannot change its answer;
// an array of refs is still answered with one result per ref).
func ByNameHandler(a *Authorizer, who func(*http.Request) (identity.Principal, error), lookup func(name string) (Permission, bool)) http.Handler {
	if lookup == nil {
		lookup = Known
	}
	return serveBatch(a, who, "authorize/by-name", func(ctx context.Context, items []byNameItem) ([]wireItem, []string, error) {
		const op = "permission.Authorize"
		if err := a.errZero(op); err != nil {
			return nil, nil, err
		}
		if len(items) > a.opts.MaxItems {
			return nil, nil, errcode.Newf(errcode.InvalidArgument, op, "%d items, more than the limit of %d", len(items), a.opts.MaxItems)
		}
		ids := make(map[string]bool, len(items))
		known := make([]wireItem, 0, len(items))
		denied := make([]string, len(items))
		var unknown []string
		for i, it := range items {
			if err := checkID(op, ids, i, it.ID); err != nil {
				return nil, nil, err
			}
			p, ok := lookup(it.Name)
			if !ok {
				unknown = append(unknown, it.Name)
				denied[i] = it.ID
				continue
			}
			known = append(known, wireItem{ID: it.ID, Permission: p, ResourceRef: it.ResourceRef, basicRefsIgnored: true})
		}
		if len(unknown) > 0 && a.opts.Logger != nil {
			// One line per request, naming the first name.
			a.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "permission names not registered; denied",
				slog.String("permission", truncate(unknown[0], 256)), slog.Int("count", len(unknown)))
		}
		return known, denied, nil
	})
}

// serveBatch serves an authorize request whose items convert turns into
// wire items, with, for each of its items, its id when it is denied
// without asking (then it has no wire item), else "".
func serveBatch[T any](a *Authorizer, who func(*http.Request) (identity.Principal, error), what string,
	convert func(context.Context, []T) ([]wireItem, []string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowedError", "method not allowed")
			return
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			writeError(w, http.StatusUnsupportedMediaType, "InputError", "content type must be application/json")
			return
		}
		p, err := who(r)
		if err != nil {
			authError(w, err, "unauthorized")
			return
		}
		var req struct {
			Items *[]T `json:"items"`
		}
		if !decodeBody(w, r, &req, what) {
			return
		}
		if req.Items == nil {
			writeError(w, http.StatusBadRequest, "InputError", "invalid "+what+" request: no items array")
			return
		}
		res, err := serveItems(r.Context(), a, p, *req.Items, convert)
		if err != nil {
			if errcode.CodeOf(err) == errcode.InvalidArgument {
				writeError(w, http.StatusBadRequest, "InputError", err.Error())
				return
			}
			a.logFailure(r.Context(), p, err)
			writeError(w, http.StatusInternalServerError, "Error", "authorization failed")
			return
		}
		writeJSON(w, struct {
			Items []any `json:"items"`
		}{res})
	})
}

// logFailure logs, when the Authorizer has a Logger, the cause of a
// request answered 500 without detail. A client that ended its request
// is not a failure of the server.
func (a *Authorizer) logFailure(ctx context.Context, p identity.Principal, err error) {
	if a == nil || a.opts.Logger == nil {
		return
	}
	switch errcode.CodeOf(err) {
	case errcode.Canceled, errcode.DeadlineExceeded:
		return
	}
	a.opts.Logger.LogAttrs(ctx, slog.LevelError, "permission request failed; answered 500", slog.String("principal", p.String()),
		slog.String("error", err.Error()))
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// serveItems decides the items of one authorize request for p,
// returning one answer per item, in order.
func serveItems[T any](ctx context.Context, a *Authorizer, p identity.Principal, in []T, convert func(context.Context, []T) ([]wireItem, []string, error)) ([]any, error) {
	res := make([]any, 0, len(in))
	if len(in) == 0 {
		return res, nil
	}
	wire, denied, err := convert(ctx, in)
	if err != nil {
		return nil, err
	}
	var answers []any
	if len(wire) > 0 {
		items, spans, err := a.expand(wire)
		if err == nil && p.Service == "" {
			err = needRefs(items)
		}
		var out []Answer
		if err == nil {
			out, err = a.authorize(ctx, p, items)
		}
		if err != nil {
			return nil, err
		}
		answers = collapse(out, spans)
	}
	for i := range in {
		if denied != nil && denied[i] != "" {
			res = append(res, Answer{ID: denied[i], Result: Deny})
			continue
		}
		res, answers = append(res, answers[0]), answers[1:]
	}
	return res, nil
}

// needRefs refuses a resource permission without a resourceRef, as
// Backstage's permission backend does for a request made directly by a
// user (not by a plugin on her behalf) or by nobody: a CONDITIONAL
// answer would show them the policy's conditions.
func needRefs(items []Item) error {
	for _, it := range items {
		if it.Permission.Type == Resource && it.ResourceRef == "" {
			return errcode.New(errcode.InvalidArgument, "permission.Authorize",
				"Resource permissions require a resourceRef to be set. Direct user requests without a resourceRef are not allowed.")
		}
	}
	return nil
}

// decodeBody reads a JSON body of at most 1 MiB into v, answering 413 or
// 400 and returning false when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, what string) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeError", "request body is larger than 1 MiB")
			return false
		}
		writeError(w, http.StatusBadRequest, "InputError", "invalid "+what+" request: the body is not a valid "+what+" request")
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "InputError", "invalid "+what+" request: the body has trailing data")
		return false
	}
	return true
}

// writeJSON answers 200 with v as JSON, not to be cached.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// authError answers a failed authentication: 401, or 503 when the
// authenticator could not decide (keys that cannot be fetched, a store
// that is down: the token may be good, and the caller should retry rather
// than drop it), or the caller's request ended.
func authError(w http.ResponseWriter, err error, msg string) {
	switch errcode.CodeOf(err) {
	case errcode.Unavailable, errcode.DeadlineExceeded, errcode.Canceled:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailableError", "authentication is unavailable; retry shortly")
	default:
		writeError(w, http.StatusUnauthorized, "AuthenticationError", msg)
	}
}

// writeError answers status with Backstage's error body (see
// backstageerr.Body).
func writeError(w http.ResponseWriter, status int, name, msg string) {
	backstageerr.Write(w, status, name, msg)
}

// Static is a Policy giving the same decision for every query.
func Static(d Decision) Policy {
	return PolicyFunc(func(context.Context, Query, *identity.User) (Decision, error) { return d, nil })
}
