package integrations

import (
	"net/url"
	"strings"
)

const (
	opParse = "integrations.Parse"
	opURL   = "integrations.URL"
)

// parsed is a parsed URL with what ResolveURL needs besides the Location.
type parsed struct {
	in  *Integration
	u   *url.URL
	loc Location
	// root is the escaped URL path of the tree root at the URL's ref (the
	// URL path minus the file path), without a trailing slash.
	root string
}

// Parse says what rawURL points at. The URL must be an absolute http or
// https URL, without user info, on the host of an integration; its path
// must have one of these shapes (after the GitLab sub-path or Bitbucket
// Server context path of the integration's BaseURL):
//
//	GitHub           /OWNER[/REPO[/(blob|tree|raw|edit)/REF[/PATH]]]
//	                 /orgs/OWNER
//	GitLab           /GROUP[/SUBGROUP...]/PROJECT[/-/(blob|tree|raw|edit)/REF[/PATH]]
//	                 /GROUP/.../PROJECT/(blob|tree)/REF[/PATH] (legacy, project at least 2 deep)
//	                 /GROUP and /groups/GROUP/SUBGROUP (owner only)
//	Bitbucket Cloud  /WORKSPACE[/REPO[/(src|raw)[/REF[/PATH]]]]
//	Bitbucket Server /projects/KEY[/repos/REPO[/(browse|raw)[/PATH]]][?at=REF]
//	                 /users/USER[/repos/REPO[/...]] (Owner "~USER")
//
// A URL with an owner only gives a Location with Owner only. A repository
// root, a /tree/ URL, a URL without a path after the ref and a path ending
// in "/" give Tree true. A ".git" suffix on a repository-root URL is
// dropped.
//
// Refs containing "/": a web URL such as /blob/feature/x/README.md is
// ambiguous. Parse takes the first segment after blob, tree, raw, edit or
// src as the ref, unless the query parameter "at" names a ref whose
// segments begin the rest of the path: /blob/feature/x/README.md?at=feature/x
// is ref "feature/x", path "README.md". [Registry.URL] writes such an "at"
// for every ref that contains "/". Bitbucket Server always takes the ref
// from "at".
//
// Parse refuses, with an InvalidArgument error: a host with no integration
// (the message says to add one), any "." or ".." segment in the path or
// ref, however often percent-encoded and in any case (%2e%2e, %252E%252e),
// control characters, empty segments, an encoded '/' inside a segment,
// GitLab URLs outside the integration's sub-path, and paths of any other
// shape. It never panics.
func (r *Registry) Parse(rawURL string) (Location, error) {
	p, err := r.parse(rawURL)
	return p.loc, err
}

func (r *Registry) parse(rawURL string) (parsed, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return parsed{}, urlError(opParse, err)
	}
	return r.parseURL(u)
}

// urlError is the error of op for a URL that url.Parse refused with err.
func urlError(op string, err error) error {
	msg := "not a valid URL"
	if ue, ok := err.(*url.Error); ok {
		msg += ": " + ue.Err.Error()
	}
	return invalid(op, nil, msg)
}

func (r *Registry) parseURL(u *url.URL) (parsed, error) {
	return r.parseIn(opParse, u, r.hostOf(u))
}

// hostOf returns the integration of u's host, or nil.
func (r *Registry) hostOf(u *url.URL) *Integration {
	if u.Host == "" {
		return nil
	}
	in, _ := r.ByHost(asciiHost(u.Host))
	return in
}

// parseIn is parseURL for op with in, the integration of u's host (nil:
// none), already found.
func (r *Registry) parseIn(op string, u *url.URL, in *Integration) (parsed, error) {
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return parsed{}, invalid(op, nil, "not an http or https URL")
	case u.Opaque != "" || u.Host == "":
		return parsed{}, invalid(op, nil, "not an absolute URL with a host")
	case u.User != nil:
		return parsed{}, invalid(op, nil, "the URL carries a user name or password; remove it and configure the credential in the integration instead")
	}
	if in == nil {
		return parsed{}, r.errNoIntegration(op, urlHost(u.Host))
	}
	if in.Disabled != nil {
		return parsed{}, disabledError(op, in)
	}
	segs, msg := splitPath(u.EscapedPath())
	if msg != "" {
		return parsed{}, invalid(op, in, msg)
	}
	baseRaw := ""
	if in.Kind == GitLab || in.Kind == BitbucketServer {
		var k int
		if baseRaw, k, msg = stripBasePath(in, segs); msg != "" {
			return parsed{}, invalid(op, in, msg)
		}
		segs = segments{raw: segs.raw[k:], dec: segs.dec[k:], trailing: segs.trailing}
	}
	at := u.Query().Get("at")
	if msg := refProblem(at); msg != "" {
		return parsed{}, invalid(op, in, "query parameter at: "+msg)
	}
	var (
		loc Location
		n   int
	)
	switch in.Kind {
	case GitHub:
		loc, n, msg = parseGitHub(segs, at)
	case GitLab:
		loc, n, msg = parseGitLab(segs, at)
	case BitbucketCloud:
		loc, n, msg = parseBitbucketCloud(segs, at)
	case BitbucketServer:
		loc, n, msg = parseBitbucketServer(segs, at)
	default:
		msg = "unknown integration kind " + quote(string(in.Kind))
	}
	if msg == "" {
		// Refuse what URL would refuse, so that every parsed Location can
		// be written back.
		msg = locProblem(in.Kind, loc)
	}
	if msg != "" {
		return parsed{}, invalid(op, in, msg)
	}
	loc.Kind, loc.Host = in.Kind, in.Host
	root := baseRaw
	if n > 0 {
		root += "/" + strings.Join(segs.raw[:n], "/")
	}
	return parsed{in: in, u: u, loc: loc, root: root}, nil
}

// stripBasePath removes the path of the integration's BaseURL (a GitLab
// sub-path, a Bitbucket Server context path) from segs. It returns that
// prefix as escaped in the URL and how many segments it had.
func stripBasePath(in *Integration, segs segments) (string, int, string) {
	bu, err := url.Parse(in.BaseURL)
	if err != nil {
		return "", 0, "the integration's base URL is not valid"
	}
	bp := strings.Trim(bu.Path, "/")
	if bp == "" {
		return "", 0, ""
	}
	want := strings.Split(bp, "/")
	if len(segs.dec) < len(want) {
		return "", 0, "the URL path must start with /" + bp + "/, the path of " + in.ConfigPath + " baseUrl " + in.BaseURL
	}
	for i, w := range want {
		if segs.dec[i] != w {
			return "", 0, "the URL path must start with /" + bp + "/, the path of " + in.ConfigPath + " baseUrl " + in.BaseURL
		}
	}
	return "/" + strings.Join(segs.raw[:len(want)], "/"), len(want), ""
}

// URL returns the canonical web URL of loc: a blob (file) or tree
// (directory) URL at loc.Ref, the repository root when loc has neither ref
// nor path, or the owner's page when loc has no repository. For every
// Location returned by [Registry.Parse], Parse(URL(loc)) returns loc again.
// A ref containing "/" is written with an "at" query parameter (see
// Parse). URL fails with InvalidArgument if loc's host has no integration of
// loc's kind, if loc lacks an owner, if a file path is given without a ref
// where the provider's URLs need one, or if any part of loc is unsafe.
func (r *Registry) URL(loc Location) (string, error) {
	in, ok := r.ByHost(loc.Host)
	if !ok {
		return "", r.errNoIntegration(opURL, NormalizeHost(loc.Host))
	}
	if in.Disabled != nil {
		return "", disabledError(opURL, in)
	}
	if loc.Kind != "" && loc.Kind != in.Kind {
		return "", invalid(opURL, in, "the Location is of kind "+quote(string(loc.Kind))+" but "+in.ConfigPath+" is "+quote(string(in.Kind)))
	}
	if msg := locProblem(in.Kind, loc); msg != "" {
		return "", invalid(opURL, in, msg)
	}
	var (
		s   string
		msg string
	)
	switch in.Kind {
	case GitHub:
		s, msg = gitHubURL(in.BaseURL, loc)
	case GitLab:
		s, msg = gitLabURL(in.BaseURL, loc)
	case BitbucketCloud:
		s, msg = bitbucketCloudURL(in.BaseURL, loc)
	case BitbucketServer:
		s, msg = bitbucketServerURL(in.BaseURL, loc)
	default:
		msg = "unknown integration kind " + quote(string(in.Kind))
	}
	if msg != "" {
		return "", invalid(opURL, in, msg)
	}
	return s, nil
}

// parseRepoRoot returns the Location of a repository-root URL,
// /OWNER/REPO with an optional ".git" (GitHub, Bitbucket Cloud): the
// repository's tree at its default branch, 2 segments long.
func parseRepoRoot(owner, repo, shape string) (loc Location, n int, msg string) {
	repo = strings.TrimSuffix(repo, ".git")
	if repo == "" {
		return Location{}, 0, "the URL names no repository; " + shape
	}
	return Location{Owner: owner, Repo: repo, Tree: true}, 2, ""
}

// repoRootURL returns repoURL, the web URL of loc's repository, for a
// Location without a ref, which cannot name a path. A repository whose
// name ends in ".git" gets a second one, since Parse drops one from a
// repository-root URL. provider names the URLs in the message.
func repoRootURL(repoURL, provider string, loc Location) (string, string) {
	if loc.Path != "" {
		return "", "a " + provider + " URL for a path needs a ref; set Location.Ref (a branch, tag or commit)"
	}
	if strings.HasSuffix(loc.Repo, ".git") {
		repoURL += ".git"
	}
	return repoURL, ""
}

// blobOrTreeURL returns the GitHub-shaped web URL of loc at its ref,
// below prefix (the repository's URL and "/", on GitLab "/-/"): blob for
// a file, tree for a directory or the root, then the ref and the path,
// and the ref once more in an "at" parameter when it contains "/".
func blobOrTreeURL(prefix string, loc Location) string {
	kind := "blob"
	if loc.Tree || loc.Path == "" {
		kind = "tree"
	}
	s := prefix + kind + "/" + escapeSegments(loc.Ref)
	if loc.Path != "" {
		s += "/" + escapeSegments(loc.Path)
	}
	return s + atQuery(loc.Ref)
}

// locProblem checks that loc's parts are safe to put in a URL.
func locProblem(kind Kind, loc Location) string {
	if loc.Owner == "" {
		return "the Location has no owner"
	}
	if kind == GitLab {
		if p := pathProblem(loc.Owner); p != "" {
			return "owner " + quote(loc.Owner) + " " + p
		}
		if strings.Contains(loc.Owner, "\\") {
			return "owner " + quote(loc.Owner) + " must not contain \\"
		}
		for _, seg := range strings.Split(loc.Owner, "/") {
			if seg == "-" {
				return "owner " + quote(loc.Owner) + " has a segment \"-\", which GitLab does not allow"
			}
		}
	} else if msg := nameProblem(loc.Owner); msg != "" {
		return "owner " + msg
	} else if kind == BitbucketServer && strings.HasPrefix(loc.Owner, "~~") {
		return "owner " + quote(loc.Owner) + ": a Bitbucket Server user's personal project is ~USER, with one ~"
	}
	if loc.Repo != "" {
		if msg := nameProblem(loc.Repo); msg != "" {
			return "repository " + msg
		}
		if kind == GitLab && loc.Repo == "-" {
			return "repository \"-\" is not allowed by GitLab"
		}
	} else if loc.Ref != "" || loc.Path != "" {
		return "the Location has a ref or path but no repository"
	}
	if msg := refProblem(loc.Ref); msg != "" {
		return msg
	}
	if msg := pathProblem(loc.Path); msg != "" {
		return "path " + msg
	}
	return ""
}

// nameProblem checks a single-segment name (owner, repository).
func nameProblem(s string) string {
	switch {
	case s == "":
		return "is empty"
	case strings.ContainsAny(s, "/\\"):
		return quote(s) + " must not contain / or \\"
	case hasControl(fullyDecode(s)):
		return quote(s) + " contains a control character"
	case hasDotSegment(s):
		return quote(s) + " must not be . or .."
	}
	return ""
}
