package ldaporg

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/internal/orgx"
)

// Config is one provider of catalog.providers.ldapOrg.<id>, with
// Backstage's keys; decode the whole block with [DecodeConfig], which sets
// each provider's ID (as githuborg, gitlaborg and msgraph do), or with
// config's Decode into a map keyed by the ids (ID is then left empty):
//
//	var providers map[string]ldaporg.Config
//	err := cfg.Decode("catalog.providers.ldapOrg", &providers)
//
// insecure and starttls are scmkit's: plain ldap:// is upgraded with
// StartTLS unless starttls is false, which, like tls.rejectUnauthorized
// false, needs insecure.
type Config struct {
	// ID is the provider's key under catalog.providers.ldapOrg, set by
	// [DecodeConfig].
	ID string `json:"-"`
	// Schedule is the block's schedule key (frequency, timeout,
	// initialDelay, scope), nil when absent; org.Run reads with it.
	Schedule *org.Schedule `json:"schedule"`
	// Target is the directory URL, ldaps:// or ldap://.
	Target string `json:"target"`
	// Bind is the account to search as; absent means anonymous.
	Bind *BindConfig `json:"bind,omitempty"`
	// TLS holds the TLS options.
	TLS *TLSConfig `json:"tls,omitempty"`
	// Users and Groups say where and how to read users and groups. Each is
	// one block or a list of blocks, as in Backstage.
	Users  SearchList[UserMap]  `json:"users"`
	Groups SearchList[GroupMap] `json:"groups"`
	// Vendor overrides the attributes holding each entry's DN and UUID.
	Vendor *VendorConfig `json:"vendor,omitempty"`
	// StartTLS upgrades an ldap:// target (default true).
	StartTLS *bool `json:"starttls,omitempty"`
	// Insecure allows plain LDAP and unverified certificates; a warning
	// is logged once.
	Insecure bool `json:"insecure,omitempty"`

	// Warnings, set by DecodeConfig, name the keys of the block that
	// scmkit does not read, each with its path: a typo (users[0].map.nmae),
	// a key in another case than Backstage's, or a Backstage key scmkit
	// does not support. Show them to the operator; New does not look at
	// them.
	Warnings []string `json:"-"`
}

// ConfigPath is where the providers are configured.
const ConfigPath = "catalog.providers.ldapOrg"

// DecodeConfig decodes every provider under catalog.providers.ldapOrg
// (a map of id to [Config]) from d, a *config.Config, in id order. A
// missing block is no error and no providers. Keys it does not read are
// named in each provider's Warnings (schedule, the scheduler's, is not).
func DecodeConfig(d org.Decoder) ([]Config, error) {
	cs, err := orgx.DecodeMap(d, ConfigPath, func(c *Config, id string) { c.ID = id })
	if err != nil || len(cs) == 0 {
		return cs, err
	}
	var raw map[string]json.RawMessage
	if err := d.Decode(ConfigPath, &raw); err != nil {
		return nil, err
	}
	for i := range cs {
		cs[i].Warnings = orgx.KeyWarnings[Config](raw[cs[i].ID], ConfigPath+"."+cs[i].ID, nil, "schedule")
	}
	return cs, nil
}

// BindConfig is the account the reader binds as.
type BindConfig struct {
	DN     string              `json:"dn"`
	Secret integrations.Secret `json:"secret"`
}

// TLSConfig is Backstage's tls block plus a custom CA.
type TLSConfig struct {
	// RejectUnauthorized false skips certificate verification; it needs
	// insecure.
	RejectUnauthorized *bool `json:"rejectUnauthorized,omitempty"`
	// Keys and Certs are paths to the client's private key and
	// certificate (PEM), for mutual TLS.
	Keys  string `json:"keys,omitempty"`
	Certs string `json:"certs,omitempty"`
	// CA is PEM text of CA certificates to trust instead of the system
	// roots; CAFile is a path to such a file (scmkit's).
	CA     string `json:"ca,omitempty"`
	CAFile string `json:"caFile,omitempty"`
}

// VendorConfig is Backstage's vendor block.
type VendorConfig struct {
	// DNAttributeName is the attribute holding an entry's DN (OpenLDAP
	// entryDN, Active Directory distinguishedName); the protocol DN is
	// used when the entry lacks it.
	DNAttributeName string `json:"dnAttributeName,omitempty"`
	// UUIDAttributeName is the attribute holding an entry's stable id
	// (OpenLDAP entryUUID, Active Directory objectGUID, FreeIPA
	// ipaUniqueID). objectGUID is decoded to its usual text form.
	UUIDAttributeName string `json:"uuidAttributeName,omitempty"`
}

// Search is one users or groups block: where to search, how, and how to
// map entries to entities.
type Search[M any] struct {
	// DN is the search base.
	DN string `json:"dn"`
	// Options are the search options.
	Options SearchOptions `json:"options"`
	// Set assigns fixed values to entity fields by dotted path, e.g.
	// {"metadata.namespace": "corp", "spec.type": "team"}.
	Set map[string]any `json:"set,omitempty"`
	// Map names the attributes that fill the entity.
	Map M `json:"map"`
}

// SearchList is one [Search] block or a list of them.
type SearchList[M any] []Search[M]

// UnmarshalJSON accepts an object or a list of objects.
func (l *SearchList[M]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var ss []Search[M]
		if err := json.Unmarshal(b, &ss); err != nil {
			return err
		}
		*l = ss
		return nil
	}
	var s Search[M]
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*l = SearchList[M]{s}
	return nil
}

// SearchOptions are Backstage's search options.
type SearchOptions struct {
	// Scope is base, one (the default) or sub.
	Scope string `json:"scope,omitempty"`
	// Filter selects the entries; default (objectClass=*).
	Filter string `json:"filter,omitempty"`
	// Attributes to read. Default: the attributes the map and the vendor
	// name (Backstage asks for all, "*" and "+", which costs more for the
	// same entities).
	Attributes []string `json:"attributes,omitempty"`
	// Paged requests pages of results: true (pages of DefaultPageSize) or
	// {pageSize: n}. Needed for Active Directory and any directory with a
	// size limit.
	Paged Paged `json:"paged,omitzero"`
	// SizeLimit and TimeLimit are passed to the server (0: none).
	SizeLimit int `json:"sizeLimit,omitempty"`
	TimeLimit int `json:"timeLimit,omitempty"`
	// DerefAliases is never, search, find or always (default never).
	DerefAliases string `json:"derefAliases,omitempty"`
}

// DefaultPageSize is the page size of paged: true.
const DefaultPageSize = 500

// Paged is the paged option: false, true, or {pageSize, pagePause}. A
// PageSize of 0 or less means DefaultPageSize.
type Paged struct {
	Enabled  bool
	PageSize int
}

// UnmarshalJSON accepts a boolean or {pageSize: n}. pagePause is accepted
// and ignored (pages are requested as soon as the previous one is read).
func (p *Paged) UnmarshalJSON(b []byte) error {
	var on bool
	if err := json.Unmarshal(b, &on); err == nil {
		*p = Paged{Enabled: on, PageSize: DefaultPageSize}
		return nil
	}
	var o struct {
		PageSize  int  `json:"pageSize"`
		PagePause bool `json:"pagePause"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("paged must be true, false or {pageSize: n}")
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	*p = Paged{Enabled: true, PageSize: o.PageSize}
	return nil
}

// UserMap names the user attributes, with Backstage's defaults.
type UserMap struct {
	RDN         string `json:"rdn,omitempty"`         // default uid
	Name        string `json:"name,omitempty"`        // default uid
	Description string `json:"description,omitempty"` // default none
	DisplayName string `json:"displayName,omitempty"` // default cn
	Email       string `json:"email,omitempty"`       // default mail
	Picture     string `json:"picture,omitempty"`     // default none
	MemberOf    string `json:"memberOf,omitempty"`    // default memberOf
}

// GroupMap names the group attributes, with Backstage's defaults.
type GroupMap struct {
	RDN         string `json:"rdn,omitempty"`         // default cn
	Name        string `json:"name,omitempty"`        // default cn
	Description string `json:"description,omitempty"` // default description
	Type        string `json:"type,omitempty"`        // default groupType
	DisplayName string `json:"displayName,omitempty"` // default cn
	Email       string `json:"email,omitempty"`       // default none
	Picture     string `json:"picture,omitempty"`     // default none
	MemberOf    string `json:"memberOf,omitempty"`    // default memberOf
	Members     string `json:"members,omitempty"`     // default member
}

func (m UserMap) withDefaults() UserMap {
	def(&m.RDN, "uid")
	def(&m.Name, "uid")
	def(&m.DisplayName, "cn")
	def(&m.Email, "mail")
	def(&m.MemberOf, "memberOf")
	return m
}

func (m GroupMap) withDefaults() GroupMap {
	def(&m.RDN, "cn")
	def(&m.Name, "cn")
	def(&m.Description, "description")
	def(&m.Type, "groupType")
	def(&m.DisplayName, "cn")
	def(&m.MemberOf, "memberOf")
	def(&m.Members, "member")
	return m
}

func def(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// check validates c.
func (c *Config) check() error {
	var probs []string
	if c.Target == "" {
		probs = append(probs, "target is required")
	}
	if len(c.Users) == 0 && len(c.Groups) == 0 {
		probs = append(probs, "users or groups is required")
	}
	checkOpts := func(what string, dn string, o SearchOptions) {
		if dn == "" {
			probs = append(probs, what+".dn is required")
		}
		switch o.Scope {
		case "", "base", "one", "sub":
		default:
			probs = append(probs, fmt.Sprintf("%s.options.scope must be base, one or sub, got %q", what, o.Scope))
		}
		switch o.DerefAliases {
		case "", "never", "search", "find", "always":
		default:
			probs = append(probs, fmt.Sprintf("%s.options.derefAliases must be never, search, find or always", what))
		}
		if o.Filter != "" && !(strings.HasPrefix(o.Filter, "(") && strings.HasSuffix(o.Filter, ")")) {
			probs = append(probs, what+".options.filter must be a parenthesised LDAP filter")
		}
	}
	for i, u := range c.Users {
		checkOpts(fmt.Sprintf("users[%d]", i), u.DN, u.Options)
	}
	for i, g := range c.Groups {
		checkOpts(fmt.Sprintf("groups[%d]", i), g.DN, g.Options)
	}
	if c.TLS != nil && c.TLS.RejectUnauthorized != nil && !*c.TLS.RejectUnauthorized && !c.Insecure {
		probs = append(probs, "tls.rejectUnauthorized: false skips certificate verification; it needs insecure: true")
	}
	if c.Bind != nil && c.Bind.DN != "" && c.Bind.Secret.IsZero() {
		probs = append(probs, "bind.secret is required with bind.dn")
	}
	if len(probs) > 0 {
		return errcode.New(errcode.InvalidArgument, "ldaporg.New", "catalog.providers.ldapOrg: "+strings.Join(probs, "; "))
	}
	return nil
}

func (t *TLSConfig) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if t == nil {
		return tc, nil
	}
	var pems [][]byte
	if t.CA != "" {
		pems = append(pems, []byte(t.CA))
	}
	if t.CAFile != "" {
		b, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.caFile: %w", err)
		}
		pems = append(pems, b)
	}
	if len(pems) > 0 {
		pool := x509.NewCertPool()
		for _, p := range pems {
			if !pool.AppendCertsFromPEM(p) {
				return nil, fmt.Errorf("tls.ca: no PEM certificate found")
			}
		}
		tc.RootCAs = pool
	}
	if t.Keys != "" || t.Certs != "" {
		cert, err := tls.LoadX509KeyPair(t.Certs, t.Keys)
		if err != nil {
			return nil, fmt.Errorf("tls.keys/tls.certs: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
