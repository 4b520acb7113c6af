package identity

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/errcode"
)

// TypePlugin is the `typ` header of Backstage's plugin-to-plugin tokens.
const TypePlugin = "vnd.backstage.plugin"

// PluginJWKSPath is where a Backstage backend plugin publishes the keys of
// its plugin tokens, under its base URL.
const PluginJWKSPath = "/.backstage/auth/v1/jwks.json"

// pluginIDPattern is what Backstage accepts as a plugin id.
var pluginIDPattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// PluginVerifierOptions configure a [PluginVerifier].
type PluginVerifierOptions struct {
	// PluginID is the id of the plugin this verifier serves, e.g.
	// "permission": the `aud` every accepted token must carry.
	PluginID string
	// AllowedPlugins are the ids of the plugins whose tokens are
	// accepted, e.g. ["catalog", "scaffolder"]. A token from any other
	// plugin is refused before any request is made. Unlike Backstage,
	// which accepts any plugin it can discover, the list is required: a
	// plugin token without a user is a service principal, which
	// permission.Authorizer allows everything.
	AllowedPlugins []string
	// BaseURL returns the base URL of a plugin, as Backstage's discovery
	// getBaseUrl does, e.g. "http://backend:7007/api/catalog"; the
	// plugin's keys are read at that URL + [PluginJWKSPath]. It is called
	// once per plugin (until it succeeds). It must be http or https.
	BaseURL func(ctx context.Context, pluginID string) (string, error)
	// Users verifies user tokens: the bearer tokens of users that
	// [PluginVerifier.Authenticate] receives, and, through a verifier
	// with the same options that also accepts limited user tokens, the
	// `obo` claim of plugin tokens (the user a plugin acts for). Required.
	Users *Verifier
	// OwnershipRefs, when set, returns the ownership refs of the user a
	// plugin acts for (her obo token is a limited one, which carries
	// none), as Backstage's permission backend asks the auth backend's
	// user info; for example a closure over [OwnershipRefs] and the
	// catalog. Its error fails the verification: NotFound, Unavailable
	// and the context's codes are kept; any other (InvalidArgument for too
	// many refs, Conflict for a group cycle, Unauthorized or
	// PermissionDenied for the portal's own catalog credential, an error
	// without a code) is Unavailable, since it says nothing of the
	// caller's token. Nil leaves her ownership
	// refs her own ref only.
	OwnershipRefs func(ctx context.Context, userRef string) ([]string, error)
	// HTTPClient, Algorithms, Leeway, Now and RefetchInterval are used
	// for the plugins' keys as [VerifierOptions] describes them.
	// RefetchInterval also spaces the discoveries (BaseURL calls) of a
	// plugin whose discovery fails: until one succeeds, it is asked again
	// 1 s after a failure, then 2 s, 4 s, … up to RefetchInterval. A
	// plugin's keys have VerifierOptions' defaults for the rest: fetched
	// again when 10 minutes old (JWKSMaxAge), and no longer trusted 30
	// minutes after the last successful fetch (JWKSMaxStale): a plugin
	// whose JWKS cannot be read that long has its tokens refused as
	// Unavailable until it can.
	HTTPClient      *http.Client
	Algorithms      []string
	Leeway          time.Duration
	Now             func() time.Time
	RefetchInterval time.Duration
}

// PluginVerifier verifies Backstage plugin-to-plugin tokens, as a Backstage
// backend plugin sends them to another (for example to the permission
// backend's /authorize): header typ vnd.backstage.plugin, `sub` the
// calling plugin's id, `aud` this plugin's id, `iat` and `exp`, signed
// with a key the calling plugin publishes at its base URL +
// [PluginJWKSPath] (fetched on first use and again, once, for an unknown
// kid), and an optional `obo` claim: the limited user token of the user
// the plugin acts for, verified with the user tokens' keys. Its
// Authenticate also takes plain user tokens, so that one verifier serves
// both a Backstage frontend and its backend plugins. It is safe for
// concurrent use. The zero PluginVerifier is not usable; make one with
// [NewPluginVerifier].
type PluginVerifier struct {
	opts    PluginVerifierOptions
	obo     *Verifier // Users' options, accepting limited tokens
	allowed []string

	mu      sync.Mutex
	plugins map[string]*Verifier
	failed  map[string]discoveryFailure // plugins whose discovery failed, not yet succeeded
}

// discoveryFailure is when discovering a plugin last failed, and how many
// times in a row.
type discoveryFailure struct {
	at time.Time
	n  int
}

// wait is how long after the last failure a plugin's discovery may be
// tried again: 1 s, doubling with each failure, up to spacing. A plugin
// starting with the verifier's backend (a rolling deploy) is found soon
// after it is up, and tokens naming a plugin that stays down cost a
// discovery at most once per spacing.
func (f discoveryFailure) wait(spacing time.Duration) time.Duration {
	d := firstFetchRetry
	for i := 1; i < f.n && d < spacing; i++ {
		d *= 2
	}
	return min(d, spacing)
}

// PluginClaims are a verified plugin token's claims.
type PluginClaims struct {
	// Plugin is the calling plugin's id (`sub`).
	Plugin string
	// IssuedAt and ExpiresAt are the token's iat and exp.
	IssuedAt, ExpiresAt time.Time
	// User is the verified `obo` token's claims: the user the plugin acts
	// for (a limited user token: her ref, and no ownership refs unless
	// PluginVerifierOptions.OwnershipRefs gives them); nil when the plugin
	// acts as itself.
	User *Claims
}

// Principal returns the claims as a [Principal]: the service
// "plugin:<id>", acting for User when there is one.
func (c *PluginClaims) Principal() Principal {
	p := Principal{Service: "plugin:" + c.Plugin}
	if c.User != nil {
		p.User = c.User.User()
	}
	return p
}

// NewPluginVerifier returns a PluginVerifier. It returns InvalidArgument
// when PluginID or an allowed plugin is not a plugin id, when
// AllowedPlugins, BaseURL or Users is missing, or when an algorithm is
// not supported.
func NewPluginVerifier(opts *PluginVerifierOptions) (*PluginVerifier, error) {
	const op = "identity.NewPluginVerifier"
	if opts == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "options are required")
	}
	o := *opts
	switch {
	case !pluginIDPattern.MatchString(o.PluginID):
		return nil, errcode.Newf(errcode.InvalidArgument, op, "PluginID %q is not a plugin id", o.PluginID)
	case len(o.AllowedPlugins) == 0:
		return nil, errcode.New(errcode.InvalidArgument, op, "AllowedPlugins is empty: list the plugins whose tokens are accepted")
	case o.BaseURL == nil:
		return nil, errcode.New(errcode.InvalidArgument, op, "BaseURL is required")
	case o.Users == nil:
		return nil, errcode.New(errcode.InvalidArgument, op, "Users is required")
	}
	for _, id := range o.AllowedPlugins {
		if !pluginIDPattern.MatchString(id) {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "allowed plugin %q is not a plugin id", id)
		}
	}
	uo := o.Users.opts
	uo.AcceptLimited = true
	obo, err := NewVerifier(&uo)
	if err != nil {
		return nil, err
	}
	// The algorithms are checked now, not at the first token.
	if err := checkAlgorithms(op, o.Algorithms); err != nil {
		return nil, err
	}
	return &PluginVerifier{opts: o, obo: obo, allowed: slices.Clone(o.AllowedPlugins), plugins: map[string]*Verifier{}, failed: map[string]discoveryFailure{}}, nil
}

// Verify verifies a plugin token and, when it carries one, its `obo` user
// token. Every failure is an Unauthorized *errcode.Error saying what was
// wrong (never the token); keys that cannot be fetched are Unavailable.
func (pv *PluginVerifier) Verify(ctx context.Context, token string) (*PluginClaims, error) {
	const op = "identity.PluginVerifier.Verify"
	unauthorized := func(msg string) error { return errcode.New(errcode.Unauthorized, op, msg) }
	if len(token) > MaxTokenSize {
		return nil, unauthorized("token is larger than the size limit")
	}
	if headerType(token) != TypePlugin {
		return nil, unauthorized("not a plugin token (typ " + TypePlugin + ")")
	}
	// The claimed caller only chooses whose keys verify the token; the
	// signature, aud and sub are checked by that plugin's verifier.
	unverified := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, unverified); err != nil {
		return nil, unauthorized("malformed token")
	}
	caller, _ := unverified["sub"].(string)
	if !pluginIDPattern.MatchString(caller) {
		return nil, unauthorized("the token's sub is not a plugin id")
	}
	if !slices.Contains(pv.allowed, caller) {
		// The id is the token's claim, not yet verified; it matched
		// pluginIDPattern, so it is safe to show.
		return nil, unauthorized("the calling plugin " + strconv.Quote(caller) + " is not allowed: it is not in PluginVerifierOptions.AllowedPlugins")
	}
	v, err := pv.verifierOf(ctx, caller)
	if err != nil {
		return nil, err
	}
	c, err := v.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	out := &PluginClaims{Plugin: caller, IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt}
	obo, has := c.Extra["obo"]
	if !has {
		return out, nil
	}
	s, ok := obo.(string)
	if !ok || s == "" {
		return nil, unauthorized("obo must be a user token")
	}
	u, err := pv.obo.Verify(ctx, s)
	if err != nil {
		if errcode.CodeOf(err) == errcode.Unauthorized {
			return nil, &errcode.Error{Code: errcode.Unauthorized, Op: op, Msg: "the obo user token", Err: err}
		}
		return nil, err
	}
	if f := pv.opts.OwnershipRefs; f != nil && len(u.Ent) == 0 {
		refs, err := f(ctx, u.Subject)
		if err != nil {
			switch errcode.CodeOf(err) {
			case errcode.Canceled, errcode.DeadlineExceeded, errcode.Unavailable, errcode.NotFound:
				// The lookup failing, or a user the catalog does not know.
			default:
				// The catalog's data (too many refs, a group cycle) or an
				// unexpected error: not the caller's token, which a 401
				// would say is bad.
				err = &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "the ownership refs of " + u.Subject, Err: err}
			}
			return nil, err
		}
		for _, r := range refs {
			if !isEntityRef(r) {
				return nil, errcode.Newf(errcode.Unavailable, op, "the ownership refs of %s: %q is not an entity ref", u.Subject, r)
			}
		}
		u.Ent = slices.Clone(refs)
	}
	out.User = u
	if u.ExpiresAt.Before(out.ExpiresAt) {
		out.ExpiresAt = u.ExpiresAt
	}
	return out, nil
}

// verifierOf returns the verifier of a plugin's tokens, made on first use.
func (pv *PluginVerifier) verifierOf(ctx context.Context, plugin string) (*Verifier, error) {
	const op = "identity.PluginVerifier.Verify"
	now := time.Now
	if pv.opts.Now != nil {
		now = pv.opts.Now
	}
	spacing := pv.opts.RefetchInterval
	if spacing <= 0 {
		spacing = 30 * time.Second
	}
	pv.mu.Lock()
	v := pv.plugins[plugin]
	last, failed := pv.failed[plugin]
	pv.mu.Unlock()
	if v != nil {
		return v, nil
	}
	if wait := last.wait(spacing); failed && now().Sub(last.at) < wait {
		// As JWKS fetches are spaced: tokens naming a plugin whose
		// discovery fails must not each ask BaseURL again.
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "discovering plugin " + plugin + " failed moments ago", RetryAt: last.at.Add(wait)}
	}
	fail := func() {
		pv.mu.Lock()
		f := pv.failed[plugin]
		pv.failed[plugin] = discoveryFailure{at: now(), n: f.n + 1}
		pv.mu.Unlock()
	}
	base, err := pv.opts.BaseURL(ctx, plugin)
	if err != nil {
		if ctx.Err() == nil {
			fail()
		}
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "discovering plugin " + plugin, Err: err}
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fail()
		return nil, errcode.Newf(errcode.Unavailable, op, "the base URL of plugin %s is not an http(s) URL", plugin)
	}
	v, err = newVerifier(&VerifierOptions{JWKSURL: strings.TrimSuffix(base, "/") + PluginJWKSPath, HTTPClient: pv.opts.HTTPClient,
		Algorithms: pv.opts.Algorithms, Leeway: pv.opts.Leeway, Now: pv.opts.Now, RefetchInterval: pv.opts.RefetchInterval},
		&pluginRules{caller: plugin, aud: pv.opts.PluginID})
	if err != nil {
		return nil, err
	}
	pv.mu.Lock()
	defer pv.mu.Unlock()
	if have := pv.plugins[plugin]; have != nil {
		return have, nil
	}
	pv.plugins[plugin] = v
	delete(pv.failed, plugin)
	return v, nil
}

// Authenticate verifies the bearer token of r: a plugin token (see
// [PluginVerifier.Verify]) gives the service principal "plugin:<id>",
// acting for its obo user if any; any other token is verified as a user
// token by Users. It fits permission.Handler's who argument. A request
// without a bearer token, or with one that does not verify, gives an
// Unauthorized *errcode.Error.
func (pv *PluginVerifier) Authenticate(r *http.Request) (Principal, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Principal{}, errcode.New(errcode.Unauthorized, "identity.Authenticate", "no bearer token")
	}
	if headerType(token) != TypePlugin {
		return pv.opts.Users.Authenticate(r)
	}
	c, err := pv.Verify(r.Context(), token)
	if err != nil {
		return Principal{}, err
	}
	return c.Principal(), nil
}
