package integrations

import (
	"net/url"
	"strings"
)

const (
	opFileAPI = "integrations.FileAPIURL"
	opRaw     = "integrations.RawURL"
	opArchive = "integrations.ArchiveURL"
)

// check validates loc for the builders: it must be of in's kind (or have
// no kind), name a repository, and be safe to put in a URL.
func (in *Integration) check(op string, loc Location) error {
	if in.Disabled != nil {
		return disabledError(op, in)
	}
	if loc.Kind != "" && loc.Kind != in.Kind {
		return invalid(op, in, "the Location is of kind "+quote(string(loc.Kind))+", not "+quote(string(in.Kind)))
	}
	if loc.Repo == "" {
		return invalid(op, in, "the Location names no repository")
	}
	if msg := locProblem(in.Kind, loc); msg != "" {
		return invalid(op, in, msg)
	}
	return nil
}

func (in *Integration) api(op string) (string, error) {
	if in.APIBaseURL == "" {
		return "", invalid(op, in, in.ConfigPath+" has no apiBaseUrl; set one")
	}
	return in.APIBaseURL, nil
}

// gitLabProject is the URL-encoded project path, as GitLab's API wants it
// ("group%2Fsub%2Fproject").
func gitLabProject(loc Location) string { return url.PathEscape(loc.Owner + "/" + loc.Repo) }

func query(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if b.Len() == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(kv[i] + "=" + url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

// FileAPIURL returns the REST API URL that returns the raw content of the
// file at loc:
//
//	GitHub           {api}/repos/{owner}/{repo}/contents/{path}?ref={ref}
//	GitLab           {api}/projects/{owner%2Frepo}/repository/files/{path%2F...}/raw?ref={ref}
//	Bitbucket Cloud  {api}/repositories/{workspace}/{repo}/src/{ref}/{path}
//	Bitbucket Server {api}/projects/{key}/repos/{repo}/raw/{path}?at={ref}
//
// Every segment is escaped; the ref parameter is left out when loc.Ref is
// empty (the default branch). Bitbucket Cloud needs a ref (look up the
// repository's main branch first). GitHub's contents API returns raw bytes
// with Accept: application/vnd.github.raw. The error is InvalidArgument for
// a Location without owner or repository, of another kind, with traversal
// in its path or ref, or without the path or ref the provider needs.
func (in *Integration) FileAPIURL(loc Location) (string, error) {
	if err := in.check(opFileAPI, loc); err != nil {
		return "", err
	}
	api, err := in.api(opFileAPI)
	if err != nil {
		return "", err
	}
	if loc.Path == "" {
		return "", invalid(opFileAPI, in, "the Location names no file")
	}
	path := escapeSegments(loc.Path)
	switch in.Kind {
	case GitHub:
		return api + "/repos/" + url.PathEscape(loc.Owner) + "/" + url.PathEscape(loc.Repo) + "/contents/" + path + query("ref", loc.Ref), nil
	case GitLab:
		return api + "/projects/" + gitLabProject(loc) + "/repository/files/" + url.PathEscape(loc.Path) + "/raw" + query("ref", loc.Ref), nil
	case BitbucketCloud:
		if loc.Ref == "" {
			return "", invalid(opFileAPI, in, "Bitbucket Cloud needs a ref; look up the repository's main branch first")
		}
		return api + "/repositories/" + url.PathEscape(loc.Owner) + "/" + url.PathEscape(loc.Repo) + "/src/" + url.PathEscape(loc.Ref) + "/" + path, nil
	case BitbucketServer:
		return api + "/projects/" + url.PathEscape(loc.Owner) + "/repos/" + url.PathEscape(loc.Repo) + "/raw/" + path + query("at", loc.Ref), nil
	}
	return "", invalid(opFileAPI, in, "unknown integration kind")
}

// RawURL returns the URL of the file at loc on GitHub's raw-content host,
// {raw}/{owner}/{repo}/{ref}/{path} (ref HEAD when loc.Ref is empty), for
// anonymous reads. It returns "" and no error for other providers and for
// a GitHub integration without rawBaseUrl.
func (in *Integration) RawURL(loc Location) (string, error) {
	if err := in.check(opRaw, loc); err != nil {
		return "", err
	}
	if in.Kind != GitHub || in.RawBaseURL == "" {
		return "", nil
	}
	if loc.Path == "" {
		return "", invalid(opRaw, in, "the Location names no file")
	}
	ref := loc.Ref
	if ref == "" {
		ref = "HEAD"
	}
	return in.RawBaseURL + "/" + url.PathEscape(loc.Owner) + "/" + url.PathEscape(loc.Repo) + "/" + escapeSegments(ref) + "/" + escapeSegments(loc.Path), nil
}

// ArchiveURL returns the URL of a gzipped tarball of the repository at
// loc.Ref, restricted to loc.Path where the provider can do that on the
// server:
//
//	GitHub           {api}/repos/{owner}/{repo}/tarball/{ref}       (redirects to the archive host)
//	GitLab           {api}/projects/{owner%2Frepo}/repository/archive.tar.gz?sha={ref}&path={path}
//	Bitbucket Cloud  {base}/{workspace}/{repo}/get/{ref}.tar.gz     (whole repository; needs a ref)
//	Bitbucket Server {api}/projects/{key}/repos/{repo}/archive?format=tgz&at={ref}&path={path}
//
// Empty parameters are left out (the default branch, the whole
// repository). Errors as for [Integration.FileAPIURL].
func (in *Integration) ArchiveURL(loc Location) (string, error) {
	if err := in.check(opArchive, loc); err != nil {
		return "", err
	}
	switch in.Kind {
	case BitbucketCloud:
		if loc.Ref == "" {
			return "", invalid(opArchive, in, "Bitbucket Cloud needs a ref; look up the repository's main branch first")
		}
		return in.BaseURL + "/" + url.PathEscape(loc.Owner) + "/" + url.PathEscape(loc.Repo) + "/get/" + url.PathEscape(loc.Ref) + ".tar.gz", nil
	}
	api, err := in.api(opArchive)
	if err != nil {
		return "", err
	}
	switch in.Kind {
	case GitHub:
		s := api + "/repos/" + url.PathEscape(loc.Owner) + "/" + url.PathEscape(loc.Repo) + "/tarball"
		if loc.Ref != "" {
			s += "/" + escapeSegments(loc.Ref)
		}
		return s, nil
	case GitLab:
		return api + "/projects/" + gitLabProject(loc) + "/repository/archive.tar.gz" + query("sha", loc.Ref, "path", loc.Path), nil
	case BitbucketServer:
		return api + "/projects/" + url.PathEscape(loc.Owner) + "/repos/" + url.PathEscape(loc.Repo) + "/archive" + query("format", "tgz", "at", loc.Ref, "path", loc.Path), nil
	}
	return "", invalid(opArchive, in, "unknown integration kind")
}
