package ldapauth

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// Config is one environment of the LDAP sign-in provider, as the
// Backstage community LDAP auth provider reads it from
// auth.providers.ldap.<env>; decode it with [DecodeConfig] (which
// reports whether the block is there), or with
// [github.com/scmkit/scmkit/config.Config.Decode] as the package example
// does.
//
// Keys beyond Backstage's (insecure, userFilter, groups, backoff,
// maxConnections) are scmkit's; a Backstage configuration loads unchanged,
// except that plain ldap:// without StartTLS and rejectUnauthorized: false
// are refused unless insecure is set.
type Config struct {
	// LDAPAuthenticationOptions is Backstage's ldapAuthenticationOptions.
	LDAPAuthenticationOptions AuthenticationOptions `json:"ldapAuthenticationOptions"`
	// Insecure allows plain LDAP and unverified certificates. A warning is
	// logged once when it takes effect.
	Insecure bool `json:"insecure,omitempty"`
	// UserFilter is an extra LDAP filter every user entry must match, e.g.
	// "(objectClass=person)" or "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"
	// for enabled Active Directory accounts. It is operator input and is
	// not escaped.
	UserFilter string `json:"userFilter,omitempty"`
	// EmailAttribute, DisplayNameAttribute: where the identity's e-mail
	// and display name come from. Defaults mail and displayName (then cn).
	EmailAttribute       string `json:"emailAttribute,omitempty"`
	DisplayNameAttribute string `json:"displayNameAttribute,omitempty"`
	// Groups configures how the user's groups are read after the bind.
	// Without it, they are the user entry's memberOf values.
	Groups *GroupsConfig `json:"groups,omitempty"`
	// Backoff slows down repeated failures; nil means the defaults.
	Backoff *BackoffConfig `json:"backoff,omitempty"`
	// MaxConnections bounds the connections to the directory, per pool
	// (one for searches under the service account, one for user binds).
	// Default 4.
	MaxConnections int `json:"maxConnections,omitempty"`
}

// Decoder reads configuration sections; *config.Config is one.
type Decoder interface {
	Decode(path string, out any) error
	Has(path string) bool
}

// DecodeConfig decodes auth.providers.ldap.<env> from d. ok is false when
// that block is absent.
func DecodeConfig(d Decoder, env string) (c Config, ok bool, err error) {
	path := "auth.providers.ldap." + env
	if d == nil || env == "" || !d.Has(path) {
		return Config{}, false, nil
	}
	if err := d.Decode(path, &c); err != nil {
		return Config{}, false, err
	}
	return c, true, nil
}

// AuthenticationOptions is Backstage's ldapAuthenticationOptions.
type AuthenticationOptions struct {
	// UserSearchBase is the DN under which users are searched (subtree).
	UserSearchBase string `json:"userSearchBase"`
	// UsernameAttribute is the attribute the username is matched against:
	// uid (the default), sAMAccountName or userPrincipalName on Active
	// Directory, mail.
	UsernameAttribute string `json:"usernameAttribute,omitempty"`
	// AdminDN and AdminPassword are the service account that searches. It
	// is required: binding with a DN built from the username (Backstage's
	// fallback without an admin account) is not offered.
	AdminDN       string              `json:"adminDn"`
	AdminPassword integrations.Secret `json:"adminPassword"`
	// StartTLS upgrades an ldap:// URL with StartTLS; it defaults to true.
	StartTLS *bool `json:"starttls,omitempty"`
	// LDAPOpts are ldapts' client options.
	LDAPOpts LDAPOpts `json:"ldapOpts"`
}

// LDAPOpts holds the ldapts client options Backstage passes through.
type LDAPOpts struct {
	// URL is the server, ldaps:// or ldap://. Backstage accepts a list and
	// uses only its first entry; so does this package.
	URL StringList `json:"url"`
	// TLSOptions are Node's TLS options: ca (PEM text, or a list),
	// rejectUnauthorized, servername.
	TLSOptions TLSOptions `json:"tlsOptions"`
	// Timeout bounds each operation, in milliseconds.
	Timeout int `json:"timeout,omitempty"`
	// ConnectTimeout bounds connecting, in milliseconds (default 5000).
	ConnectTimeout int `json:"connectTimeout,omitempty"`
}

// TLSOptions are the TLS options Backstage's configs carry (Node's names).
type TLSOptions struct {
	// CA is the PEM of the CA certificates to trust instead of the system
	// roots: the text, or a list of texts ($file: substitution reads a
	// file).
	CA StringList `json:"ca,omitempty"`
	// CAFile is a path to a PEM file of CA certificates (scmkit's).
	CAFile string `json:"caFile,omitempty"`
	// RejectUnauthorized false skips certificate verification; it needs
	// insecure.
	RejectUnauthorized *bool `json:"rejectUnauthorized,omitempty"`
	// ServerName overrides the name checked in the certificate.
	ServerName string `json:"servername,omitempty"`
	// Cert and Key are the client's certificate chain and private key
	// (PEM text), for directories that require mutual TLS.
	Cert string              `json:"cert,omitempty"`
	Key  integrations.Secret `json:"key,omitempty"`
}

// GroupsConfig says how to read a signed-in user's groups.
type GroupsConfig struct {
	// SearchBase, when set, finds groups with a subtree search for
	// entries whose MemberAttribute holds the user's DN; otherwise the
	// user entry's memberOf values are the groups.
	SearchBase string `json:"searchBase,omitempty"`
	// Filter restricts the groups, e.g. "(objectClass=groupOfNames)".
	Filter string `json:"filter,omitempty"`
	// MemberAttribute is the group attribute holding member DNs. Default
	// member.
	MemberAttribute string `json:"memberAttribute,omitempty"`
	// NameAttribute is the group attribute read as its name. Default cn.
	NameAttribute string `json:"nameAttribute,omitempty"`
	// InChain uses Active Directory's LDAP_MATCHING_RULE_IN_CHAIN
	// (1.2.840.113556.1.4.1941) to return nested groups too, in the same
	// single search. Needs SearchBase.
	InChain bool `json:"inChain,omitempty"`
}

// BackoffConfig slows down repeated failed sign-ins, per username and per
// client address. Attempts refused by the back-off never reach the
// directory, so they cannot lock the account there: keep FreeAttempts
// below the directory's own lockout threshold. The counts are kept in the
// process unless Options.Attempts shares them (redisstore.Store.
// LDAPAttempts): without it, behind a load balancer with N replicas a
// username gets up to N × FreeAttempts failures before a delay, so keep
// N × FreeAttempts below that threshold. Each browser the username signed
// in from before ([auth.Device]) has a count of its own, so a guesser
// cannot lock the user out of it; its failures, the owner's typos, reach
// the directory on top of the username's: with B such browsers in use at
// once, up to (B+1) × FreeAttempts before delays. A device counts for the
// usernames that fold to the one that signed in on it, as the directories
// scmkit knows compare them (case-insensitively); a directory whose
// usernames differ only by case would share a device between them.
type BackoffConfig struct {
	// FreeAttempts is how many consecutive failures a username may have
	// before its next attempt is delayed. Default 5.
	FreeAttempts int `json:"freeAttempts,omitempty"`
	// FreeAttemptsPerAddress is the same for one client address (which may
	// try many usernames). Default 20.
	FreeAttemptsPerAddress int `json:"freeAttemptsPerAddress,omitempty"`
	// InitialDelay is the first delay; each further failure doubles it.
	// Default "1s".
	InitialDelay Duration `json:"initialDelay,omitempty"`
	// MaxDelay caps the delay. Default "5m". A username or address with no
	// failure for twice MaxDelay starts afresh.
	MaxDelay Duration `json:"maxDelay,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("1s",
// "5m") or as milliseconds.
type Duration time.Duration

// UnmarshalJSON reads "1s" or 1000 (milliseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			return fmt.Errorf("invalid duration %q", s)
		}
		*d = Duration(v)
		return nil
	}
	var ms int64
	if err := json.Unmarshal(b, &ms); err != nil || ms < 0 {
		return fmt.Errorf("a duration must be a string like \"1s\" or milliseconds")
	}
	*d = Duration(time.Duration(ms) * time.Millisecond)
	return nil
}

// StringList is a string or a list of strings in configuration.
type StringList []string

// UnmarshalJSON accepts "x" or ["x", "y"].
func (l *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var ss []string
		if err := json.Unmarshal(b, &ss); err != nil {
			return fmt.Errorf("must be a string or a list of strings")
		}
		*l = ss
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a string or a list of strings")
	}
	*l = StringList{s}
	return nil
}

func (l StringList) first() string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

// validate checks c and fills its defaults in a copy.
func (c Config) validate() (Config, error) {
	const op = "ldapauth.New"
	a := &c.LDAPAuthenticationOptions
	var probs []string
	if c.LDAPAuthenticationOptions.LDAPOpts.URL.first() == "" {
		probs = append(probs, "ldapAuthenticationOptions.ldapOpts.url is required")
	}
	if a.UserSearchBase == "" {
		probs = append(probs, "ldapAuthenticationOptions.userSearchBase is required")
	}
	if a.AdminDN == "" || a.AdminPassword.IsZero() {
		probs = append(probs, "ldapAuthenticationOptions.adminDn and adminPassword are required (the user's DN is found by a search under this account)")
	}
	if a.UsernameAttribute == "" {
		a.UsernameAttribute = "uid"
	}
	if !validAttr(a.UsernameAttribute) {
		probs = append(probs, "ldapAuthenticationOptions.usernameAttribute must be an attribute name")
	}
	if c.EmailAttribute == "" {
		c.EmailAttribute = "mail"
	}
	if c.DisplayNameAttribute == "" {
		c.DisplayNameAttribute = "displayName"
	}
	if c.UserFilter != "" && !wrapped(c.UserFilter) {
		probs = append(probs, "userFilter must be a parenthesised LDAP filter")
	}
	if g := c.Groups; g != nil {
		gc := *g
		if gc.MemberAttribute == "" {
			gc.MemberAttribute = "member"
		}
		if gc.NameAttribute == "" {
			gc.NameAttribute = "cn"
		}
		if gc.InChain && gc.SearchBase == "" {
			probs = append(probs, "groups.inChain needs groups.searchBase")
		}
		if gc.Filter != "" && !wrapped(gc.Filter) {
			probs = append(probs, "groups.filter must be a parenthesised LDAP filter")
		}
		c.Groups = &gc
	}
	b := BackoffConfig{}
	if c.Backoff != nil {
		b = *c.Backoff
	}
	if b.FreeAttempts <= 0 {
		b.FreeAttempts = 5
	}
	if b.FreeAttemptsPerAddress <= 0 {
		b.FreeAttemptsPerAddress = 20
	}
	if b.InitialDelay <= 0 {
		b.InitialDelay = Duration(time.Second)
	}
	if b.MaxDelay <= 0 {
		b.MaxDelay = Duration(5 * time.Minute)
	}
	c.Backoff = &b
	if r := a.LDAPOpts.TLSOptions.RejectUnauthorized; r != nil && !*r && !c.Insecure {
		probs = append(probs, "ldapOpts.tlsOptions.rejectUnauthorized: false skips certificate verification; it needs insecure: true")
	}
	if len(probs) > 0 {
		return c, errcode.New(errcode.InvalidArgument, op, "auth.providers.ldap: "+strings.Join(probs, "; "))
	}
	return c, nil
}

// tlsConfig builds the client TLS configuration from tlsOptions.
func (t TLSOptions) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	var pems [][]byte
	for _, s := range t.CA {
		pems = append(pems, []byte(s))
	}
	if t.CAFile != "" {
		b, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tlsOptions.caFile: %w", err)
		}
		pems = append(pems, b)
	}
	if len(pems) > 0 {
		pool := x509.NewCertPool()
		for _, p := range pems {
			if !pool.AppendCertsFromPEM(p) {
				return nil, fmt.Errorf("tlsOptions.ca: no PEM certificate found")
			}
		}
		tc.RootCAs = pool
	}
	if t.Cert != "" || !t.Key.IsZero() {
		pair, err := tls.X509KeyPair([]byte(t.Cert), []byte(t.Key.Reveal()))
		if err != nil {
			return nil, fmt.Errorf("tlsOptions.cert/key: not a matching PEM certificate and key")
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

func validAttr(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ';') {
			return false
		}
	}
	return true
}

func wrapped(f string) bool { return strings.HasPrefix(f, "(") && strings.HasSuffix(f, ")") }
