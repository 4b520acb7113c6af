package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/duration"
	"github.com/scmkit/scmkit/internal/redact"
)

// Config is Backstage's auth: section, decoded as is by
// config.Config.Decode("auth", &c): a Backstage app-config's auth section
// loads unchanged. Build a Handler from it with [Config.NewHandler].
type Config struct {
	// Environment is auth.environment.
	Environment string `json:"environment"`
	// Session is auth.session.
	Session SessionConfig `json:"session"`
	// ExperimentalExtraAllowedOrigins are further allowed origins (globs).
	ExperimentalExtraAllowedOrigins []string `json:"experimentalExtraAllowedOrigins"`
	// Providers is auth.providers: provider id → environment → its
	// configuration, kept raw until [Config.Provider] decodes one (other
	// providers, such as guest or ldap, have other keys).
	Providers map[string]map[string]json.RawMessage `json:"providers"`

	// unset names the environment variables left unset at a config path
	// of the section (see SetUnsetVariables); nil: none known.
	unset func(path string) []string
}

// SetUnsetVariables is called by config.Config.Decode after decoding the
// section into c, with a function that names the environment variables
// (never their values) that a config path of the section used and that
// were not set. [Config.NewHandler] then names them in its errors (an
// empty auth.session.secret, say) and warnings. Other decoders need not
// call it.
func (c *Config) SetUnsetVariables(unset func(path string) []string) { c.unset = unset }

// unsetAt returns the unset variables at, inside or around path.
func (c *Config) unsetAt(path string) []string {
	if c.unset == nil {
		return nil
	}
	return c.unset(path)
}

// SessionConfig is auth.session.
type SessionConfig struct {
	// Secret is auth.session.secret.
	Secret integrations.Secret `json:"secret"`
	// PreviousSecrets is auth.session.previousSecrets, scmkit's key (not
	// Backstage's): the secrets used before Secret, newest first, which
	// only open what was sealed under them, for a rotation (see
	// [Options].PreviousSecrets). At most 4.
	PreviousSecrets []integrations.Secret `json:"previousSecrets"`
}

// ProviderConfig is auth.providers.<id>.<env> of an OAuth provider.
type ProviderConfig struct {
	ClientID     string              `json:"clientId"`
	ClientSecret integrations.Secret `json:"clientSecret"`
	// CallbackURL is the redirect URI registered at the provider; default
	// <BaseURL>/<id>/handler/frame. It must lead to the Handler's
	// callback route (through a proxy, say).
	CallbackURL string `json:"callbackUrl"`
	// AdditionalScopes: a string split on spaces, commas or '|', or a list.
	AdditionalScopes Scopes `json:"additionalScopes"`
	// SessionDuration is how long a session from this provider lasts
	// ("12h", "7d", {days: 7}); default Options.SessionDuration.
	SessionDuration json.RawMessage `json:"sessionDuration"`
	// EnterpriseInstanceURL (github) is a GitHub Enterprise Server URL.
	EnterpriseInstanceURL string `json:"enterpriseInstanceUrl"`
	// Audience is the GitLab base URL (gitlab) or the Okta
	// organisation's URL (okta).
	Audience string `json:"audience"`
	// AuthServerID and IDP (okta): a custom authorization server's id,
	// and the identity provider to send users to.
	AuthServerID string `json:"authServerId"`
	IDP          string `json:"idp"`
	// TenantID and DomainHint (microsoft), and AllowedTenants
	// (microsoft; scmkit's extension: see MicrosoftOptions.AllowedTenants).
	TenantID       string   `json:"tenantId"`
	DomainHint     string   `json:"domainHint"`
	AllowedTenants []string `json:"allowedTenants"`
	// MetadataURL, Prompt, TokenEndpointAuthMethod and
	// TokenSignedResponseAlg (oidc).
	MetadataURL             string `json:"metadataUrl"`
	Prompt                  string `json:"prompt"`
	TokenEndpointAuthMethod string `json:"tokenEndpointAuthMethod"`
	TokenSignedResponseAlg  string `json:"tokenSignedResponseAlg"`
	// BaseURL and APIBaseURL (bitbucket; scmkit's extension, for
	// tests) override bitbucket.org and api.bitbucket.org/2.0;
	// AuthorityURL (microsoft; scmkit's extension) overrides
	// login.microsoftonline.com.
	BaseURL      string `json:"baseUrl"`
	APIBaseURL   string `json:"apiBaseUrl"`
	AuthorityURL string `json:"authorityUrl"`
	// SignIn is kept for the sign-in resolvers.
	SignIn SignInConfig `json:"signIn"`
}

// SignInConfig is the signIn block of a provider.
type SignInConfig struct {
	// Resolvers are the sign-in resolvers in order, each a map with a
	// "resolver" name and its options.
	Resolvers []map[string]any `json:"resolvers"`
}

// Scopes decodes Backstage's additionalScopes: a string split on spaces,
// commas or '|', or a list of strings.
type Scopes []string

// UnmarshalJSON accepts a string or a list of strings.
func (s *Scopes) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = strings.FieldsFunc(one, func(r rune) bool { return r == ' ' || r == ',' || r == '|' })
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("additionalScopes must be a string or a list of strings")
	}
	*s = list
	return nil
}

// String describes the configuration without any secret: its
// environment and the providers configured, e.g.
// "auth.Config(environment production, providers github.production, oidc.production)".
func (c Config) String() string {
	var ids []string
	for id, envs := range c.Providers {
		for env := range envs {
			ids = append(ids, id+"."+env)
		}
	}
	slices.Sort(ids)
	return "auth.Config(environment " + strconv.Quote(c.Environment) + ", providers " + strings.Join(ids, ", ") + ")"
}

// Format prints String under every verb: the providers' options are kept
// as they were read (Providers), client secrets included.
func (c Config) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String(), c.String()) }

// LogValue shows the configuration in log/slog output without any
// secret.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON writes the configuration with every secret redacted: the
// session secrets, and each provider's options as [ProviderConfig] reads
// them (clientSecret redacted; options it does not read are left out, a
// provider whose options do not decode shows as null).
func (c Config) MarshalJSON() ([]byte, error) {
	providers := map[string]map[string]*ProviderConfig{}
	for id, envs := range c.Providers {
		providers[id] = map[string]*ProviderConfig{}
		for env := range envs {
			pc, _, err := c.Provider(id, env)
			if err != nil {
				providers[id][env] = nil
				continue
			}
			providers[id][env] = &pc
		}
	}
	return json.Marshal(struct {
		Environment                     string                                `json:"environment"`
		Session                         SessionConfig                         `json:"session"`
		ExperimentalExtraAllowedOrigins []string                              `json:"experimentalExtraAllowedOrigins"`
		Providers                       map[string]map[string]*ProviderConfig `json:"providers"`
	}{c.Environment, c.Session, c.ExperimentalExtraAllowedOrigins, providers})
}

// Provider decodes auth.providers.<id>.<env>. ok is false when it is not
// configured.
func (c *Config) Provider(id, env string) (pc ProviderConfig, ok bool, err error) {
	raw, ok := c.Providers[id][env]
	if !ok {
		return pc, false, nil
	}
	if err := json.Unmarshal(raw, &pc); err != nil {
		return pc, true, &errcode.Error{Code: errcode.InvalidArgument, Op: "auth.Config", Err: &integrations.FieldError{Path: "auth.providers." + id + "." + env, Msg: typeMsg(err)}}
	}
	return pc, true, nil
}

// typeMsg describes a decoding error without any value.
func typeMsg(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must be a %s", te.Field, te.Type.Kind())
	}
	return oneLine(err.Error())
}

// SupportedProviders returns the provider ids [Config.NewHandler] builds.
func SupportedProviders() []string { return slices.Clone(supportedProviders) }

var supportedProviders = []string{"github", "gitlab", "bitbucket", "microsoft", "google", "okta", "oidc"}

// NewHandler builds a Handler from the auth section and opts (which must
// at least give BaseURL; nil fields of opts are taken from the section:
// Secret from auth.session.secret, PreviousSecrets from
// auth.session.previousSecrets, Environment from auth.environment,
// AllowedOrigins from auth.experimentalExtraAllowedOrigins). It registers
// the supported providers (github, gitlab, bitbucket, microsoft, google,
// okta, oidc) of
// the environment it serves: auth.environment (Options.Environment) only,
// as a Backstage backend, or every configured environment when that is
// empty or with Options.ServeAllEnvironments. The environments not served
// and the other providers are skipped and named in the returned warnings,
// so that their own packages (LDAP) can register them with
// [Handler.Register]. Every problem is reported at once, each with its
// config path.
func (c *Config) NewHandler(opts *Options) (*Handler, []string, error) {
	const op = "auth.Config.NewHandler"
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Secret.IsZero() {
		o.Secret = c.Session.Secret
	}
	if len(o.PreviousSecrets) == 0 {
		o.PreviousSecrets = c.Session.PreviousSecrets
	}
	if o.Environment == "" {
		o.Environment = c.Environment
	}
	o.AllowedOrigins = append(slices.Clone(o.AllowedOrigins), c.ExperimentalExtraAllowedOrigins...)
	if o.Secret.IsZero() {
		msg := "is required to sign users in (it is empty: if it is a ${VAR}, the variable is unset or config.Options has no Lookup)"
		if names := c.unsetAt("auth.session.secret"); len(names) > 0 {
			msg = "is required to sign users in (it is empty: the environment does not set " + strings.Join(names, ", ") + ")"
		}
		return nil, nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Err: &integrations.FieldError{Path: "auth.session.secret", Msg: msg}}
	}
	h, err := New(&o)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	if names := c.unsetAt("auth"); len(names) > 0 {
		warnings = append(warnings, "auth: the environment does not set "+strings.Join(names, ", ")+"; the values that use these variables are left unset")
	}
	var problems []string
	for _, id := range slices.Sorted(maps.Keys(c.Providers)) {
		if !slices.Contains(supportedProviders, id) {
			warnings = append(warnings, "auth.providers."+id+": not a provider scmkit builds from configuration; skipped (register it with Handler.Register)")
			continue
		}
		for _, env := range slices.Sorted(maps.Keys(c.Providers[id])) {
			path := "auth.providers." + id + "." + env
			if !h.serves(env) {
				warnings = append(warnings, path+": not served: this backend serves auth.environment "+strconv.Quote(o.Environment)+
					" only (set Options.ServeAllEnvironments to serve every environment)")
				continue
			}
			pc, _, err := c.Provider(id, env)
			if err != nil {
				problems = append(problems, errMsg(err))
				continue
			}
			if id == "oidc" && hasKey(c.Providers[id][env], "scope") {
				// Backstage refuses it too: silently ignored, the scopes
				// it names (groups, say) would never be asked for.
				problems = append(problems, path+".scope: is no longer supported (as in Backstage): use additionalScopes")
				continue
			}
			warnings = append(warnings, providerWarnings(path, id, c.Providers[id][env], &pc)...)
			p, err := buildProvider(id, pc, &o)
			if err != nil {
				msg := path + ": " + publicMessage(err)
				if names := c.unsetAt(path); len(names) > 0 {
					msg += " (the environment does not set " + strings.Join(names, ", ") + ")"
				}
				problems = append(problems, msg)
				continue
			}
			if err := h.Register(id, env, p); err != nil {
				problems = append(problems, path+": "+publicMessage(err))
				continue
			}
			if pc.CallbackURL != "" {
				cu, err := parseBase(op, "callbackUrl", pc.CallbackURL)
				if err != nil {
					problems = append(problems, path+".callbackUrl: must be an absolute http(s) URL")
					continue
				}
				if h.secure && cu.Scheme == "http" && !isLoopback(cu.Hostname()) {
					problems = append(problems, path+".callbackUrl: is plain http while the backend is https: the provider would send "+
						"the authorization code and state in clear; use https:// (plain http is allowed only on localhost)")
					continue
				}
				h.setCallback(id, env, pc.CallbackURL)
			}
			if len(pc.SessionDuration) > 0 && string(pc.SessionDuration) != "null" {
				d, err := parseHumanDuration(pc.SessionDuration)
				if err != nil {
					problems = append(problems, path+".sessionDuration: "+err.Error())
					continue
				}
				h.setDuration(id, env, d)
			}
		}
	}
	if len(problems) > 0 {
		return nil, warnings, errcode.Newf(errcode.InvalidArgument, op, "%d problem(s) in auth.providers: %s", len(problems), strings.Join(problems, "; "))
	}
	return h, warnings, nil
}

// hasKey reports whether raw is a JSON object with key.
// providerKeys are the keys of a provider's block that ProviderConfig
// reads.
var providerKeys = func() map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeFor[ProviderConfig]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}()

// providerKeyFold returns the key of providerKeys that k spells in
// another case, if any.
func providerKeyFold(k string) (string, bool) {
	for known := range providerKeys {
		if strings.EqualFold(known, k) {
			return known, true
		}
	}
	return "", false
}

// emailResolvers are the sign-in resolvers that match a verified e-mail.
var emailResolvers = []string{"emailMatchingUserEntityProfileEmail", "emailLocalPartMatchingUserEntityName", "emailMatchingUserEntityAnnotation"}

// providerWarnings are the warnings about the block raw of provider id at
// path: keys scmkit does not read (a typo, or a Backstage key it has no
// use for), and an e-mail resolver on GitHub without the scope that gives
// a verified e-mail (every sign-in would be refused).
func providerWarnings(path, id string, raw json.RawMessage, pc *ProviderConfig) []string {
	var out []string
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if providerKeys[k] || (id == "oidc" && k == "scope") {
			continue
		}
		if known, ok := providerKeyFold(k); ok {
			// JSON decoding matches keys case-insensitively: scmkit reads
			// it, Backstage (whose keys are case-sensitive) would not.
			if _, both := m[known]; both {
				out = append(out, path+"."+k+": "+known+" is set too; scmkit reads whichever of the two comes last, Backstage only "+known+": remove "+k)
				continue
			}
			out = append(out, path+"."+k+": read as "+known+", which is how Backstage spells it (its keys are case-sensitive, so it would ignore this one)")
			continue
		}
		out = append(out, path+"."+k+": not a key scmkit reads for "+id+"; ignored (a typo?)")
	}
	if id == "github" && !slices.ContainsFunc([]string(pc.AdditionalScopes), func(s string) bool { return s == "user:email" || s == "user" }) {
		for _, r := range pc.SignIn.Resolvers {
			if name, _ := r["resolver"].(string); slices.Contains(emailResolvers, name) {
				out = append(out, path+".signIn: "+name+" matches only an e-mail address GitHub verifies, which it gives only with the "+
					"user:email scope: add user:email to "+path+".additionalScopes (a GitHub App ignores scopes: give it the "+
					"Email addresses account permission instead), or every sign-in is refused")
				break
			}
		}
	}
	return out
}

func hasKey(raw json.RawMessage, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

func errMsg(err error) string {
	if e, ok := err.(*errcode.Error); ok && e.Err != nil {
		return e.Err.Error()
	}
	return publicMessage(err)
}

func buildProvider(id string, pc ProviderConfig, o *Options) (Provider, error) {
	if len(pc.AllowedTenants) > 0 && id != "microsoft" {
		return nil, errcode.New(errcode.InvalidArgument, "auth.Config", "allowedTenants applies to the microsoft provider only")
	}
	if pc.ClientID == "" || pc.ClientSecret.IsZero() {
		// As Backstage requires both: an unset ${VAR} would otherwise
		// make a public client that fails at every sign-in (GitHub and
		// GitLab ones serve the device flow only, which a Handler does
		// not offer). Programs that want a public client build it with
		// the New functions.
		return nil, errcode.New(errcode.InvalidArgument, "auth.Config", "clientId and clientSecret are required")
	}
	switch id {
	case "github":
		return NewGitHub(GitHubOptions{ClientID: pc.ClientID, ClientSecret: pc.ClientSecret, EnterpriseInstanceURL: pc.EnterpriseInstanceURL,
			Scopes: pc.AdditionalScopes, HTTPClient: o.HTTPClient, Now: o.Now})
	case "gitlab":
		return NewGitLab(GitLabOptions{ClientID: pc.ClientID, ClientSecret: pc.ClientSecret, BaseURL: pc.Audience,
			Scopes: pc.AdditionalScopes, HTTPClient: o.HTTPClient, Now: o.Now})
	case "bitbucket":
		return NewBitbucket(BitbucketOptions{ClientID: pc.ClientID, ClientSecret: pc.ClientSecret, BaseURL: pc.BaseURL, APIBaseURL: pc.APIBaseURL,
			Scopes: pc.AdditionalScopes, HTTPClient: o.HTTPClient, Now: o.Now})
	case "microsoft":
		return NewMicrosoft(MicrosoftOptions{ClientID: pc.ClientID, ClientSecret: pc.ClientSecret, TenantID: pc.TenantID, DomainHint: pc.DomainHint, AllowedTenants: pc.AllowedTenants,
			AuthorityURL: pc.AuthorityURL, Scopes: pc.AdditionalScopes, HTTPClient: o.HTTPClient, Now: o.Now})
	case "google":
		return NewGoogle(GoogleOptions{ClientID: pc.ClientID, ClientSecret: pc.ClientSecret, Scopes: pc.AdditionalScopes, HTTPClient: o.HTTPClient, Now: o.Now})
	case "okta":
		return NewOkta(OktaOptions{ClientID: pc.ClientID, ClientSecret: pc.ClientSecret, Audience: pc.Audience, AuthServerID: pc.AuthServerID, IDP: pc.IDP,
			Scopes: pc.AdditionalScopes, HTTPClient: o.HTTPClient, Now: o.Now})
	case "oidc":
		if pc.MetadataURL == "" {
			return nil, errcode.New(errcode.InvalidArgument, "auth.NewOIDC", "metadataUrl is required")
		}
		return NewOIDC(OIDCOptions{ClientID: pc.ClientID, ClientSecret: pc.ClientSecret, MetadataURL: pc.MetadataURL, Scopes: pc.AdditionalScopes,
			Prompt: pc.Prompt, TokenEndpointAuthMethod: pc.TokenEndpointAuthMethod, TokenSignedResponseAlg: pc.TokenSignedResponseAlg,
			HTTPClient: o.HTTPClient, Now: o.Now})
	}
	return nil, errcode.Newf(errcode.InvalidArgument, "auth.Config", "unsupported provider %q", id)
}

// ParseHumanDuration parses Backstage's duration forms (its
// readDurationFromConfig): a string in the `ms` library's format ("7d",
// "2 days", "1.5h", "30 minutes"; a plain number is refused, as Backstage
// refuses it), an ISO
// 8601 duration ("P7D", "PT1M", "P2DT6H"), a Go duration ("1h30m"), or an
// object with years, months, weeks, days, hours, minutes, seconds and
// milliseconds. A value it does not understand, or one that is not
// positive, is an InvalidArgument *errcode.Error.
func ParseHumanDuration(raw json.RawMessage) (time.Duration, error) {
	d, err := duration.Parse(raw)
	if err != nil {
		return 0, &errcode.Error{Code: errcode.InvalidArgument, Op: "auth.ParseHumanDuration", Msg: err.Error()}
	}
	return d, nil
}

// parseHumanDuration is ParseHumanDuration with a plain error, for a
// message that names the config path.
func parseHumanDuration(raw json.RawMessage) (time.Duration, error) { return duration.Parse(raw) }
