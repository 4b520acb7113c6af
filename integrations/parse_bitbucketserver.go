package integrations

import (
	"net/url"
	"strings"
)

// parseBitbucketServer parses /projects/KEY[/repos/REPO[/(browse|raw)[/PATH]]]
// and the same under /users/USER; the ref is the "at" query parameter.
// segs come after the context path.
func parseBitbucketServer(s segments, at string) (loc Location, n int, msg string) {
	const shape = "expected https://HOST/projects/KEY/repos/REPO/browse/PATH?at=REF"
	d := s.dec
	if len(d) < 2 || d[0] != "projects" && d[0] != "users" {
		return loc, 0, "unsupported Bitbucket Server URL; " + shape
	}
	loc.Owner = d[1]
	if d[0] == "users" {
		// /users/jdoe is the web URL; the API names the same personal
		// project ~jdoe. A URL written /users/~jdoe means that user too,
		// not a project "~~jdoe".
		loc.Owner = "~" + strings.TrimPrefix(d[1], "~")
	}
	if loc.Owner == "~" {
		return Location{}, 0, "the URL names no user; " + shape
	}
	if len(d) == 2 {
		return loc, 2, ""
	}
	if d[2] != "repos" || len(d) < 4 {
		return Location{}, 0, "unsupported Bitbucket Server URL; " + shape
	}
	loc.Repo, loc.Ref = d[3], at
	if len(d) == 4 {
		loc.Tree = true
		return loc, 4, ""
	}
	kind := d[4]
	switch kind {
	case "browse", "raw":
	default:
		return Location{}, 0, "unsupported Bitbucket Server URL /" + kind + "/; " + shape
	}
	loc.Path = strings.Join(d[5:], "/")
	if loc.Path == "" && kind == "raw" {
		return Location{}, 0, "a /raw/ URL needs a file path; " + shape
	}
	loc.Tree = s.trailing || loc.Path == ""
	return loc, 5, ""
}

// bitbucketServerURL builds the web URL of loc on base (which includes the
// context path).
func bitbucketServerURL(base string, loc Location) (string, string) {
	owner := "/projects/" + url.PathEscape(loc.Owner)
	if u, ok := strings.CutPrefix(loc.Owner, "~"); ok {
		if u == "" {
			return "", "owner \"~\" names no user"
		}
		owner = "/users/" + url.PathEscape(u)
	}
	if loc.Repo == "" {
		return base + owner, ""
	}
	s := base + owner + "/repos/" + url.PathEscape(loc.Repo) + "/browse"
	if loc.Path != "" {
		s += "/" + escapeSegments(loc.Path)
		if loc.Tree {
			s += "/"
		}
	}
	if loc.Ref != "" {
		s += "?at=" + url.QueryEscape(loc.Ref)
	}
	return s, ""
}
