package integrations

import (
	"net/url"
	"strconv"
	"strings"
)

const (
	opResolve = "integrations.ResolveURL"
	opEdit    = "integrations.EditURL"
)

// ResolveURL resolves rel against base, as Backstage's resolveUrl does:
//
//   - an absolute rel (one with a scheme) is returned unchanged;
//   - a rel starting with "/" is resolved against the repository root at
//     base's ref (for https://github.com/o/r/blob/main/docs/a.md that is
//     https://github.com/o/r/blob/main), and never leaves base's host;
//   - any other rel is resolved against base with RFC 3986 rules, so the
//     last segment of base is a file unless base ends in "/";
//   - base's query string is copied to the result (so a Bitbucket Server
//     ?at=ref is kept), replacing any query of rel;
//   - line > 0 sets the fragment to the provider's line anchor: "L<n>" for
//     GitHub and GitLab (and hosts without an integration), "lines-<n>" for
//     Bitbucket Cloud, "<n>" for Bitbucket Server;
//   - on GitHub, a /blob/, /tree/ or /edit/ segment after OWNER/REPO becomes
//     /tree/ (GitHub redirects a tree URL of a file to its blob URL).
//
// When base's host has no integration, ResolveURL falls back to plain URL
// resolution ("/x" is then relative to the host's root). The error is
// InvalidArgument for a base that is not an absolute URL, a rel that is not
// a valid URL reference, or, for a rel starting with "/", a base that
// [Registry.Parse] refuses.
func (r *Registry) ResolveURL(base, rel string, line int) (string, error) {
	if ru, err := url.Parse(rel); err == nil && ru.Scheme != "" {
		return rel, nil
	}
	bu, err := url.Parse(base)
	if err != nil || bu.Scheme == "" || bu.Host == "" || bu.Opaque != "" {
		return "", invalid(opResolve, nil, "the base URL is not an absolute URL")
	}
	in, _ := r.ByHost(asciiHost(bu.Host))
	var out *url.URL
	if strings.HasPrefix(rel, "/") {
		root := ""
		if in != nil {
			p, err := r.parseURL(bu)
			if err != nil {
				return "", err
			}
			root = p.root
		}
		relPath, frag, _ := strings.Cut(rel, "#")
		relPath, _, _ = strings.Cut(relPath, "?")
		out, err = url.Parse(bu.Scheme + "://" + bu.Host + root + relPath)
		if err != nil || out.Host != bu.Host {
			return "", invalid(opResolve, in, "the relative URL is not a valid path")
		}
		if frag != "" {
			out.Fragment, out.RawFragment = "", ""
			if f, err := url.PathUnescape(frag); err == nil {
				out.Fragment = f
			}
		}
		out.User = bu.User
	} else {
		ru, err := url.Parse(rel)
		if err != nil {
			return "", invalid(opResolve, in, "the relative URL is not a valid URL reference")
		}
		out = bu.ResolveReference(ru)
	}
	out.RawQuery, out.ForceQuery = bu.RawQuery, bu.ForceQuery
	if line > 0 {
		out.RawFragment = ""
		out.Fragment = "L" + strconv.Itoa(line)
		if in != nil {
			switch in.Kind {
			case BitbucketCloud:
				out.Fragment = "lines-" + strconv.Itoa(line)
			case BitbucketServer:
				out.Fragment = strconv.Itoa(line)
			}
		}
	}
	if in != nil && in.Kind == GitHub {
		replaceGitHubType(out, "tree")
	}
	// As a WHATWG URL writes it (Go would percent-encode a Unicode host).
	out.Host = asciiHost(out.Host)
	return out.String(), nil
}

// replaceGitHubType rewrites /OWNER/REPO/(blob|tree|edit)/... to use typ,
// like Backstage's replaceGithubUrlType. It reports whether it did.
func replaceGitHubType(u *url.URL, typ string) bool {
	segs := strings.Split(u.EscapedPath(), "/")
	if len(segs) < 5 || segs[0] != "" || segs[1] == "" || segs[2] == "" {
		return false
	}
	switch segs[3] {
	case "blob", "tree", "edit":
	default:
		return false
	}
	segs[3] = typ
	return setEscapedPath(u, strings.Join(segs, "/"))
}

func setEscapedPath(u *url.URL, ep string) bool {
	p, err := url.PathUnescape(ep)
	if err != nil {
		return false
	}
	u.Path, u.RawPath = p, ep
	return true
}

// EditURL returns the URL of the page that edits the file at u, as
// Backstage's resolveEditUrl does: GitHub /blob/ or /tree/ becomes /edit/;
// GitLab /-/blob/ or /-/tree/ becomes /-/edit/; Bitbucket Cloud gets
// ?mode=edit&at=REF (existing query parameters are kept); Bitbucket Server,
// which has no edit deep link, loses its query. A URL whose host has no
// integration, or that has none of these shapes, is returned unchanged.
// The error is InvalidArgument for a u that is not a valid URL, or a
// Bitbucket Cloud URL that [Registry.Parse] refuses.
func (r *Registry) EditURL(u string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return "", invalid(opEdit, nil, "not a valid URL")
	}
	in, ok := r.ByHost(asciiHost(pu.Host))
	if pu.Host == "" || !ok {
		return u, nil
	}
	pu.Host = asciiHost(pu.Host) // as a WHATWG URL writes it
	switch in.Kind {
	case GitHub:
		if replaceGitHubType(pu, "edit") {
			return pu.String(), nil
		}
	case GitLab:
		ep := pu.EscapedPath()
		i := firstIndex(ep, "/-/blob/", "/-/tree/", "/-/edit/")
		if i >= 0 && setEscapedPath(pu, ep[:i]+"/-/edit/"+ep[i+len("/-/blob/"):]) {
			return pu.String(), nil
		}
	case BitbucketCloud:
		p, err := r.parseURL(pu)
		if err != nil {
			return "", err
		}
		q := setQueryParam(pu.RawQuery, "mode", "edit")
		if p.loc.Ref != "" {
			q = setQueryParam(q, "at", p.loc.Ref)
		}
		pu.RawQuery = q
		return pu.String(), nil
	case BitbucketServer:
		if i := strings.IndexByte(u, '?'); i >= 0 {
			return u[:i], nil
		}
	}
	return u, nil
}

// firstIndex returns the smallest index of any of subs in s, or -1. All
// subs must have the same length.
func firstIndex(s string, subs ...string) int {
	best := -1
	for _, sub := range subs {
		if i := strings.Index(s, sub); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

// setQueryParam sets key to value in a raw query the way URLSearchParams.set
// does: the first pair named key gets the value and later ones are removed;
// if there is none, the pair is appended. Other pairs keep their order and
// encoding.
func setQueryParam(rawQuery, key, value string) string {
	pair := url.QueryEscape(key) + "=" + url.QueryEscape(value)
	var out []string
	done := false
	if rawQuery != "" {
		for _, kv := range strings.Split(rawQuery, "&") {
			k, _, _ := strings.Cut(kv, "=")
			if dk, err := url.QueryUnescape(k); err == nil && dk == key {
				if !done {
					out = append(out, pair)
					done = true
				}
				continue
			}
			out = append(out, kv)
		}
	}
	if !done {
		out = append(out, pair)
	}
	return strings.Join(out, "&")
}
