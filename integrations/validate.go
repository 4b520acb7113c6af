package integrations

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/redact"
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
// A value that Backstage accepts at start-up but that cannot work (an
// apiBaseUrl of GitHub or Bitbucket that is not an http(s) URL, a GitHub
// Enterprise entry with neither apiBaseUrl nor rawBaseUrl) does not fail
// NewRegistry: the entry is kept with [Integration.Disabled] set, so that
// one bad entry does not stop a deployment that Backstage would start, and
// a warning names it.
//
// cfg is not modified and not retained: the registry holds copies.
func NewRegistry(cfg Config) (*Registry, error) { return NewRegistryWith(cfg, nil) }

// RegistryOptions configures [NewRegistryWith]. The zero value (or nil)
// behaves as [NewRegistry].
type RegistryOptions struct {
	// Warn, if set, receives each warning (path is its config path, msg
	// the text without the path) instead of [Registry.Warnings].
	Warn func(path, msg string)
}

// NewRegistryWith is [NewRegistry] with options.
func NewRegistryWith(cfg Config, opts *RegistryOptions) (*Registry, error) {
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
	unsupported := v.unsupported(cfg.Unsupported)

	if len(v.errs) > 0 {
		n := len(v.errs)
		msg := "1 problem in the integrations configuration"
		if n > 1 {
			msg = strconv.Itoa(n) + " problems in the integrations configuration"
		}
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: "integrations.NewRegistry", Msg: msg,
			Err: joinFieldErrors(v.errs)}
	}
	reg := &Registry{list: list, allow: allow, rules: rules, unsupported: unsupported}
	v.sharedHosts(reg)
	for _, w := range v.warns {
		if opts != nil && opts.Warn != nil {
			opts.Warn(w.path, w.msg)
		} else {
			reg.warnings = append(reg.warnings, w.path+": "+w.msg)
		}
	}
	return reg, nil
}

// sharedHosts warns about an entry's API or raw host that belongs to
// another entry (its web host, or an earlier entry's API host): a
// credential goes only to its own entry's hosts ([Registry.Owning]), so
// this entry's credentials would never be sent there, and its calls would
// fail as if the credential were refused (two host names for one GitHub
// Enterprise during a rename; a copied apiBaseUrl).
func (v *validator) sharedHosts(reg *Registry) {
	for _, in := range reg.list {
		if in.Disabled != nil {
			continue // already warned about
		}
		for _, b := range []struct{ key, base string }{{"apiBaseUrl", in.APIBaseURL}, {"rawBaseUrl", in.RawBaseURL}} {
			u, err := url.Parse(b.base)
			if b.base == "" || err != nil || u.Host == "" {
				continue
			}
			host := NormalizeHost(u.Host)
			other, ok := reg.Owning(host)
			if !ok || other == in {
				continue
			}
			if in.GitHub != nil && in.ConfigPath == defaultGitHub().ConfigPath {
				// The implied github.com entry: the configured entry that
				// took its API host is the one to fix.
				v.warn(other.ConfigPath, fmt.Sprintf("its API or raw host %s is github.com's, so github.com's credentials (users' tokens from a github.com "+
					"sign-in) are never sent to it; give this entry its own API host (an apiBaseUrl copied from github.com's?)", host))
				continue
			}
			v.warn(in.ConfigPath+"."+b.key, fmt.Sprintf("host %s is also %s's, and credentials go there only for %s, so %s's are never sent "+
				"and its calls there go without them; give each entry its own API host (is one of them an apiBaseUrl copied from another entry?)",
				host, other.ConfigPath, other.ConfigPath, in.ConfigPath))
		}
	}
}

// unsupported copies the entries of unsupported sections, normalising
// their hosts; entries without a valid host are kept without one.
func (v *validator) unsupported(entries []UnsupportedEntry) []UnsupportedEntry {
	if len(entries) == 0 {
		return nil
	}
	out := make([]UnsupportedEntry, 0, len(entries))
	for _, e := range entries {
		if e.Host = NormalizeHost(strings.TrimSpace(e.Host)); hostProblem(e.Host) != "" {
			e.Host = ""
		}
		out = append(out, e)
	}
	return out
}

// validator collects problems and warnings while NewRegistry walks cfg.
type validator struct {
	errs  []*FieldError
	warns []warning
	// hosts maps each claimed host (normalised) to the path of the entry
	// that claimed it first.
	hosts map[string]string
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// warning is one warning of NewRegistry.
type warning struct{ path, msg string }

func (v *validator) warn(path, msg string) { v.warns = append(v.warns, warning{path, msg}) }

// disable returns the error that disables the entry at entry because of
// the problem msg at path, and warns about it.
func (v *validator) disable(entry, path, msg string) error {
	v.warn(path, msg+"; Backstage starts with this entry, so it is loaded, but every call through "+entry+" fails until it is fixed")
	return &errcode.Error{Code: errcode.InvalidArgument, Op: "integrations.NewRegistry", Msg: path + ": " + msg}
}

// disabledError is the error of an operation op through a disabled
// integration.
func disabledError(op string, in *Integration) error {
	msg := in.Disabled.Error()
	var e *errcode.Error
	if errors.As(in.Disabled, &e) {
		msg = e.Msg
	}
	return invalid(op, in, in.ConfigPath+" is disabled: "+msg)
}

func (v *validator) taken(host string) bool { _, ok := v.hosts[host]; return ok }

// host validates an entry's host, claims it for entry and returns it
// normalised. An empty host is the provider's public host def; where the
// provider has none (def is ""), it is required, and example shows one in
// the message. ok is false if the host is missing or invalid.
func (v *validator) host(entry, host, def, example string) (norm string, ok bool) {
	path := entry + ".host"
	switch {
	case host != "":
	case def != "":
		host = def
	default:
		v.add(path, "host is required, e.g. %s", example)
		return "", false
	}
	if p := hostProblem(host); p != "" {
		v.add(path, "%s is not a valid host: %s", quoteHost(host), p)
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

// lenientURL checks an optional URL that Backstage reads as a plain string,
// starting with any value: a bad one disables the entry instead of failing
// the configuration, and the first bad key of an entry sets *disabled. It
// returns the URL as urlProblem does.
func (v *validator) lenientURL(entry, key, raw string, disabled *error) (trimmed string, u *url.URL) {
	trimmed, u, msg := urlProblem(key, raw)
	if msg != "" && *disabled == nil {
		*disabled = v.disable(entry, entry+"."+key, msg)
	}
	return trimmed, u
}

// urlProblem checks an optional absolute http(s) URL. It returns the URL
// right-trimmed of "/", or a message saying what is wrong. The message
// shows the value only when it is recognisably a URL without user
// information (so never a token put in the wrong key).
func urlProblem(key, raw string) (trimmed string, u *url.URL, msg string) {
	trimmed = strings.TrimRight(strings.TrimSpace(raw), "/")
	if raw == "" {
		return "", nil, ""
	}
	u, err := url.Parse(trimmed)
	shown := "(value not shown)"
	if err == nil && u.Host != "" && u.User == nil && (u.Scheme == "https" || u.Scheme == "http") {
		// Without query and fragment, which may hold a token
		// (?private_token=, #access_token=).
		shown = quote(redact.URL(trimmed))
	}
	switch {
	case trimmed == "":
		return "", nil, key + " is empty; remove it or set an absolute URL such as https://host/path"
	case err != nil || u.Scheme == "" || u.Opaque != "":
		return "", nil, key + " is not a valid URL; it must be an absolute URL such as https://host/path"
	case u.Scheme != "https" && u.Scheme != "http":
		return "", nil, key + " must start with https:// (or http://)"
	case u.Host == "" || u.Hostname() == "":
		return "", nil, key + " has no host; it must be an absolute URL such as https://host/path"
	case u.User != nil:
		return "", nil, key + " must not contain a user name or password; put the credential in token"
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", nil, key + " " + shown + " must not have a query or fragment"
	case u.Port() != "" && portProblem(u.Port()) != "":
		return "", nil, key + " " + shown + ": " + portProblem(u.Port())
	case hasDotSegment(u.EscapedPath()):
		return "", nil, key + " " + shown + " must not contain . or .. path segments"
	}
	return trimmed, u, ""
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

// quoteHost quotes a host value that failed validation, without what may
// be a credential pasted into it: user information ("user:token@host")
// and a query or fragment.
func quoteHost(h string) string {
	if i := strings.LastIndexByte(h, '@'); i >= 0 {
		h = "…@" + h[i+1:]
	}
	if i := strings.IndexAny(h, "?#"); i >= 0 {
		h = h[:i] + "…"
	}
	return quote(h)
}
