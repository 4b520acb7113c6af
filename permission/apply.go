package permission

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// ApplyItem is one item of Backstage's apply-conditions request, which a
// permission backend sends to the plugin owning a resource type:
// {id, resourceRef, resourceType, conditions}, where resourceRef is one
// ref or, from a permission backend answering a batched authorize request
// (a resourceRef array), a non-empty array of refs. Other fields of the
// wire item (Backstage's backend also sends the decision's result and
// pluginId) are ignored.
type ApplyItem struct {
	ID string
	// ResourceRef is the item's one ref; ResourceRefs its refs when the
	// wire's resourceRef is an array. Exactly one of them is set.
	ResourceRef  string
	ResourceRefs []string
	ResourceType string
	Conditions   *Criteria
}

type applyWire struct {
	ID           string          `json:"id"`
	ResourceRef  json.RawMessage `json:"resourceRef"`
	ResourceType string          `json:"resourceType"`
	Conditions   *Criteria       `json:"conditions"`
}

// MarshalJSON writes it in Backstage's shape, resourceRef a string or an
// array.
func (it ApplyItem) MarshalJSON() ([]byte, error) {
	var ref any = it.ResourceRef
	if it.ResourceRefs != nil {
		ref = it.ResourceRefs
	}
	rb, err := json.Marshal(ref)
	if err != nil {
		return nil, err
	}
	return json.Marshal(applyWire{ID: it.ID, ResourceRef: rb, ResourceType: it.ResourceType, Conditions: it.Conditions})
}

// UnmarshalJSON reads it from Backstage's shape: resourceRef is a string
// or an array of strings (null or absent leaves both fields empty, which
// [Authorizer.ApplyConditions] refuses).
func (it *ApplyItem) UnmarshalJSON(b []byte) error {
	const op = "permission.ApplyItem.UnmarshalJSON"
	var w applyWire
	if err := json.Unmarshal(b, &w); err != nil {
		if e, ok := err.(*errcode.Error); ok {
			return e
		}
		return errcode.New(errcode.InvalidArgument, op, "item must be {id, resourceRef, resourceType, conditions} with string id and resourceType")
	}
	n := ApplyItem{ID: w.ID, ResourceType: w.ResourceType, Conditions: w.Conditions}
	switch raw := bytes.TrimSpace(w.ResourceRef); {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '[':
		if err := json.Unmarshal(raw, &n.ResourceRefs); err != nil || n.ResourceRefs == nil {
			return errcode.New(errcode.InvalidArgument, op, "resourceRef must be a ref or an array of refs")
		}
	default:
		if err := json.Unmarshal(raw, &n.ResourceRef); err != nil {
			return errcode.New(errcode.InvalidArgument, op, "resourceRef must be a ref or an array of refs")
		}
	}
	*it = n
	return nil
}

// ApplyRequest is the body of POST
// <plugin>/.well-known/backstage/permissions/apply-conditions.
type ApplyRequest struct {
	Items []ApplyItem `json:"items"`
}

// ApplyResult is the answer for one item: {id, result: ALLOW|DENY} for an
// item with one ref, {id, result: [ALLOW|DENY, …]} for an item with
// ResourceRefs, one result per ref in the same order.
type ApplyResult struct {
	ID      string
	Result  Result
	Results []Result
}

// MarshalJSON writes r in Backstage's shape.
func (r ApplyResult) MarshalJSON() ([]byte, error) {
	if r.Results != nil {
		return json.Marshal(struct {
			ID     string   `json:"id"`
			Result []Result `json:"result"`
		}{r.ID, r.Results})
	}
	return json.Marshal(struct {
		ID     string `json:"id"`
		Result Result `json:"result"`
	}{r.ID, r.Result})
}

// UnmarshalJSON reads r from Backstage's shape, result a string or an
// array.
func (r *ApplyResult) UnmarshalJSON(b []byte) error {
	var w struct {
		ID     string          `json:"id"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	n := ApplyResult{ID: w.ID}
	target := any(&n.Result)
	if raw := bytes.TrimSpace(w.Result); len(raw) > 0 && raw[0] == '[' {
		target = &n.Results
	}
	if err := json.Unmarshal(w.Result, target); err != nil {
		return errcode.New(errcode.InvalidArgument, "permission.ApplyResult.UnmarshalJSON", "result must be ALLOW, DENY or an array of them")
	}
	*r = n
	return nil
}

// ApplyResponse is the answer to an [ApplyRequest].
type ApplyResponse struct {
	Items []ApplyResult `json:"items"`
}

// ApplyConditions evaluates conditions against resources, as a plugin's
// apply-conditions endpoint does. Each distinct resource is loaded once,
// in one loader call per resource type for the whole batch (the refs of
// every item and of every ResourceRefs array together); a resource that
// does not exist is DENY. An item with ResourceRefs is answered with
// Results, one per ref in the same order.
//
// Every item is checked before anything is loaded, so that whether a
// batch is refused does not depend on whether a resource exists (but see
// [ApplyConditionsHandler] on what a caller choosing the conditions
// learns): ApplyConditions returns
// InvalidArgument for an empty batch, more than MaxItems checks (items
// with one ref, plus every ref of an array), a missing, long or repeated
// id, no ref or an empty one, both ResourceRef and ResourceRefs, a
// resource type without a loader (every such type is named, as
// Backstage's "Unexpected resource types"), or conditions of the wrong
// shape, beyond the limits, on another resource type, or naming a rule or
// parameter it does not know, or conditions too costly for the refs
// they are applied to (each tree's params are read once per batch, but
// what a rule compares per resource, such as a long HAS_SPEC key, is
// bounded: the sum over the items of that work times their refs). A
// loader's failure is returned as in [Authorizer.Authorize].
func (a *Authorizer) ApplyConditions(ctx context.Context, items []ApplyItem) ([]ApplyResult, error) {
	const op = "permission.ApplyConditions"
	compiled, err := a.checkApply(op, items)
	if err != nil {
		return nil, err
	}
	var want refSet
	for _, it := range items {
		if it.ResourceRefs == nil {
			want.add(it.ResourceType, it.ResourceRef)
		}
		for _, ref := range it.ResourceRefs {
			want.add(it.ResourceType, ref)
		}
	}
	loaded, err := a.loadAll(ctx, op, want.byType)
	if err != nil {
		return nil, err
	}
	type evalKey struct {
		c       *Criteria
		rt, ref string
	}
	evaluated := make(map[evalKey]Result)
	decide := func(it ApplyItem, ref string) (Result, error) {
		k := evalKey{it.Conditions, it.ResourceType, ref}
		if r, ok := evaluated[k]; ok {
			return r, nil
		}
		// A ref the loader left out is a resource that does not exist:
		// evaluate denies it, as it denies a nil one.
		ok, err := compiled[it.Conditions].evaluate(loaded[it.ResourceType][ref])
		if err != nil {
			return "", &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "item " + it.ID, Err: err}
		}
		r := Deny
		if ok {
			r = Allow
		}
		evaluated[k] = r
		return r, nil
	}
	out := make([]ApplyResult, len(items))
	for i, it := range items {
		out[i].ID = it.ID
		if it.ResourceRefs == nil {
			if out[i].Result, err = decide(it, it.ResourceRef); err != nil {
				return nil, err
			}
			continue
		}
		out[i].Results = make([]Result, len(it.ResourceRefs))
		for j, ref := range it.ResourceRefs {
			if out[i].Results[j], err = decide(it, ref); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// checkApply checks a batch of ApplyConditions before anything is
// loaded, and returns each distinct condition tree compiled.
func (a *Authorizer) checkApply(op string, items []ApplyItem) (map[*Criteria]matcher, error) {
	if err := a.errZero(op); err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errcode.New(errcode.InvalidArgument, op, "no items")
	}
	ids := make(map[string]bool, len(items))
	checks := 0
	var unexpected []string
	for i, it := range items {
		if err := checkID(op, ids, i, it.ID); err != nil {
			return nil, err
		}
		switch {
		case it.ResourceRef != "" && it.ResourceRefs != nil:
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %q has both a resourceRef and resourceRefs", it.ID)
		case it.ResourceRefs == nil && it.ResourceRef == "":
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %q has no resourceRef", it.ID)
		case it.ResourceRefs != nil && len(it.ResourceRefs) == 0:
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %q: resourceRef is an empty array", it.ID)
		case slices.Contains(it.ResourceRefs, ""):
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %q: resourceRef has an empty ref", it.ID)
		case it.Conditions == nil:
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %q has no conditions", it.ID)
		}
		checks += max(1, len(it.ResourceRefs))
		if checks > a.opts.MaxItems {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "more than %d checks (items and their refs), the limit", a.opts.MaxItems)
		}
		if err := it.Conditions.Validate(a.opts.Limits); err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "item " + it.ID, Err: err}
		}
		if a.opts.Loaders[it.ResourceType] == nil && !slices.Contains(unexpected, it.ResourceType) {
			unexpected = append(unexpected, it.ResourceType)
		}
	}
	if len(unexpected) > 0 {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "unexpected resource types: %s", strings.Join(unexpected, ", "))
	}
	compiled := make(map[*Criteria]matcher, len(items))
	work := 0
	for _, it := range items {
		if !it.Conditions.resourceTypesAre(it.ResourceType) {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %q: conditions on another resource type than %s", it.ID, it.ResourceType)
		}
		// Compiled (and so checked) before anything is loaded: a tree
		// this Authorizer cannot evaluate is refused whether or not its
		// resource exists (else the answer would tell which refs
		// exist). Each tree's params are read once, whatever its refs.
		m, err := a.opts.Rules.compile(it.Conditions, compiled)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "item " + it.ID, Err: err}
		}
		// The work of applying a tree to a ref is bounded by the tree
		// limits times what its rules read per ref; a batch whose sum
		// over its refs is beyond maxApplyWork is refused, before
		// anything is loaded.
		work += m.cost * max(1, len(it.ResourceRefs))
		if work > maxApplyWork {
			return nil, errcode.Newf(errcode.InvalidArgument, op,
				"item %q: the conditions are too costly to apply to so many refs (their parameters times the refs exceed the limit of one request); send fewer refs or smaller conditions per request", it.ID)
		}
	}
	return compiled, nil
}

// ApplyConditionsHandler serves [Authorizer.ApplyConditions] at POST
// <plugin>/.well-known/backstage/permissions/apply-conditions, for the
// permission backend, whose items may carry a resourceRef array (answered
// with a result array). who authenticates the caller (the permission
// backend, with a token on behalf of the original user); an error answers
// 401 (503 when it is Unavailable: keys that cannot be fetched). The body
// is capped at 1 MiB; bad input answers 400 with Backstage's error body;
// {"items":[]} answers {"items":[]}.
//
// A malformed tree is refused before anything is loaded, whatever the
// refs, and a resource that does not exist is DENY: a caller whose
// conditions are fixed (the permission backend, relaying a policy's)
// cannot tell from the answer which refs exist. The endpoint evaluates
// the conditions the caller sends, though, so any caller that who lets in
// can learn whether a ref exists (Not of a condition that no entity meets
// is ALLOW exactly for the refs that exist) and read an entity's field
// values one guess at a time (HAS_SPEC, HAS_ANNOTATION, IS_ENTITY_OWNER
// with values of its choosing). This is inherent to the protocol and the
// same with Backstage's endpoint: who must let in only callers trusted
// to read the resources, such as the permission backend.
func ApplyConditionsHandler(a *Authorizer, who func(*http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowedError", "method not allowed")
			return
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			writeError(w, http.StatusUnsupportedMediaType, "InputError", "content type must be application/json")
			return
		}
		if err := who(r); err != nil {
			authError(w, err, "unauthorized")
			return
		}
		var req struct {
			Items *[]ApplyItem `json:"items"`
		}
		if !decodeBody(w, r, &req, "apply-conditions") {
			return
		}
		if req.Items == nil {
			writeError(w, http.StatusBadRequest, "InputError", "invalid apply-conditions request: no items array")
			return
		}
		out := []ApplyResult{}
		if len(*req.Items) > 0 {
			var err error
			if out, err = a.ApplyConditions(r.Context(), *req.Items); err != nil {
				if errcode.CodeOf(err) == errcode.InvalidArgument {
					writeError(w, http.StatusBadRequest, "InputError", "invalid apply-conditions request: "+err.Error())
					return
				}
				writeError(w, http.StatusInternalServerError, "Error", "applying conditions failed")
				return
			}
		}
		writeJSON(w, ApplyResponse{Items: out})
	})
}

// RulesMetadata is what a plugin serves at GET
// <plugin>/.well-known/backstage/permissions/metadata, in Backstage's
// shape: {"permissions":[…],"rules":[…]}. The permission backend reads
// the permissions (to list the installed ones), and the RBAC plugin the
// rules' params schemas (to build its conditions form).
type RulesMetadata struct {
	Permissions []Permission   `json:"permissions"`
	Rules       []RuleMetadata `json:"rules"`
}

// RuleMetadata describes one rule: {name, description, resourceType,
// paramsSchema}, paramsSchema a JSON Schema (draft-07) of the params
// object.
type RuleMetadata struct {
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	ResourceType string   `json:"resourceType"`
	ParamsSchema any      `json:"paramsSchema"`
	Params       []string `json:"-"`
}

// jsonSchemaDraft7 is the $schema of the params schemas Backstage serves.
const jsonSchemaDraft7 = "http://json-schema.org/draft-07/schema#"

// Metadata returns the metadata of the rules and of perms, the
// permissions the plugin defines, as Backstage's plugins serve it: each
// rule's params as a JSON Schema object, {"$schema": draft-07,
// "type":"object","properties":{name: its ParamSchemas entry, or {}},
// "required":[…] (left out when none is), "additionalProperties":false}.
// The result shares nothing with r or perms.
func (r *Rules) Metadata(perms ...Permission) RulesMetadata {
	out := RulesMetadata{Permissions: slices.Clone(perms), Rules: []RuleMetadata{}}
	if out.Permissions == nil {
		out.Permissions = []Permission{}
	}
	for _, d := range r.List() {
		props := map[string]any{}
		for _, p := range d.Params {
			props[p] = map[string]any{}
			if s := d.ParamSchemas[p]; s != nil {
				props[p] = cloneJSON(s)
			}
		}
		schema := map[string]any{"$schema": jsonSchemaDraft7, "type": "object", "properties": props, "additionalProperties": false}
		if len(d.Required) > 0 {
			schema["required"] = slices.Clone(d.Required)
		}
		out.Rules = append(out.Rules, RuleMetadata{Name: d.Name, Description: d.Description, ResourceType: d.ResourceType,
			ParamsSchema: schema, Params: slices.Clone(d.Params)})
	}
	return out
}

// cloneJSON returns a deep copy of a JSON-like value: its maps and
// slices (of any element type, as a schema written in Go may hold
// []string or map[string]map[string]any) are copied at every level, so
// that the copy shares nothing with v that could be changed through it.
// A map or slice met twice (a schema that holds one sub-schema in two
// places, or contains itself, which JSON cannot encode anyway) is copied
// once and the copy used again, so the work is linear in the maps and
// slices v holds. Past a depth no schema reaches, the rest is shared
// rather than copied.
func cloneJSON(v any) any {
	c := cloner{copies: map[cloneKey]any{}}
	return c.clone(v, 0)
}

// cloneKey identifies a map or slice: its type, where its data lies and
// (for a slice) its length.
type cloneKey struct {
	typ reflect.Type
	ptr uintptr // v, which holds the data, keeps it in place
	len int
}

// cloner deep-copies a value, each map and slice once.
type cloner struct {
	copies map[cloneKey]any
}

func (c *cloner) clone(v any, depth int) any {
	if depth > 1000 {
		return v
	}
	depth++
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice:
		if rv.IsNil() {
			return v
		}
	default:
		return v
	}
	key := cloneKey{typ: rv.Type(), ptr: rv.Pointer()}
	if rv.Kind() == reflect.Slice {
		key.len = rv.Len()
	}
	if out, ok := c.copies[key]; ok {
		return out
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		c.copies[key] = out
		for k, e := range x {
			out[k] = c.clone(e, depth)
		}
		return out
	case []any:
		out := make([]any, len(x))
		c.copies[key] = out
		for i, e := range x {
			out[i] = c.clone(e, depth)
		}
		return out
	}
	if rv.Kind() == reflect.Map {
		out := reflect.MakeMapWithSize(rv.Type(), rv.Len())
		c.copies[key] = out.Interface()
		for it := rv.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), c.cloneValue(it.Value(), depth))
		}
		return out.Interface()
	}
	out := reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
	c.copies[key] = out.Interface()
	for i := range rv.Len() {
		out.Index(i).Set(c.cloneValue(rv.Index(i), depth))
	}
	return out.Interface()
}

// cloneValue is clone on an element of a typed map or slice.
func (c *cloner) cloneValue(v reflect.Value, depth int) reflect.Value {
	if v.Kind() == reflect.Interface && v.IsNil() {
		return v
	}
	cv := reflect.ValueOf(c.clone(v.Interface(), depth))
	if !cv.IsValid() {
		return reflect.Zero(v.Type())
	}
	return cv.Convert(v.Type())
}

// MetadataHandler serves md at GET (and HEAD)
// <plugin>/.well-known/backstage/permissions/metadata. who authenticates
// the caller (the permission backend calls with a service token); an
// error answers 401 (503 when it is Unavailable). md is encoded once,
// when the handler is made.
func MetadataHandler(md RulesMetadata, who func(*http.Request) error) http.Handler {
	body, err := json.Marshal(md)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowedError", "method not allowed")
			return
		}
		if err := who(r); err != nil {
			authError(w, err, "unauthorized")
			return
		}
		if err != nil { // a ParamSchemas value that JSON cannot hold
			writeError(w, http.StatusInternalServerError, "Error", "metadata cannot be encoded")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(body, '\n'))
	})
}
