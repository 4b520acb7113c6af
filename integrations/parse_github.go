package integrations

import (
	"net/url"
	"strings"
)

// gitHubReserved are top-level GitHub paths that are pages, not owners.
var gitHubReserved = map[string]bool{
	"settings": true, "marketplace": true, "topics": true, "explore": true, "notifications": true,
	"login": true, "logout": true, "sponsors": true, "features": true, "enterprises": true,
	"organizations": true, "search": true, "new": true, "pulls": true, "issues": true,
	"codespaces": true, "collections": true, "trending": true, "orgs": true,
}

// parseGitHub parses /OWNER[/REPO[/(blob|tree|raw|edit)/REF[/PATH]]] and
// /orgs/OWNER. n is the number of segments up to the tree root.
func parseGitHub(s segments, at string) (loc Location, n int, msg string) {
	const shape = "expected https://HOST/OWNER/REPO/blob/REF/PATH"
	d := s.dec
	if len(d) == 0 {
		return loc, 0, "the URL names no owner; " + shape
	}
	if d[0] == "orgs" {
		if len(d) != 2 || gitHubReserved[d[1]] {
			return loc, 0, "unsupported GitHub organisation URL; expected https://HOST/orgs/OWNER"
		}
		return Location{Owner: d[1]}, 2, ""
	}
	if gitHubReserved[d[0]] {
		return loc, 0, quote(d[0]) + " is a GitHub page, not an owner; " + shape
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
	case "blob", "tree", "raw", "edit":
	default:
		return Location{}, 0, "unsupported GitHub URL /" + kind + "/; " + shape
	}
	rest := d[3:]
	if len(rest) == 0 {
		return Location{}, 0, "the URL has no ref after /" + kind + "/; " + shape
	}
	ref, k := pickRef(rest, at)
	loc.Ref = ref
	loc.Path = strings.Join(rest[k:], "/")
	if loc.Path == "" && (kind == "raw" || kind == "edit") {
		return Location{}, 0, "a /" + kind + "/ URL needs a file path after the ref"
	}
	loc.Tree = kind == "tree" || s.trailing || loc.Path == ""
	return loc, 3 + k, ""
}

// gitHubURL builds the web URL of loc on base.
func gitHubURL(base string, loc Location) (string, string) {
	if gitHubReserved[loc.Owner] {
		return "", quote(loc.Owner) + " is a GitHub page, not an owner"
	}
	if loc.Repo == "" {
		return base + "/" + url.PathEscape(loc.Owner), ""
	}
	repoURL := base + "/" + url.PathEscape(loc.Owner) + "/" + url.PathEscape(loc.Repo)
	if loc.Ref == "" {
		return repoRootURL(repoURL, "GitHub", loc)
	}
	return blobOrTreeURL(repoURL+"/", loc), ""
}
