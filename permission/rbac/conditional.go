package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/permission"
)

// The aliases a conditional policy's params may use, substituted with the
// user's entity ref and ownership entity refs at decision time, in the
// catalog's form ("User:Bob" becomes "user:default/bob").
const (
	CurrentUser = "$currentUser"
	OwnerRefs   = "$ownerRefs"
)

// ConditionalPolicy is one document of the RBAC plugin's conditional
// policies file: for users holding RoleEntityRef, a resource permission
// of ResourceType whose action is in PermissionMapping is CONDITIONAL on
// Conditions.
type ConditionalPolicy struct {
	Result            permission.Result    `json:"result"`
	RoleEntityRef     string               `json:"roleEntityRef"`
	PluginID          string               `json:"pluginId"`
	ResourceType      string               `json:"resourceType"`
	PermissionMapping []permission.Action  `json:"permissionMapping"`
	Conditions        *permission.Criteria `json:"conditions"`
	// Source is "file:document" for explanations.
	Source string `json:"-"`

	aliases bool
}

// maxDocuments caps the documents of a conditional policies file.
const maxDocuments = 256

// ParseConditional parses a conditional policies file: YAML documents
// (or JSON, a subset) each shaped as [ConditionalPolicy], within the RBAC
// plugin's limits (1 MiB, 256 documents; condition trees at most 12 deep,
// 256 nodes, 64 items per criteria). Any problem refuses the whole file
// with an InvalidArgument *errcode.Error naming the document.
func ParseConditional(name string, r io.Reader) ([]ConditionalPolicy, error) {
	const op = "rbac.ParseConditional"
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "reading " + name, Err: err}
	}
	if len(data) > MaxFileSize {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s is larger than %d bytes", name, MaxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []ConditionalPolicy
	for doc := 1; ; doc++ {
		var tree any
		err := dec.Decode(&tree)
		if errors.Is(err, io.EOF) {
			break
		}
		where := fmt.Sprintf("%s document %d", name, doc)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: where, Err: err}
		}
		if doc > maxDocuments {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "%s has more than %d documents", name, maxDocuments)
		}
		if tree == nil {
			continue
		}
		js, err := json.Marshal(tree)
		if err != nil {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "%s: not a JSON-compatible document", where)
		}
		var cp ConditionalPolicy
		jd := json.NewDecoder(bytes.NewReader(js))
		jd.DisallowUnknownFields()
		if err := jd.Decode(&cp); err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: where, Err: err}
		}
		cp.Source = where
		if err := cp.validate(); err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: where, Err: err}
		}
		out = append(out, cp)
	}
	return out, nil
}

// validate checks one conditional policy and normalises its role ref.
func (cp *ConditionalPolicy) validate() error {
	const op = "rbac.ConditionalPolicy"
	if cp.Result != permission.Conditional {
		return errcode.Newf(errcode.InvalidArgument, op, "result must be CONDITIONAL, got %q", cp.Result)
	}
	role, err := normRef(cp.RoleEntityRef, "")
	if err != nil || role[:5] != "role:" {
		return errcode.Newf(errcode.InvalidArgument, op, "roleEntityRef %q is not a role ref", cp.RoleEntityRef)
	}
	cp.RoleEntityRef = role
	if cp.PluginID == "" || cp.ResourceType == "" {
		return errcode.New(errcode.InvalidArgument, op, "pluginId and resourceType are required")
	}
	if len(cp.PermissionMapping) == 0 {
		return errcode.New(errcode.InvalidArgument, op, "permissionMapping must list at least one action")
	}
	for _, a := range cp.PermissionMapping {
		if _, ok := actionSet[string(a)]; !ok {
			return errcode.Newf(errcode.InvalidArgument, op, "permissionMapping: unknown action %q", a)
		}
	}
	if cp.Conditions == nil {
		return errcode.New(errcode.InvalidArgument, op, "conditions are required")
	}
	if err := cp.Conditions.Validate(permission.Limits{}); err != nil {
		return err
	}
	if !sameResourceType(cp.Conditions, cp.ResourceType) {
		return errcode.Newf(errcode.InvalidArgument, op, "a condition is about another resource type than %s", cp.ResourceType)
	}
	cp.aliases = hasAliases(cp.Conditions)
	return nil
}

func sameResourceType(c *permission.Criteria, rt string) bool {
	if c.Condition != nil {
		return c.Condition.ResourceType == rt
	}
	if c.Not != nil {
		return sameResourceType(c.Not, rt)
	}
	for _, e := range append(slices.Clip(c.AllOf), c.AnyOf...) {
		if !sameResourceType(e, rt) {
			return false
		}
	}
	return true
}

func hasAliases(c *permission.Criteria) bool {
	found := false
	walk(c, func(cond *permission.Condition) {
		for _, v := range cond.Params {
			switch x := v.(type) {
			case string:
				found = found || x == CurrentUser || x == OwnerRefs
			case []any:
				found = found || slices.ContainsFunc(x, func(e any) bool { return e == CurrentUser || e == OwnerRefs })
			}
		}
	})
	return found
}

func walk(c *permission.Criteria, f func(*permission.Condition)) {
	switch {
	case c.Condition != nil:
		f(c.Condition)
	case c.Not != nil:
		walk(c.Not, f)
	default:
		for _, e := range append(slices.Clip(c.AllOf), c.AnyOf...) {
			walk(e, f)
		}
	}
}

// substitute returns a copy of c with the aliases replaced: $currentUser
// by the user's ref, $ownerRefs by her ownership refs (spliced into an
// array, or as an array in place of a lone string).
func substitute(c *permission.Criteria, userRef string, ownerRefs []string) *permission.Criteria {
	switch {
	case c.Condition != nil:
		params := make(map[string]any, len(c.Condition.Params))
		for k, v := range c.Condition.Params {
			switch x := v.(type) {
			case string:
				switch x {
				case CurrentUser:
					v = userRef
				case OwnerRefs:
					refs := make([]any, len(ownerRefs))
					for i, r := range ownerRefs {
						refs[i] = r
					}
					v = refs
				}
			case []any:
				var list []any
				for _, e := range x {
					switch e {
					case CurrentUser:
						list = append(list, userRef)
					case OwnerRefs:
						for _, r := range ownerRefs {
							list = append(list, r)
						}
					default:
						list = append(list, e)
					}
				}
				if list == nil {
					list = []any{}
				}
				v = list
			}
			params[k] = v
		}
		cond := *c.Condition
		cond.Params = params
		return &permission.Criteria{Condition: &cond}
	case c.Not != nil:
		return permission.Not(substitute(c.Not, userRef, ownerRefs))
	case c.AllOf != nil:
		return permission.AllOf(substituteAll(c.AllOf, userRef, ownerRefs)...)
	default:
		return permission.AnyOf(substituteAll(c.AnyOf, userRef, ownerRefs)...)
	}
}

func substituteAll(cs []*permission.Criteria, userRef string, ownerRefs []string) []*permission.Criteria {
	out := make([]*permission.Criteria, len(cs))
	for i, c := range cs {
		out[i] = substitute(c, userRef, ownerRefs)
	}
	return out
}
