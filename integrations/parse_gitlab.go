package integrations

import (
	"net/url"
	"strings"
)

// parseGitLab parses GitLab project, file, tree and group URLs (see
// Registry.Parse). segs come after the integration's sub-path.
func parseGitLab(s segments, at string) (loc Location, n int, msg string) {
	const shape = "expected https://HOST/GROUP/PROJECT/-/blob/REF/PATH"
	d := s.dec
	if len(d) == 0 {
		return loc, 0, "the URL names no group or project; " + shape
	}
	dash := -1
	for i, seg := range d {
		if seg == "-" {
			dash = i
			break
		}
	}
	if dash >= 0 {
		if dash < 2 {
			return loc, 0, "unsupported GitLab URL: a project path has a namespace and a name; " + shape
		}
		if d[0] == "groups" {
			return loc, 0, "unsupported GitLab URL: \"groups\" is not a namespace; " + shape
		}
		if dash+1 >= len(d) {
			return loc, 0, "the URL has nothing after /-/; " + shape
		}
		return gitLabFile(s, d[:dash], dash+1, at, shape)
	}
	if d[0] == "groups" {
		if len(d) < 2 {
			return loc, 0, "the URL names no group; expected https://HOST/groups/GROUP"
		}
		return Location{Owner: strings.Join(d[1:], "/")}, len(d), ""
	}
	if len(d) == 1 {
		return Location{Owner: d[0]}, 1, ""
	}
	// Legacy /GROUP/PROJECT/(blob|tree)/REF/PATH: the project has at least
	// two segments, so the marker is at index 2 or later.
	for i := 2; i < len(d)-1; i++ {
		if d[i] == "blob" || d[i] == "tree" {
			return gitLabFile(s, d[:i], i, at, shape)
		}
	}
	repo := strings.TrimSuffix(d[len(d)-1], ".git")
	if repo == "" {
		return loc, 0, "the URL names no project; " + shape
	}
	return Location{Owner: strings.Join(d[:len(d)-1], "/"), Repo: repo, Tree: true}, len(d), ""
}

// gitLabFile parses the part of a GitLab URL from the blob/tree/raw/edit
// marker at index k, for the project path project.
func gitLabFile(s segments, project []string, k int, at, shape string) (loc Location, n int, msg string) {
	d := s.dec
	kind := d[k]
	switch kind {
	case "blob", "tree", "raw", "edit":
	default:
		return loc, 0, "unsupported GitLab URL /-/" + kind + "/; " + shape
	}
	rest := d[k+1:]
	if len(rest) == 0 {
		return loc, 0, "the URL has no ref after /" + kind + "/; " + shape
	}
	ref, j := pickRef(rest, at)
	loc = Location{
		Owner: strings.Join(project[:len(project)-1], "/"),
		Repo:  project[len(project)-1],
		Ref:   ref,
		Path:  strings.Join(rest[j:], "/"),
	}
	if loc.Path == "" && (kind == "raw" || kind == "edit") {
		return Location{}, 0, "a /-/" + kind + "/ URL needs a file path after the ref"
	}
	loc.Tree = kind == "tree" || s.trailing || loc.Path == ""
	return loc, k + 1 + j, ""
}

// gitLabURL builds the web URL of loc on base (which includes the
// sub-path).
func gitLabURL(base string, loc Location) (string, string) {
	owner := escapeSegments(loc.Owner)
	if loc.Repo == "" {
		if strings.Contains(loc.Owner, "/") || loc.Owner == "groups" {
			return base + "/groups/" + owner, ""
		}
		return base + "/" + owner, ""
	}
	if strings.HasPrefix(loc.Owner+"/", "groups/") {
		return "", "a project under a namespace named \"groups\" cannot be written as a GitLab URL"
	}
	projectURL := base + "/" + owner + "/" + url.PathEscape(loc.Repo)
	if loc.Ref == "" {
		if loc.Path == "" && gitLabLegacyShape(loc) {
			return "", "the project path " + quote(loc.Owner+"/"+loc.Repo) + " reads as a legacy /blob/ or /tree/ URL; give a ref"
		}
		return repoRootURL(projectURL, "GitLab", loc)
	}
	return blobOrTreeURL(projectURL+"/-/", loc), ""
}

// gitLabLegacyShape reports whether the repository-root URL of loc would
// be read back as a legacy /blob/ or /tree/ URL.
func gitLabLegacyShape(loc Location) bool {
	d := append(strings.Split(loc.Owner, "/"), loc.Repo)
	for i := 2; i < len(d)-1; i++ {
		if d[i] == "blob" || d[i] == "tree" {
			return true
		}
	}
	return false
}
