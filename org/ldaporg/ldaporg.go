// Package ldaporg reads users and groups from an LDAP directory or Active
// Directory into Backstage User and Group entities ([org.Snapshot]), as
// Backstage's LDAP org provider (catalog.providers.ldapOrg) does: the same
// configuration, the same entity names, the same annotations
// (backstage.io/ldap-dn, backstage.io/ldap-rdn, backstage.io/ldap-uuid) and
// the same relations, resolved from both directions (a user's memberOf, a
// group's member, a group's memberOf) by DN, RDN or UUID. Nested groups
// become spec.parent (when a group has exactly one parent) and
// spec.children.
//
// Beyond Backstage:
//
//   - DNs are compared parsed, case-insensitively (distinguishedNameMatch),
//     not as strings;
//   - a reference that could name two entries of one kind resolves to
//     neither, with a warning naming both: two entries with one DN, or
//     with one RDN or UUID value (uid=alice in ou=people and in
//     ou=contractors, for a posixGroup's memberUid alice; or one entry's
//     RDN spelling another's UUID), where Backstage lets the entry read
//     last take every reference;
//   - Active Directory's range retrieval: a group whose member attribute
//     comes back as member;range=0-1499 is read to its end, so groups with
//     more than 1,500 members are complete;
//   - objectGUID is decoded to its text form (the first three groups
//     little-endian), and objectSid, when it is the vendor's UUID
//     attribute, to its S-1-5-21-... form;
//   - free text (display names, descriptions, ...) is cleaned as
//     [org.Snapshot.Clean] says: a directory value that is not UTF-8 or
//     holds control characters cannot break the catalog file;
//   - [Reader.TransitiveGroups] and [Reader.TransitiveMembers] use
//     Active Directory's in-chain matching rule (1.2.840.113556.1.4.1941)
//     for nested membership in one search;
//   - paged searches stop at once when the context ends, closing their
//     connection, and never return a partial snapshot;
//   - referrals are reported in Snapshot.Warnings, never followed
//     silently;
//   - TLS by default, as in auth/ldapauth.
//
// A read of U users and G groups with page size P costs
// ceil(U/P) + ceil(G/P) searches, plus one search per further range of
// every group above the directory's range limit (Active Directory:
// 1,500 values).
package ldaporg

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/ldaporg/ldapconn"
)

// The annotations Backstage's LDAP provider writes.
const (
	AnnotationDN   = "backstage.io/ldap-dn"
	AnnotationRDN  = "backstage.io/ldap-rdn"
	AnnotationUUID = "backstage.io/ldap-uuid"
)

// InChainOID is Active Directory's LDAP_MATCHING_RULE_IN_CHAIN.
const InChainOID = "1.2.840.113556.1.4.1941"

// Options are the Reader's non-configuration dependencies; nil means the
// defaults.
type Options struct {
	// Logger receives the insecure-transport warning. Nil: no logging.
	Logger *slog.Logger
	// DialContext replaces the network dialer: a proxy, a custom
	// resolver, or an in-process directory in tests. Nil means a
	// net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeout bounds each LDAP operation (default 30 s).
	Timeout time.Duration
	// TLS, if set, is the base TLS configuration, used instead of the one
	// built from the tls block.
	TLS *tls.Config
	// Progress, when set, receives a report after every page and at the
	// end (phase "users", "groups", "done"), from Read's goroutine.
	// Requests counts LDAP searches.
	Progress org.ProgressFunc
	// Source names the reader in progress reports; default "ldapOrg:"
	// and the config's ID (or the target's host).
	Source string
}

// Reader reads one ldapOrg provider. It implements [org.Reader] and is
// safe for concurrent use. The zero Reader is not usable; make one with
// [New].
type Reader struct {
	cfg      Config
	pool     *ldapconn.Pool
	log      *slog.Logger
	progress org.ProgressFunc
	source   string
}

var _ org.Reader = (*Reader)(nil)

// New checks cfg and returns a Reader; it opens no connection.
func New(cfg Config, opts *Options) (*Reader, error) {
	const op = "ldaporg.New"
	if opts == nil {
		opts = &Options{}
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	tc := opts.TLS
	if tc == nil {
		var err error
		if tc, err = cfg.TLS.tlsConfig(); err != nil {
			return nil, errcode.Wrap(errcode.InvalidArgument, op, err)
		}
	}
	skip := cfg.TLS != nil && cfg.TLS.RejectUnauthorized != nil && !*cfg.TLS.RejectUnauthorized
	po := ldapconn.Options{
		URL: cfg.Target, StartTLS: cfg.StartTLS, Insecure: cfg.Insecure, SkipVerify: skip, TLS: tc,
		MaxConns: 2, Timeout: opts.Timeout, DialContext: opts.DialContext,
	}
	if cfg.Bind != nil {
		po.BindDN, po.BindPassword = cfg.Bind.DN, cfg.Bind.Secret
	}
	p, err := ldapconn.New(po)
	if err != nil {
		return nil, err
	}
	r := &Reader{cfg: cfg, pool: p, log: opts.Logger, progress: opts.Progress, source: opts.Source}
	if r.source == "" {
		r.source = "ldapOrg:" + cfg.ID
		if cfg.ID == "" {
			r.source = "ldapOrg:" + p.Host()
		}
	}
	if (p.PlainText() || skip) && r.log != nil {
		r.log.Warn("ldaporg: insecure is set: the bind secret and the directory's data may cross the network in clear or to an unverified server", slog.String("target", p.URL()))
	}
	return r, nil
}

// Stats returns the LDAP operations sent so far.
func (r *Reader) Stats() ldapconn.Stats { return r.pool.Stats() }

// Close closes the idle connections; a Read under way closes its
// connection when it ends. Close may be called more than once; it returns
// nil.
func (r *Reader) Close() error { return r.pool.Close() }

// entry is what the reader keeps of one directory entry: only what the
// output needs.
type entry struct {
	dn, rdn, uuid string
	refs          []string // memberOf (users, groups)
	members       []string // member (groups)
}

// Read reads every configured users and groups block and returns the
// organisation, sorted and valid. Entities whose name is not a valid
// Backstage name are left out and named in Warnings, as are referrals and
// the parent links dropped to break a cycle of nested groups. Any failure
// returns an error and no snapshot.
func (r *Reader) Read(ctx context.Context) (*org.Snapshot, error) {
	const op = "ldaporg.Read"
	c, err := r.pool.Get(ctx)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if ok {
			c.Release()
		} else {
			c.Discard()
		}
	}()
	snap := &org.Snapshot{Source: r.source}
	var users, groups []entry
	searches0 := r.pool.Stats().Searches
	report := func(phase string) {
		if r.progress != nil {
			r.progress(org.Progress{Source: r.source, Phase: phase, Users: len(snap.Users), Groups: len(snap.Groups),
				Requests: int(r.pool.Stats().Searches - searches0), RateLimitRemaining: -1})
		}
	}
	for i, blk := range r.cfg.Users {
		m := blk.Map.withDefaults()
		err := r.search(ctx, c, blk.DN, blk.Options, r.attrs(m.RDN, m.Name, m.Description, m.DisplayName, m.Email, m.Picture, m.MemberOf), []string{m.MemberOf}, snap, func() { report("users") },
			keep(snap, &snap.Users, &users, func(e *ldap.Entry) (org.User, entry, string) { return r.user(e, blk, m) }))
		if err != nil {
			return nil, wrap(op, fmt.Sprintf("users[%d]", i), err)
		}
	}
	for i, blk := range r.cfg.Groups {
		m := blk.Map.withDefaults()
		err := r.search(ctx, c, blk.DN, blk.Options, r.attrs(m.RDN, m.Name, m.Description, m.Type, m.DisplayName, m.Email, m.Picture, m.MemberOf, m.Members), []string{m.MemberOf, m.Members}, snap, func() { report("groups") },
			keep(snap, &snap.Groups, &groups, func(e *ldap.Entry) (org.Group, entry, string) { return r.group(e, blk, m) }))
		if err != nil {
			return nil, wrap(op, fmt.Sprintf("groups[%d]", i), err)
		}
	}
	snap.Users, users = dedupe(snap, snap.Users, users, (*org.User).Ref)
	snap.Groups, groups = dedupe(snap, snap.Groups, groups, (*org.Group).Ref)
	resolve(snap, users, groups)
	snap.Warnings = append(snap.Warnings, snap.BreakCycles()...)
	snap.Sort()
	snap.Clean() // directory values are untrusted
	if err := snap.Validate(); err != nil {
		return nil, err
	}
	ok = true
	report("done")
	return snap, nil
}

// keep returns the search callback of a users or groups block: each
// entry becomes an entity by conv, appended to es with its entry to
// ents, or, when conv says why not, a warning in snap.
func keep[E any](snap *org.Snapshot, es *[]E, ents *[]entry, conv func(*ldap.Entry) (E, entry, string)) func(*ldap.Entry) {
	return func(e *ldap.Entry) {
		v, ent, w := conv(e)
		if w != "" {
			snap.Warnings = append(snap.Warnings, w)
			return
		}
		*es = append(*es, v)
		*ents = append(*ents, ent)
	}
}

// dedupe keeps the first entity of each ref (two entries with the same
// uid in different subtrees, say) and names the others in Warnings.
func dedupe[E any](snap *org.Snapshot, es []E, ents []entry, ref func(*E) org.Ref) ([]E, []entry) {
	seen := make(map[string]string, len(es))
	keptE, keptN := es[:0], ents[:0]
	for i := range es {
		k := ref(&es[i])
		if dn, dup := seen[k.Key()]; dup {
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("%s skipped: %s has the same entity name as %s", ents[i].dn, k, dn))
			continue
		}
		seen[k.Key()] = ents[i].dn
		keptE, keptN = append(keptE, es[i]), append(keptN, ents[i])
	}
	return keptE, keptN
}

func wrap(op, where string, err error) error {
	return &errcode.Error{Code: errcode.CodeOf(err), Op: op, Provider: "ldap", Msg: where, Err: err}
}

var scopes = map[string]int{"": ldap.ScopeSingleLevel, "one": ldap.ScopeSingleLevel, "base": ldap.ScopeBaseObject, "sub": ldap.ScopeWholeSubtree}
var derefs = map[string]int{"": ldap.NeverDerefAliases, "never": ldap.NeverDerefAliases, "search": ldap.DerefInSearching, "find": ldap.DerefFindingBaseObj, "always": ldap.DerefAlways}

// attrs lists the attributes a block needs when its options name none:
// the mapped ones and the vendor's DN and UUID attributes. Backstage asks
// for every attribute ("*" and "+"); asking for what the entities use makes
// the directory send (and the reader decode) a fraction of that.
func (r *Reader) attrs(mapped ...string) []string {
	out := []string{"entryDN", "distinguishedName", "entryUUID", "objectGUID", "ipaUniqueID"}
	if v := r.cfg.Vendor; v != nil {
		out = append(out, v.DNAttributeName, v.UUIDAttributeName)
	}
	out = append(out, mapped...)
	seen := map[string]bool{}
	kept := out[:0]
	for _, a := range out {
		if a == "" || strings.EqualFold(a, "dn") || seen[strings.ToLower(a)] {
			continue
		}
		seen[strings.ToLower(a)] = true
		kept = append(kept, a)
	}
	return kept
}

// search runs one (paged) search and hands each entry, its multi-valued
// reference attributes completed by range retrieval, to fn. attrs are the
// attributes to ask for when the options name none.
func (r *Reader) search(ctx context.Context, c *ldapconn.Conn, base string, o SearchOptions, attrs, ranged []string, snap *org.Snapshot, page func(), fn func(*ldap.Entry)) error {
	filter := o.Filter
	if filter == "" {
		filter = "(objectClass=*)"
	}
	if len(o.Attributes) > 0 {
		attrs = o.Attributes
	}
	req := ldap.NewSearchRequest(base, scopes[o.Scope], derefs[o.DerefAliases], o.SizeLimit, o.TimeLimit, false, filter, attrs, nil)
	size := 0
	if o.Paged.Enabled {
		// A page size of 0 asks the directory to abandon the search (RFC
		// 2696: slapd then sends no entry, and the directory would look
		// empty); a Config built in Go may leave it unset.
		size = o.Paged.PageSize
		if size <= 0 {
			size = DefaultPageSize
		}
	}
	return c.SearchPages(ctx, req, size, func(res *ldap.SearchResult) error {
		for _, ref := range res.Referrals {
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("referral to %s under %s not followed", ref, base))
		}
		for _, e := range res.Entries {
			for _, a := range ranged {
				if err := c.CompleteRange(ctx, e, a); err != nil {
					return err
				}
			}
			fn(e)
		}
		page()
		return nil
	})
}

// TransitiveGroups returns the DNs of every group under base that userDN
// belongs to, directly or through nested groups, in one search with
// Active Directory's in-chain matching rule.
func (r *Reader) TransitiveGroups(ctx context.Context, base, userDN string) ([]string, error) {
	return r.inChain(ctx, base, "member", userDN)
}

// TransitiveMembers returns the DNs of every entry under base that is a
// member of groupDN, directly or through nested groups, in one search with
// the in-chain matching rule.
func (r *Reader) TransitiveMembers(ctx context.Context, base, groupDN string) ([]string, error) {
	return r.inChain(ctx, base, "memberOf", groupDN)
}

func (r *Reader) inChain(ctx context.Context, base, attr, dn string) ([]string, error) {
	const op = "ldaporg.InChain"
	if _, err := ldap.ParseDN(dn); err != nil || dn == "" {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "not a DN: %q", dn)
	}
	c, err := r.pool.Get(ctx)
	if err != nil {
		return nil, err
	}
	filter := "(" + attr + ":" + InChainOID + ":=" + ldap.EscapeFilter(dn) + ")"
	defer c.Release()
	// Paged: a large group's transitive members are more than a directory
	// returns at once (AD's MaxPageSize, 1,000).
	var out []string
	err = c.SearchPages(ctx, ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, []string{"1.1"}, nil), DefaultPageSize, func(res *ldap.SearchResult) error {
		for _, e := range res.Entries {
			out = append(out, e.DN)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
