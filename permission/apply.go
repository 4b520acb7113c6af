package permission

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// ApplyItem is one item of Backstage's apply-conditions request, which a
// permission backend sends to the plugin owning a resource type:
// {id, resourceRef, resourceType, conditions}.
type ApplyItem struct {
	ID           string    `json:"id"`
	ResourceRef  string    `json:"resourceRef"`
	ResourceType string    `json:"resourceType"`
	Conditions   *Criteria `json:"conditions"`
}

// ApplyRequest is the body of POST
// <plugin>/.well-known/backstage/permissions/apply-conditions.
type ApplyRequest struct {
	Items []ApplyItem `json:"items"`
}

// ApplyResult is its answer for one item: {id, result: ALLOW|DENY}.
type ApplyResult struct {
	ID     string `json:"id"`
	Result Result `json:"result"`
}

// ApplyResponse is the answer to an [ApplyRequest].
type ApplyResponse struct {
	Items []ApplyResult `json:"items"`
}

// ApplyConditions evaluates conditions against resources, as a plugin's
// apply-conditions endpoint does: each distinct resource is loaded once
// (one loader call per resource type), a resource that does not exist is
// DENY. It returns InvalidArgument for an empty or oversized batch, a
// missing or repeated id, a missing ref, a resource type without a loader,
// or conditions of the wrong shape, beyond the limits, on another
// resource type, or naming a rule or parameter it does not know (checked
// before anything is loaded, so that the answer does not depend on
// whether the resource exists); the loader's error when it fails.
func (a *Authorizer) ApplyConditions(ctx context.Context, items []ApplyItem) ([]ApplyResult, error) {
	const op = "permission.ApplyConditions"
	switch {
	case len(items) == 0:
		return nil, errcode.New(errcode.InvalidArgument, op, "no items")
	case len(items) > a.opts.MaxItems:
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%d items, more than the limit of %d", len(items), a.opts.MaxItems)
	}
	ids := make(map[string]bool, len(items))
	want := map[string][]string{}
	seen := map[[2]string]bool{}
	for i, it := range items {
		switch {
		case it.ID == "" || ids[it.ID]:
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %d: missing or repeated id", i)
		case it.ResourceRef == "":
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %q has no resourceRef", it.ID)
		case a.opts.Loaders[it.ResourceType] == nil:
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %q: resource type %q is not served here", it.ID, it.ResourceType)
		case it.Conditions == nil:
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %q has no conditions", it.ID)
		}
		if err := it.Conditions.Validate(a.opts.Limits); err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "item " + it.ID, Err: err}
		}
		if !it.Conditions.resourceTypesAre(it.ResourceType) {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "item %q: conditions on another resource type than %s", it.ID, it.ResourceType)
		}
		// Checked before anything is loaded: a tree this Authorizer
		// cannot evaluate is refused whether or not its resource exists
		// (else the answer would tell which refs exist).
		if err := a.opts.Rules.check(it.Conditions); err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "item " + it.ID, Err: err}
		}
		ids[it.ID] = true
		k := [2]string{it.ResourceType, it.ResourceRef}
		if !seen[k] {
			seen[k] = true
			want[it.ResourceType] = append(want[it.ResourceType], it.ResourceRef)
		}
	}
	loaded := map[string]map[string]any{}
	for rt, refs := range want {
		res, err := load(ctx, a.opts.Loaders[rt], rt, refs)
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
	out := make([]ApplyResult, len(items))
	for i, it := range items {
		out[i] = ApplyResult{ID: it.ID, Result: Deny}
		r, ok := loaded[it.ResourceType][it.ResourceRef]
		if !ok || r == nil {
			continue
		}
		match, err := a.opts.Rules.Evaluate(it.Conditions, r)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "item " + it.ID, Err: err}
		}
		if match {
			out[i].Result = Allow
		}
	}
	return out, nil
}

// ApplyConditionsHandler serves [Authorizer.ApplyConditions] at POST
// <plugin>/.well-known/backstage/permissions/apply-conditions. who
// authenticates the caller (the permission backend, with a token on
// behalf of the original user); an error answers 401 (503 when it is
// Unavailable: keys that cannot be fetched). The body is capped at 1 MiB;
// bad input answers 400.
func ApplyConditionsHandler(a *Authorizer, who func(*http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "NotAllowedError", "method not allowed")
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
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
		var req ApplyRequest
		if err := dec.Decode(&req); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, http.StatusRequestEntityTooLarge, "InputError", "request body is larger than 1 MiB")
				return
			}
			writeError(w, http.StatusBadRequest, "InputError", "request body is not a valid apply-conditions request")
			return
		}
		if _, err := dec.Token(); err != io.EOF {
			writeError(w, http.StatusBadRequest, "InputError", "request body has trailing data")
			return
		}
		out, err := a.ApplyConditions(r.Context(), req.Items)
		if err != nil {
			if errcode.CodeOf(err) == errcode.InvalidArgument {
				writeError(w, http.StatusBadRequest, "InputError", err.Error())
				return
			}
			writeError(w, http.StatusInternalServerError, "Error", "applying conditions failed")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(ApplyResponse{Items: out})
	})
}

// RulesMetadata describes the rules of a plugin, as
// GET <plugin>/.well-known/backstage/permissions/metadata lists them (the
// params as names; Backstage sends JSON schemas).
type RulesMetadata struct {
	Rules []RuleMetadata `json:"rules"`
}

// RuleMetadata describes one rule.
type RuleMetadata struct {
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	ResourceType string   `json:"resourceType"`
	ParamsSchema any      `json:"paramsSchema"`
	Params       []string `json:"-"`
}

// Metadata returns the rules' metadata, with a JSON schema per rule
// listing its params (types are not described).
func (r *Rules) Metadata() RulesMetadata {
	var out RulesMetadata
	for _, d := range r.List() {
		props := map[string]any{}
		for _, p := range d.Params {
			props[p] = map[string]any{}
		}
		schema := map[string]any{"type": "object", "properties": props, "required": append([]string{}, d.Required...),
			"additionalProperties": false}
		out.Rules = append(out.Rules, RuleMetadata{Name: d.Name, Description: d.Description, ResourceType: d.ResourceType, ParamsSchema: schema, Params: d.Params})
	}
	return out
}
