package rbac

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// Config is the `permission` section of app-config.yaml, as the
// community RBAC plugin reads it. Decode it with
// [github.com/scmkit/scmkit/config.Config.Decode] (see the example), then
// log [Config.Warnings]: they say when the policy is configured but
// permission.enabled is not true (every request is then allowed), and
// name the keys scmkit does not read (typos, and Backstage keys it does
// not support).
type Config struct {
	// Enabled is permission.enabled; false (or unset) means every check
	// is allowed, as in Backstage, whatever permission.rbac says
	// ([Config.Warnings] says so when permission.rbac is set).
	Enabled bool       `json:"enabled"`
	RBAC    RBACConfig `json:"rbac"`

	// keyWarnings are the warnings about the keys of the decoded JSON.
	keyWarnings []string
	// rbacSet records that the decoded JSON has a permission.rbac block.
	rbacSet bool
}

// RBACConfig is permission.rbac.
type RBACConfig struct {
	// PoliciesCSVFile is the policy CSV file's path.
	PoliciesCSVFile string `json:"policies-csv-file"`
	// ConditionalPoliciesFile is the conditional policies YAML file's
	// path.
	ConditionalPoliciesFile string `json:"conditionalPoliciesFile"`
	// MaxDepth bounds group inheritance; unset means no bound.
	MaxDepth *int `json:"maxDepth"`
	Admin    struct {
		// SuperUsers are allowed everything.
		SuperUsers []Named `json:"superUsers"`
		// Users administer RBAC (the plugin's own API); scmkit keeps them
		// for the embedder.
		Users []Named `json:"users"`
	} `json:"admin"`
	// UseOwnershipEntityRefs trusts the token's ent refs for bindings.
	UseOwnershipEntityRefs bool `json:"useOwnershipEntityRefs"`
	// PolicyDecisionPrecedence is permission.rbac.policyDecisionPrecedence:
	// "conditional" (the default: a role's conditional policies before
	// its permission lines) or "basic" (permission lines first; see
	// Options.PreferPermissionLines).
	PolicyDecisionPrecedence string `json:"policyDecisionPrecedence"`
	// DefaultPermissions is permission.rbac.defaultPermissions: a role
	// every signed-in user holds, with its permission lines.
	DefaultPermissions DefaultPermissions `json:"defaultPermissions"`
}

// DefaultPermissions is permission.rbac.defaultPermissions, as the RBAC
// plugin reads it: every signed-in user (not an anonymous caller) holds
// DefaultRole, whose permission lines are BasicPermissions. As in the
// plugin, a DefaultRole needs at least one basic permission, and the
// policy files must not name it (no CSV line, no conditional policy):
// its grants live in the configuration only.
type DefaultPermissions struct {
	// DefaultRole is a role ref ("role:default/everyone").
	DefaultRole string `json:"defaultRole"`
	// BasicPermissions are the role's permission lines.
	BasicPermissions []BasicPermission `json:"basicPermissions"`
}

// BasicPermission is one line of DefaultPermissions: "p, DefaultRole,
// Permission, Action, Effect".
type BasicPermission struct {
	// Permission is a permission name ("catalog.entity.read") or a
	// resource type ("catalog-entity").
	Permission string `json:"permission"`
	// Action is create, read, update, delete or use; empty means use.
	Action string `json:"action"`
	// Effect is allow or deny; empty means allow.
	Effect string `json:"effect"`
}

// Named is a {name: ref} entry of the admin lists.
type Named struct {
	Name string `json:"name"`
}

// UnmarshalJSON decodes the permission section and notes, for
// [Config.Warnings], the keys scmkit does not read.
func (c *Config) UnmarshalJSON(b []byte) error {
	type plain Config // without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = Config(p)
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) == nil {
		raw, ok := m["rbac"]
		c.rbacSet = ok && string(raw) != "null"
		c.keyWarnings = keyWarnings("permission", m, permissionKeys)
	}
	return nil
}

// Warnings returns what a deployment should be told about c, one
// sentence each: that permission.enabled is not true while permission.rbac
// is set (Backstage's semantics, kept: every request is allowed and the
// policy is never consulted), and, when c was decoded from JSON (as
// [github.com/scmkit/scmkit/config.Config.Decode] does), every key scmkit
// does not read, named by its path: a typo ("policiesCsvFile" for
// "policies-csv-file", which would load an empty policy), a key in a case
// Backstage would not read, or a key of the RBAC plugin scmkit does not
// support (policyFileReload: call [Live.ReloadFiles] yourself;
// pluginsWithPermission; …). Load and LoadFiles do not log them: the
// embedder does (see the example).
func (c *Config) Warnings() []string {
	var ws []string
	if !c.Enabled && (c.rbacSet || c.RBAC.configured()) {
		ws = append(ws, "permission.enabled is not true: every permission request is allowed and permission.rbac is ignored (as in Backstage); set permission.enabled: true to apply the policy")
	}
	return append(ws, c.keyWarnings...)
}

// configured reports whether any field of r is set.
func (r *RBACConfig) configured() bool {
	return r.PoliciesCSVFile != "" || r.ConditionalPoliciesFile != "" || r.MaxDepth != nil || len(r.Admin.SuperUsers) > 0 ||
		len(r.Admin.Users) > 0 || r.UseOwnershipEntityRefs || r.PolicyDecisionPrecedence != "" || r.DefaultPermissions.DefaultRole != "" || len(r.DefaultPermissions.BasicPermissions) > 0
}

// keySpec describes the keys of one object of the permission section:
// for each key scmkit reads, the spec of its value (nil: a scalar, or an
// object scmkit does not look into); for each key scmkit knows but does
// not act on, the warning's text.
type keySpec struct {
	read        map[string]*keySpec
	list        bool // the value is a list of objects of this spec
	unsupported map[string]string
}

var (
	namedKeys      = &keySpec{list: true, read: map[string]*keySpec{"name": nil}}
	permissionKeys = &keySpec{
		read: map[string]*keySpec{
			"enabled": nil,
			"rbac": {
				read: map[string]*keySpec{
					"policies-csv-file":        nil,
					"conditionalPoliciesFile":  nil,
					"maxDepth":                 nil,
					"useOwnershipEntityRefs":   nil,
					"policyDecisionPrecedence": nil,
					"admin":                    {read: map[string]*keySpec{"users": namedKeys, "superUsers": namedKeys}},
					"defaultPermissions": {read: map[string]*keySpec{
						"defaultRole":      nil,
						"basicPermissions": {list: true, read: map[string]*keySpec{"permission": nil, "action": nil, "effect": nil}},
					}},
				},
				unsupported: map[string]string{
					"enabled":                  "not a key of permission.rbac: the switch is permission.enabled",
					"policyFileReload":         "scmkit does not watch the policy files: call rbac.Live.ReloadFiles when they change (from a file watcher or on SIGHUP)",
					"pluginsWithPermission":    "lists the plugins whose permissions the RBAC plugin's admin API shows; scmkit has no such API, and decisions do not depend on it; ignored",
					"conditionalMetadataRetry": "scmkit does not read plugins' permission metadata to check conditional policies; ignored",
					"validation":               "not read: bound condition trees with permission.AuthorizerOptions.Limits (the RBAC plugin's limits by default); policy files are capped at 1 MiB",
					"database":                 "scmkit keeps the policy in the files only (no database, no admin API); ignored",
				},
			},
			// Read by Backstage's frontend permission client, not the
			// backend.
			"EXPERIMENTAL_enableBatchedRequests": nil,
		},
	}
)

// keyWarnings returns the warnings about the keys of m, the object at
// path, against spec, sorted by path.
func keyWarnings(path string, m map[string]json.RawMessage, spec *keySpec) []string {
	var out []string
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		at := path + "." + k
		sub, ok := spec.read[k]
		if !ok {
			if msg, ok := spec.unsupported[k]; ok {
				if k == "policyFileReload" && string(m[k]) != "true" {
					continue // off: nothing is lost
				}
				out = append(out, at+": "+msg)
				continue
			}
			if known, ok := foldKey(spec, k); ok {
				if _, both := m[known]; both {
					out = append(out, at+": "+known+" is set too; scmkit reads whichever of the two comes last, Backstage only "+known+": remove "+k)
				} else {
					out = append(out, at+": read as "+known+", which is how Backstage spells it (its keys are case-sensitive, so it would ignore this one)")
				}
				continue
			}
			out = append(out, at+": not a key scmkit reads; ignored (a typo?)")
			continue
		}
		if sub == nil {
			continue
		}
		if sub.list {
			var items []json.RawMessage
			if json.Unmarshal(m[k], &items) != nil {
				continue
			}
			for i, it := range items {
				var o map[string]json.RawMessage
				if json.Unmarshal(it, &o) == nil {
					out = append(out, keyWarnings(at+"["+strconv.Itoa(i)+"]", o, sub)...)
				}
			}
			continue
		}
		var o map[string]json.RawMessage
		if json.Unmarshal(m[k], &o) == nil {
			out = append(out, keyWarnings(at, o, sub)...)
		}
	}
	return out
}

// foldKey returns the key spec reads that k spells in another case:
// encoding/json matches keys case-insensitively.
func foldKey(spec *keySpec, k string) (string, bool) {
	for known := range spec.read {
		if strings.EqualFold(known, k) {
			return known, true
		}
	}
	return "", false
}

// Load reads the files c names from fsys (paths as fs.ValidPath: relative,
// slash-separated) and builds the policy against m. A missing or invalid
// file is an error; nothing is half loaded. With no file named, Load opens
// nothing (fsys may be nil) and the policy holds only the super users and
// the default permissions. permission.rbac.defaultPermissions and
// policyDecisionPrecedence are applied as the RBAC plugin applies them
// (see [DefaultPermissions]); a bad value of either is InvalidArgument.
// Load does not look at c.Enabled: log [Config.Warnings], and give
// permission.AuthorizerOptions.Disabled !c.Enabled.
//
// Backstage configs often name the CSV as "./rbac-policy.csv",
// "../../rbac-policy.csv" (relative to packages/backend) or an absolute
// path. A leading "./" is taken as relative to fsys; a name that leaves
// fsys ("../", an absolute path) is InvalidArgument saying so: use
// [LoadFiles], which reads such paths as Backstage does, or name the file
// relative to fsys (os.DirFS of its directory and "rbac-policy.csv").
func Load(fsys fs.FS, c *Config, m *Membership) (*Policy, error) {
	return loadPolicy(c, m, func(key, name string) (io.ReadCloser, string, error) {
		name, err := fsName(key, name)
		if err != nil {
			return nil, "", err
		}
		f, err := fsys.Open(name)
		if err != nil {
			return nil, "", &errcode.Error{Code: errcode.InvalidArgument, Op: "rbac.Load", Msg: key, Err: err}
		}
		return f, name, nil
	})
}

// LoadFiles is [Load] with the files named as Backstage's RBAC plugin
// names them: operating-system paths, absolute ("/etc/backstage/rbac.csv",
// as in container images) or relative to dir (the backend's working
// directory, "." in most deployments, against which Backstage resolves
// "../../rbac-policy.csv"). The paths come from the operator's
// configuration, which is trusted; read untrusted names with Load and an
// fs.FS instead.
func LoadFiles(dir string, c *Config, m *Membership) (*Policy, error) {
	return loadPolicy(c, m, func(key, name string) (io.ReadCloser, string, error) {
		p := filepath.FromSlash(name)
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, "", &errcode.Error{Code: errcode.InvalidArgument, Op: "rbac.LoadFiles", Msg: key, Err: err}
		}
		return f, name, nil
	})
}

// loadPolicy builds the policy of c against m, with the files open opens
// (given the config key and the name as written, it returns the file and
// its name for messages, or an error naming the key).
func loadPolicy(c *Config, m *Membership, open func(key, name string) (io.ReadCloser, string, error)) (*Policy, error) {
	var files []*File
	opts := &Options{MaxDepth: c.RBAC.MaxDepth, UseOwnershipEntityRefs: c.RBAC.UseOwnershipEntityRefs}
	switch c.RBAC.PolicyDecisionPrecedence {
	case "", "conditional":
	case "basic":
		opts.PreferPermissionLines = true
	default:
		return nil, errcode.Newf(errcode.InvalidArgument, "rbac.Load", "permission.rbac.policyDecisionPrecedence: must be \"conditional\" or \"basic\", got %q", c.RBAC.PolicyDecisionPrecedence)
	}
	defaults, err := c.RBAC.DefaultPermissions.file()
	if err != nil {
		return nil, err
	}
	for _, s := range c.RBAC.Admin.SuperUsers {
		opts.SuperUsers = append(opts.SuperUsers, s.Name)
	}
	if name := c.RBAC.PoliciesCSVFile; name != "" {
		f, name, err := open("permission.rbac.policies-csv-file", name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		pf, err := ParseCSV(name, f)
		if err != nil {
			return nil, err
		}
		files = append(files, pf)
	}
	if name := c.RBAC.ConditionalPoliciesFile; name != "" {
		f, name, err := open("permission.rbac.conditionalPoliciesFile", name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cps, err := ParseConditional(name, f)
		if err != nil {
			return nil, err
		}
		opts.Conditional = cps
	}
	if defaults != nil {
		opts.DefaultRole = defaults.Lines[0].Role
		if err := checkDefaultRole(opts.DefaultRole, files, opts.Conditional); err != nil {
			return nil, err
		}
		files = append(files, defaults)
	}
	return New(files, m, opts)
}

// defaultPermissionsKey names permission.rbac.defaultPermissions in
// messages, and as the name of the file of its lines.
const defaultPermissionsKey = "permission.rbac.defaultPermissions"

// file returns the policy lines of d as a File named after its config
// key (line n is basicPermissions[n-1]), or nil when d is empty. Its
// problems are InvalidArgument, as a CSV file's.
func (d *DefaultPermissions) file() (*File, error) {
	const op = "rbac.Load"
	if d.DefaultRole == "" && len(d.BasicPermissions) == 0 {
		return nil, nil
	}
	if d.DefaultRole == "" {
		return nil, errcode.New(errcode.InvalidArgument, op, defaultPermissionsKey+".defaultRole: is required with basicPermissions (a role ref, e.g. role:default/everyone)")
	}
	if len(d.BasicPermissions) == 0 {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s.basicPermissions: the default role %q needs at least one entry, as in the RBAC plugin", defaultPermissionsKey, d.DefaultRole)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, bp := range d.BasicPermissions {
		act, eff := bp.Action, bp.Effect
		if act == "" {
			act = "use"
		}
		if eff == "" {
			eff = "allow"
		}
		_ = w.Write([]string{"p", d.DefaultRole, bp.Permission, act, eff})
	}
	w.Flush()
	return ParseCSV(defaultPermissionsKey+".basicPermissions", &b)
}

// checkDefaultRole refuses policy files that name the default role, as
// the RBAC plugin does: its grants come from the configuration only, and
// a CSV line or conditional policy for it would be a second, conflicting
// source.
func checkDefaultRole(role string, files []*File, conds []ConditionalPolicy) error {
	for _, f := range files {
		for _, l := range f.Lines {
			if l.Role == role {
				return errcode.Newf(errcode.InvalidArgument, "rbac.Load", "%s:%d: names %s, the default role of %s.defaultRole: "+
					"its permissions come from %s.basicPermissions only; use another role in the file", f.Name, l.Number, role, defaultPermissionsKey, defaultPermissionsKey)
			}
		}
	}
	for _, cp := range conds {
		if r, err := normRef(cp.RoleEntityRef, ""); err == nil && r == role {
			return errcode.Newf(errcode.InvalidArgument, "rbac.Load", "conditional policy %s: names %s, the default role of %s.defaultRole, which the RBAC plugin does not "+
				"give conditional policies; use another role", cp.Source, role, defaultPermissionsKey)
		}
	}
	return nil
}

// fsName is a config's file name as a name in the fs.FS: "./x" is "x"; a
// name that leaves the fs.FS is refused, naming the key.
func fsName(key, name string) (string, error) {
	n := strings.TrimPrefix(path.Clean(filepath.ToSlash(name)), "./")
	if !fs.ValidPath(n) {
		return "", errcode.Newf(errcode.InvalidArgument, "rbac.Load", "%s: %q is outside the fs.FS the files are read from (a \"../\" or absolute path); "+
			"use rbac.LoadFiles, which reads such paths as Backstage does, or give Load an fs.FS of the file's directory (os.DirFS) and name the file relative to it", key, name)
	}
	return n, nil
}
