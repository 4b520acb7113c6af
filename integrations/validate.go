package integrations

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/internal/errcode"
)

// NewRegistry validates cfg, applies Backstage's defaults and appends the
// implicit entries for github.com, gitlab.com and bitbucket.org where they
// are not configured (bitbucket.org only when cfg.BitbucketCloud is empty,
// as in Backstage).
//
// It reports every problem at once: the error is an *errcode.Error with
// code InvalidArgument whose Err joins one *[FieldError] per problem, in
// config order; use [FieldErrors] to list them. Messages name the config
// path and say how to fix it; they never contain a secret. Deprecated but
// accepted settings (a Bitbucket Cloud app password) are reported by
// [Registry.Warnings].
//
// cfg is not modified and not retained: the registry holds copies.
func NewRegistry(cfg Config) (*Registry, error) {
	v := &validator{hosts: map[string]string{}}
	var list []*Integration

	for i, c := range cfg.GitHub {
		if in := v.github(i, c); in != nil {
			list = append(list, in)
		}
	}
	if !v.taken(GitHubHost) {
		list = append(list, defaultGitHub())
	}
	for i, c := range cfg.GitLab {
		if in := v.gitlab(i, c); in != nil {
			list = append(list, in)
		}
	}
	if !v.taken(GitLabHost) {
		list = append(list, defaultGitLab())
	}
	for i, c := range cfg.BitbucketCloud {
		if in := v.bitbucketCloud(i, c); in != nil {
			list = append(list, in)
		}
	}
	if len(cfg.BitbucketCloud) == 0 && !v.taken(BitbucketCloudHost) {
		list = append(list, defaultBitbucketCloud())
	}
	for i, c := range cfg.BitbucketServer {
		if in := v.bitbucketServer(i, c); in != nil {
			list = append(list, in)
		}
	}
	allow, rules := v.readingAllow(cfg.ReadingAllow)

	if len(v.errs) > 0 {
		n := len(v.errs)
		msg := "1 problem in the integrations configuration"
		if n > 1 {
			msg = strconv.Itoa(n) + " problems in the integrations configuration"
		}
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: "integrations.NewRegistry", Msg: msg,
			Err: joinFieldErrors(v.errs)}
	}
	return &Registry{list: list, allow: allow, rules: rules, warnings: v.warns}, nil
}

// validator collects problems and warnings while NewRegistry walks cfg.
type validator struct {
	errs  []*FieldError
	warns []string
	// hosts maps each claimed host (normalised) to the path of the entry
	// that claimed it first.
	hosts map[string]string
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) warn(path, msg string) { v.warns = append(v.warns, path+": "+msg) }

func (v *validator) taken(host string) bool { _, ok := v.hosts[host]; return ok }

// host validates an entry's host, claims it for entry and returns it
// normalised. ok is false if the host is invalid.
func (v *validator) host(entry, host string) (norm string, ok bool) {
	path := entry + ".host"
	if p := hostProblem(host); p != "" {
		v.add(path, "%s is not a valid host: %s", quote(host), p)
		return "", false
	}
	norm = NormalizeHost(host)
	if first, dup := v.hosts[norm]; dup {
		v.add(path, "host %s is already configured at %s; merge the two entries (use credentials: for several tokens on one host)", quote(norm), first)
		return norm, true
	}
	v.hosts[norm] = entry
	return norm, true
}

// baseURL validates an optional absolute http(s) URL and returns it
// right-trimmed of "/". ok is false if it is set and invalid.
func (v *validator) baseURL(path, key, raw string) (trimmed string, u *url.URL, ok bool) {
	trimmed = strings.TrimRight(strings.TrimSpace(raw), "/")
	if raw == "" {
		return "", nil, true
	}
	shown := quote(trimmed)
	if strings.Contains(trimmed, "@") {
		shown = "(value not shown)"
	}
	u, err := url.Parse(trimmed)
	switch {
	case trimmed == "":
		v.add(path, "%s is empty; remove it or set an absolute URL such as https://host/path", key)
	case err != nil:
		v.add(path, "%s %s is not a valid URL; it must be an absolute URL such as https://host/path", key, shown)
	case u.Scheme != "https" && u.Scheme != "http":
		v.add(path, "%s %s must start with https:// (or http://)", key, shown)
	case u.Host == "" || u.Hostname() == "":
		v.add(path, "%s %s has no host", key, shown)
	case u.User != nil:
		v.add(path, "%s must not contain a user name or password %s; put the credential in token", key, shown)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		v.add(path, "%s %s must not have a query or fragment", key, shown)
	case u.Port() != "" && portProblem(u.Port()) != "":
		v.add(path, "%s %s: %s", key, shown, portProblem(u.Port()))
	case hasDotSegment(u.EscapedPath()):
		v.add(path, "%s %s must not contain . or .. path segments", key, shown)
	default:
		return trimmed, u, true
	}
	return "", nil, false
}

// webBase returns the web base URL of host: https://host, or with the
// scheme of api when api is on the same host (a plain-http test server).
func webBase(host string, api *url.URL) string {
	if api != nil && NormalizeHost(api.Host) == host {
		return api.Scheme + "://" + host
	}
	return "https://" + host
}

func trimSecret(s Secret) Secret { return NewSecret(strings.TrimSpace(s.Reveal())) }

// scoped validates and copies an entry's scoped credentials. Every
// credential needs owners and a token (Bitbucket Server also accepts
// username and password); an owner may be claimed by one credential only.
func (v *validator) scoped(entry string, kind Kind, creds []ScopedCredential) []ScopedCredential {
	if len(creds) == 0 {
		return nil
	}
	out := make([]ScopedCredential, len(creds))
	owners := map[string]string{}
	for j, c := range creds {
		path := fmt.Sprintf("%s.credentials[%d]", entry, j)
		c.Token = trimSecret(c.Token)
		c.Username = strings.TrimSpace(c.Username)
		c.Owners = append([]string(nil), c.Owners...)
		if len(c.Owners) == 0 {
			v.add(path+".owners", "a scoped credential needs at least one owner (%s); without owners, use the entry's own token instead", ownerWord(kind))
		}
		for k, o := range c.Owners {
			o = strings.TrimSpace(o)
			c.Owners[k] = o
			key := strings.ToLower(strings.Trim(o, "/"))
			opath := fmt.Sprintf("%s.owners[%d]", path, k)
			switch {
			case key == "":
				v.add(opath, "owner is empty")
			case owners[key] != "":
				v.add(opath, "owner %s is already claimed by %s; an owner may appear in one credential only", quote(o), owners[key])
			default:
				owners[key] = path
			}
		}
		switch kind {
		case BitbucketServer:
			switch {
			case !c.Token.IsZero():
			case c.Username != "" && !c.Password.IsZero():
			case c.Username != "":
				v.add(path+".password", "username is set but password is not; set password, or a token instead")
			default:
				v.add(path+".token", "a scoped credential needs a token (or username and password)")
			}
		case BitbucketCloud:
			if c.Token.IsZero() {
				v.add(path+".token", "a scoped credential needs a token (an access token, or an API token with username)")
			}
			if !c.Password.IsZero() {
				v.add(path+".password", "password is not used by Bitbucket Cloud; put an API token in token and the Atlassian account email in username")
			}
		default:
			if c.Token.IsZero() {
				v.add(path+".token", "a scoped credential needs a token")
			}
			if c.Username != "" || !c.Password.IsZero() {
				v.add(path, "username and password are only used by Bitbucket; remove them")
			}
		}
		out[j] = c
	}
	return out
}

func ownerWord(k Kind) string {
	switch k {
	case GitHub:
		return "GitHub organisations or users"
	case GitLab:
		return "GitLab groups or users"
	case BitbucketCloud:
		return "Bitbucket workspaces"
	default:
		return "Bitbucket project keys, or ~user"
	}
}

func quote(s string) string { return strconv.Quote(s) }
