package integrations

import (
	"net/url"
	"strings"
)

// parseBitbucketCloud parses /WORKSPACE[/REPO[/(src|raw)[/REF[/PATH]]]].
func parseBitbucketCloud(s segments, at string) (loc Location, n int, msg string) {
	const shape = "expected https://HOST/WORKSPACE/REPO/src/REF/PATH"
	d := s.dec
	if len(d) == 0 {
		return loc, 0, "the URL names no workspace; " + shape
	}
	loc.Owner = d[0]
	if len(d) == 1 {
		return loc, 1, ""
	}
	if len(d) == 2 {
		return parseRepoRoot(d[0], d[1], shape)
	}
	loc.Repo = d[1]
	kind := d[2]
	switch kind {
	case "src", "raw":
	default:
		return Location{}, 0, "unsupported Bitbucket Cloud URL /" + kind + "/; " + shape
	}
	rest := d[3:]
	if len(rest) == 0 {
		if kind == "raw" {
			return Location{}, 0, "a /raw/ URL needs a ref and a file path; " + shape
		}
		loc.Tree = true
		return loc, 3, ""
	}
	ref, k := pickRef(rest, at)
	loc.Ref = ref
	loc.Path = strings.Join(rest[k:], "/")
	if loc.Path == "" && kind == "raw" {
		return Location{}, 0, "a /raw/ URL needs a file path after the ref"
	}
	loc.Tree = s.trailing || loc.Path == ""
	return loc, 3 + k, ""
}

// bitbucketCloudURL builds the web URL of loc on base.
func bitbucketCloudURL(base string, loc Location) (string, string) {
	if loc.Repo == "" {
		return base + "/" + url.PathEscape(loc.Owner), ""
	}
	repoURL := base + "/" + url.PathEscape(loc.Owner) + "/" + url.PathEscape(loc.Repo)
	if loc.Ref == "" {
		return repoRootURL(repoURL, "Bitbucket Cloud", loc)
	}
	s := repoURL + "/src/" + escapeSegments(loc.Ref) + "/"
	if loc.Path != "" {
		s += escapeSegments(loc.Path)
		if loc.Tree {
			s += "/"
		}
	}
	return s + atQuery(loc.Ref), ""
}
