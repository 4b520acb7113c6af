package rbac

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// Config is the `permission` section of app-config.yaml, as the
// community RBAC plugin reads it. Decode it with
// [github.com/scmkit/scmkit/config.Config.Decode] (see the example).
type Config struct {
	// Enabled is permission.enabled; false (or unset) means every check
	// is allowed, as in Backstage.
	Enabled bool       `json:"enabled"`
	RBAC    RBACConfig `json:"rbac"`
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
}

// Named is a {name: ref} entry of the admin lists.
type Named struct {
	Name string `json:"name"`
}

// Load reads the files c names from fsys (paths as fs.ValidPath: relative,
// slash-separated) and builds the policy against m. A missing or invalid
// file is an error; nothing is half loaded. With no file named, Load opens
// nothing (fsys may be nil) and the policy holds only the super users.
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
	return New(files, m, opts)
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
