package permission

import (
	"context"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/scm/catalog"
)

// nilPolicy is a pointer type implementing Policy, for the typed-nil case.
type nilPolicy struct{ d Decision }

func (p *nilPolicy) Decide(context.Context, Query, *identity.User) (Decision, error) { return p.d, nil }

// A typed nil Policy (a nil *T or a nil PolicyFunc in the interface) is
// refused at construction like a nil one, not at the first decision,
// where it would panic or, worse, answer from a zero value.
func TestNewAuthorizerTypedNilPolicy(t *testing.T) {
	for name, p := range map[string]Policy{
		"nil pointer":    (*nilPolicy)(nil),
		"nil PolicyFunc": PolicyFunc(nil),
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, "nil Policy") {
					t.Errorf("%s: NewAuthorizer recovered %v, want a panic naming the nil Policy", name, r)
				}
			}()
			NewAuthorizer(p, nil)
		}()
	}
	// With Disabled the policy is never asked, typed nil or not.
	if ok, _, err := NewAuthorizer((*nilPolicy)(nil), &AuthorizerOptions{Disabled: true}).Allowed(context.Background(),
		identity.Principal{}, MustKnown(CatalogEntityCreate), ""); err != nil || !ok {
		t.Errorf("disabled with a typed nil policy: %v %v", ok, err)
	}
}

// A policy that panics denies, as one that errors does: the batch is
// answered (the other permissions decided as usual) and the process lives.
func TestAuthorizePolicyPanicDenies(t *testing.T) {
	p := PolicyFunc(func(_ context.Context, q Query, _ *identity.User) (Decision, error) {
		if q.Permission.Name == CatalogEntityCreate {
			panic("policy bug")
		}
		return Decision{Result: Allow, Reason: Reason{Policy: "test"}}, nil
	})
	out, err := NewAuthorizer(p, nil).Authorize(context.Background(), identity.Principal{User: alice}, []Item{
		{ID: "1", Permission: MustKnown(CatalogEntityCreate)},
		{ID: "2", Permission: MustKnown(CatalogLocationRead)},
	})
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if out[0].Result != Deny || !strings.Contains(out[0].Reason.Summary, "panicked") {
		t.Errorf("panicking policy: %+v, want DENY saying it panicked", out[0])
	}
	if strings.Contains(out[0].Reason.String(), "nil map") {
		t.Errorf("the reason repeats the panic value: %s", out[0].Reason)
	}
	if out[1].Result != Allow {
		t.Errorf("the other item: %+v, want ALLOW", out[1])
	}
}

// A rule that panics on a resource is an evaluation error, never a crash
// and never an ALLOW.
func TestEvaluateRulePanicIsError(t *testing.T) {
	rules := CatalogRules().With(RuleDef{Name: "BOOM", ResourceType: CatalogEntityResourceType,
		Apply: func(any, map[string]any) (bool, error) { panic("boom") }})
	ok, err := rules.Evaluate(Rule(CatalogEntityResourceType, "BOOM", nil), &catalog.Entity{Kind: "Component"})
	if ok || err == nil {
		t.Fatalf("Evaluate with a panicking rule: %v, %v; want false and an error", ok, err)
	}
}

// Every condition of a tree is checked (rule known, params as the rule
// takes them) before any is evaluated, so that a tree naming an unknown
// rule is refused whatever the resource: short-circuiting must not let
// anyOf(<match>, UNKNOWN) ALLOW one entity while refusing another.
func TestEvaluateRefusesUnknownRuleAnywhere(t *testing.T) {
	rt := CatalogEntityResourceType
	kind := Rule(rt, IsEntityKind, map[string]any{"kinds": []any{"Component"}})
	other := Rule(rt, IsEntityKind, map[string]any{"kinds": []any{"API"}})
	unknown := Rule(rt, "IS_ENTITY_OWNR", map[string]any{"claims": []any{"group:default/a"}})
	badParam := Rule(rt, HasLabel, map[string]any{"lable": "x"})
	e := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "svc"}}
	for name, c := range map[string]*Criteria{
		"anyOf(match, unknown)":       AnyOf(kind, unknown),
		"allOf(no match, unknown)":    AllOf(other, unknown),
		"not(anyOf(match, unknown))":  Not(AnyOf(kind, unknown)),
		"anyOf(match, bad param)":     AnyOf(kind, badParam),
		"allOf(no match, bad param)":  AllOf(other, badParam),
		"unknown resource type first": AnyOf(kind, Rule("scaffolder-template", IsEntityKind, map[string]any{"kinds": []any{"x"}})),
	} {
		ok, err := CatalogRules().Evaluate(c, e)
		if ok || err == nil {
			t.Errorf("%s: %v, %v; want false and an error", name, ok, err)
		}
	}
	// The Authorizer never answers ALLOW for such a tree.
	p := Static(Decision{Result: Conditional, PluginID: "catalog", ResourceType: rt, Conditions: AnyOf(kind, unknown)})
	loader := LoaderFunc(func(context.Context, []string) (map[string]any, error) {
		return map[string]any{"component:default/svc": e}, nil
	})
	out, err := NewAuthorizer(p, &AuthorizerOptions{Loaders: map[string]ResourceLoader{rt: loader}}).Authorize(context.Background(),
		identity.Principal{User: alice}, []Item{{ID: "1", Permission: MustKnown(CatalogEntityRead), ResourceRef: "component:default/svc"}})
	if err == nil && out[0].Result == Allow {
		t.Errorf("a tree with an unknown rule allowed: %+v", out[0])
	}
}

// panickyLoader panics on every load, as a nil *panickyLoader does too.
type panickyLoader struct{}

func (*panickyLoader) LoadResources(context.Context, []string) (map[string]any, error) {
	panic("loader bug")
}

// A resource loader that panics (or a typed nil one) fails the batch with
// an error, as one that errors does: never a crash, never an ALLOW.
func TestAuthorizeLoaderPanicFails(t *testing.T) {
	item := []Item{{ID: "1", Permission: MustKnown(CatalogEntityRead), ResourceRef: "component:default/svc-0"}}
	for name, l := range map[string]ResourceLoader{"panics": &panickyLoader{}, "typed nil": (*panickyLoader)(nil)} {
		a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: l}})
		out, err := a.Authorize(context.Background(), identity.Principal{User: alice}, item)
		if err == nil {
			t.Errorf("%s: Authorize: %+v, want an error", name, out)
		}
		res, err := a.ApplyConditions(context.Background(), []ApplyItem{{ID: "1", ResourceRef: "component:default/svc-0",
			ResourceType: CatalogEntityResourceType, Conditions: Rule(CatalogEntityResourceType, IsEntityKind, map[string]any{"kinds": []any{"Component"}})}})
		if err == nil {
			t.Errorf("%s: ApplyConditions: %+v, want an error", name, res)
		}
	}
}

// A condition tree naming a rule the Authorizer does not know (or a
// parameter its rule does not take) is refused whether or not the resource
// exists: refused for an existing resource but DENY for a missing one, the
// answer told an apply-conditions caller (and a policy author probing
// /authorize) which refs exist, which a missing resource's DENY is meant
// to hide. Nothing is loaded for such a tree.
func TestUnknownRuleRefusedWhetherOrNotTheResourceExists(t *testing.T) {
	rt := CatalogEntityResourceType
	for name, c := range map[string]*Criteria{
		"unknown rule":  Rule(rt, "IS_ENTITY_OWNR", map[string]any{"claims": []any{"group:default/team-a"}}),
		"unknown param": AnyOf(Rule(rt, IsEntityKind, map[string]any{"kinds": []any{"Component"}}), Rule(rt, HasLabel, map[string]any{"lable": "x"})),
		// A value of the wrong type is refused as early: it told an
		// existing ref (error) from a missing one (DENY).
		"param of the wrong type": Rule(rt, IsEntityOwner, map[string]any{"claims": "group:default/x"}),
		"wrong type after a match": AnyOf(Rule(rt, IsEntityKind, map[string]any{"kinds": []any{"Component"}}),
			Rule(rt, IsEntityOwner, map[string]any{"claims": "group:default/x"})),
		"null value": Rule(rt, HasSpec, map[string]any{"key": "type", "value": nil}),
	} {
		for _, ref := range []string{"component:default/svc-0", "component:default/ghost"} {
			loader := newLoader(2)
			a := NewAuthorizer(Static(Decision{Result: Conditional, PluginID: "catalog", ResourceType: rt, Conditions: c}),
				&AuthorizerOptions{Loaders: map[string]ResourceLoader{rt: loader}})
			res, err := a.ApplyConditions(context.Background(), []ApplyItem{{ID: "1", ResourceRef: ref, ResourceType: rt, Conditions: c}})
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("%s, %s: ApplyConditions: %+v, %v; want InvalidArgument", name, ref, res, err)
			}
			out, err := a.Authorize(context.Background(), identity.Principal{User: alice},
				[]Item{{ID: "1", Permission: MustKnown(CatalogEntityRead), ResourceRef: ref}})
			if errcode.CodeOf(err) != errcode.Unknown {
				t.Errorf("%s, %s: Authorize: %+v, %v; want Unknown", name, ref, out, err)
			}
			if loader.calls != 0 {
				t.Errorf("%s, %s: the loader was called %d times for a tree that is refused", name, ref, loader.calls)
			}
		}
	}
}

// A rule without CheckParams can report a bad value only when applied:
// every branch of a tree is then evaluated, so the tree fails for every
// existing resource instead of allowing one (an earlier branch matched)
// and refusing another.
func TestBadValueOfARuleWithoutCheckParamsFailsEveryResource(t *testing.T) {
	rt := CatalogEntityResourceType
	rules := CatalogRules().With(RuleDef{Name: "IS_TIER", ResourceType: rt, Params: []string{"tier"}, Required: []string{"tier"},
		Apply: func(_ any, p map[string]any) (bool, error) {
			if _, ok := p["tier"].(string); !ok {
				return false, errcode.New(errcode.InvalidArgument, "test", "tier must be a string")
			}
			return true, nil
		}})
	c := AnyOf(Rule(rt, IsEntityKind, map[string]any{"kinds": []any{"Component"}}), Rule(rt, "IS_TIER", map[string]any{"tier": 1}))
	for _, kind := range []string{"Component", "API"} {
		e := &catalog.Entity{Kind: kind, Metadata: catalog.Metadata{Name: "x"}}
		if ok, err := rules.Evaluate(c, e); ok || errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: Evaluate = %v, %v; want an InvalidArgument error", kind, ok, err)
		}
	}
}
