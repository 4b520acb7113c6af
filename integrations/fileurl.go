package integrations

import (
	"path"
	"strings"
)

const opFileURL = "integrations.FileURL"

// DefaultBranchRef is the ref [Registry.FileURL] writes for a location
// without one: every provider's web UI reads it as the repository's
// default branch, and scm.Client reads a URL at this ref at the default
// branch.
const DefaultBranchRef = "HEAD"

// FileURL returns the web URL of the file name in the repository and at
// the ref that location names, as Backstage's "Register existing
// component" turns a pasted repository URL into the URL of its
// catalog-info.yaml: location may be a repository's URL, a tree
// (directory) URL, or a file URL, and name is relative to the directory it
// names (a file URL's directory); a name starting with "/" is relative to
// the repository root. A path whose URL does not say it is a directory
// (Bitbucket's /src/ and /browse/ paths without a trailing "/") is taken
// for a file. A location without a ref (a repository's URL, a
// Bitbucket Server URL without "at") gives a URL at [DefaultBranchRef] on
// providers whose file URLs need a ref, and none on Bitbucket Server.
//
//	FileURL("https://github.com/acme/svc", "catalog-info.yaml")
//	    = "https://github.com/acme/svc/blob/HEAD/catalog-info.yaml"
//	FileURL("https://github.com/acme/svc/tree/main/services/a", "catalog-info.yaml")
//	    = "https://github.com/acme/svc/blob/main/services/a/catalog-info.yaml"
//
// The error is InvalidArgument, as [Registry.Parse]'s, for a location
// Parse refuses or that names no repository (an owner's page), and for a
// name that is empty, names a directory (ends in "/"), or leaves the
// repository through "..".
func (r *Registry) FileURL(location, name string) (string, error) {
	loc, err := r.Parse(location)
	if err != nil {
		return "", err
	}
	in, _ := r.ByHost(loc.Host)
	if loc.Repo == "" {
		return "", invalid(opFileURL, in, "the location names no repository")
	}
	if name == "" || strings.HasSuffix(name, "/") || strings.ContainsAny(name, "?#\\") {
		return "", invalid(opFileURL, in, "the file name must be a slash-separated path to a file, without query or fragment")
	}
	dir := loc.Path
	if !loc.Tree {
		dir = path.Dir(loc.Path)
	}
	if strings.HasPrefix(name, "/") {
		dir = ""
	}
	p := path.Join(dir, strings.TrimPrefix(name, "/")) // cleans "." and ".." segments
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return "", invalid(opFileURL, in, "the file name leaves the repository")
	}
	loc.Path, loc.Tree = p, false
	if loc.Ref == "" && loc.Kind != BitbucketServer {
		loc.Ref = DefaultBranchRef
	}
	return r.URL(loc)
}
