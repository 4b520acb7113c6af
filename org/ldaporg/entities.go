package ldaporg

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/scmkit/scmkit/org"
)

// NormalizeDN returns the canonical form of a DN for comparisons: parsed,
// attribute types lower-cased and values case-folded as strings.EqualFold
// (go-ldap's DN.EqualFold) compares them, spaces around separators
// dropped, each value escaped again one way (RFC 4514: "\2C" and "\,"
// are one comma, which stays escaped), RDN parts sorted, so
// "CN=Devs, OU=Groups,DC=Example,DC=Org" and
// "cn=devs,ou=groups,dc=example,dc=org" are equal, and DNs that differ
// otherwise than so are not. (LDAP's own matching rules also ignore
// Unicode normalisation forms and runs of inner spaces, which this does
// not: such forms of one entry compare unequal, which loses a link and
// grants nothing.) ok is false when dn does not parse.
func NormalizeDN(dn string) (string, bool) {
	p, err := ldap.ParseDN(dn)
	if err != nil || len(p.RDNs) == 0 {
		return "", false
	}
	var b strings.Builder
	for i, rdn := range p.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		// Each value escaped again (RFC 4514), or "cn=a\,cn=b,dc=x" (one
		// entry whose cn holds a comma) and "cn=a,cn=b,dc=x" (another,
		// one level deeper) would have one normal form.
		// A value that is not UTF-8 (a BER-encoded "#04..." one) is
		// written in hex: lower-casing would turn each of its bad bytes
		// into U+FFFD, and two such values into one.
		if len(rdn.Attributes) == 1 && plain(rdn.Attributes[0].Type) && plain(rdn.Attributes[0].Value) {
			// Nothing to escape (most DNs): no copy but the lower-case one.
			b.WriteString(strings.ToLower(rdn.Attributes[0].Type))
			b.WriteByte('=')
			b.WriteString(strings.ToLower(rdn.Attributes[0].Value))
			continue
		}
		avas := make([]string, len(rdn.Attributes))
		for j, a := range rdn.Attributes {
			if !utf8.ValidString(a.Value) {
				avas[j] = (&ldap.AttributeTypeAndValue{Type: strings.ToLower(a.Type)}).String() + "#" + hex.EncodeToString([]byte(a.Value))
				continue
			}
			// go-ldap's String escapes both parts as RFC 4514 says ("=" in
			// a type too).
			avas[j] = (&ldap.AttributeTypeAndValue{Type: strings.ToLower(a.Type), Value: foldValue(a.Value)}).String()
		}
		// Multi-valued RDNs compare regardless of order.
		slices.Sort(avas)
		b.WriteString(strings.Join(avas, "+"))
	}
	return b.String(), true
}

// foldValue maps each rune to one member of its simple case-folding
// orbit, so that foldValue(x) == foldValue(y) iff strings.EqualFold(x, y)
// (go-ldap's DN.EqualFold): ASCII lower-cased.
func foldValue(s string) string {
	return strings.Map(func(r rune) rune {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		if m < utf8.RuneSelf {
			m = unicode.ToLower(m)
		}
		return m
	}, s)
}

// plain reports whether s is printable ASCII that RFC 4514 never escapes
// in a type or a value (no special character, no leading '#', no space
// at either end), so that go-ldap's escaping would leave it as it is.
func plain(s string) bool {
	if s == "" || s[0] == ' ' || s[0] == '#' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < ' ' || c > '~', strings.IndexByte(`"+,;<>\=`, c) >= 0:
			return false
		}
	}
	return true
}

// DecodeGUID formats a 16-byte Active Directory objectGUID as text, e.g.
// "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9": the first three groups are stored
// little-endian.
func DecodeGUID(b []byte) (string, bool) {
	if len(b) != 16 {
		return "", false
	}
	return fmt.Sprintf("%08x-%04x-%04x-%s-%s",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]), binary.LittleEndian.Uint16(b[6:8]),
		hex.EncodeToString(b[8:10]), hex.EncodeToString(b[10:16])), true
}

// DecodeSID formats an Active Directory security identifier (objectSid,
// binary) as text, e.g. "S-1-5-21-1004336348-1177238915-682003330-512":
// the revision, the 48-bit big-endian identifier authority (in hex above
// 32 bits, as Windows writes it) and the little-endian sub-authorities.
func DecodeSID(b []byte) (string, bool) {
	if len(b) < 8 || b[0] != 1 || int(b[1]) > 15 || len(b) != 8+4*int(b[1]) {
		return "", false
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "S-%d-", b[0])
	if auth >= 1<<32 {
		fmt.Fprintf(&sb, "0x%012X", auth)
	} else {
		fmt.Fprintf(&sb, "%d", auth)
	}
	for i := 8; i < len(b); i += 4 {
		fmt.Fprintf(&sb, "-%d", binary.LittleEndian.Uint32(b[i:i+4]))
	}
	return sb.String(), true
}

// first returns the first value of attr (case-insensitive name), "" if
// none.
func first(e *ldap.Entry, attr string) string {
	if attr == "" {
		return ""
	}
	return e.GetEqualFoldAttributeValue(attr)
}

// dnOf returns the entry's DN as the vendor attribute holds it, or the
// protocol DN.
func (r *Reader) dnOf(e *ldap.Entry) string {
	names := []string{"entryDN", "distinguishedName"}
	if v := r.cfg.Vendor; v != nil && v.DNAttributeName != "" {
		names = []string{v.DNAttributeName}
	}
	for _, n := range names {
		if strings.EqualFold(n, "dn") {
			break
		}
		if s := first(e, n); s != "" {
			return s
		}
	}
	return e.DN
}

// uuidOf returns the entry's stable id: the vendor attribute, or
// objectGUID (decoded), entryUUID, ipaUniqueID, whichever is present. The
// binary objectGUID and objectSid are decoded to their text forms.
func (r *Reader) uuidOf(e *ldap.Entry) string {
	names := []string{"objectGUID", "entryUUID", "ipaUniqueID"}
	if v := r.cfg.Vendor; v != nil && v.UUIDAttributeName != "" {
		names = []string{v.UUIDAttributeName}
	}
	for _, n := range names {
		if strings.EqualFold(n, "objectGUID") {
			if g, ok := DecodeGUID(e.GetEqualFoldRawAttributeValue(n)); ok {
				return g
			}
			continue
		}
		if strings.EqualFold(n, "objectSid") {
			if sid, ok := DecodeSID(e.GetEqualFoldRawAttributeValue(n)); ok {
				return sid
			}
			continue
		}
		if s := first(e, n); s != "" {
			return s
		}
	}
	return ""
}

func (r *Reader) meta(e *ldap.Entry, nameAttr, descAttr, rdnAttr string) (org.Metadata, entry) {
	ent := entry{dn: r.dnOf(e), rdn: first(e, rdnAttr), uuid: r.uuidOf(e)}
	md := org.Metadata{Name: first(e, nameAttr), Description: first(e, descAttr), Annotations: map[string]string{}}
	if ent.rdn != "" {
		md.Annotations[AnnotationRDN] = ent.rdn
	}
	if ent.uuid != "" {
		md.Annotations[AnnotationUUID] = ent.uuid
	}
	if ent.dn != "" {
		md.Annotations[AnnotationDN] = ent.dn
	}
	return md, ent
}

func (r *Reader) user(e *ldap.Entry, blk Search[UserMap], m UserMap) (org.User, entry, string) {
	md, ent := r.meta(e, m.Name, m.Description, m.RDN)
	u := org.User{Metadata: md, Spec: org.UserSpec{MemberOf: []string{}}}
	u.Spec.Profile = org.Profile{DisplayName: first(e, m.DisplayName), Email: first(e, m.Email), Picture: first(e, m.Picture)}
	if w := applySet(&u.Metadata, nil, &u.Spec.Profile, blk.Set); w != "" {
		return u, ent, fmt.Sprintf("user %s: %s", e.DN, w)
	}
	if !org.ValidName(u.Metadata.Name) {
		return u, ent, fmt.Sprintf("user %s skipped: %q (attribute %s) is not a valid entity name", e.DN, u.Metadata.Name, m.Name)
	}
	ent.refs = e.GetEqualFoldAttributeValues(m.MemberOf)
	return u, ent, ""
}

func (r *Reader) group(e *ldap.Entry, blk Search[GroupMap], m GroupMap) (org.Group, entry, string) {
	md, ent := r.meta(e, m.Name, m.Description, m.RDN)
	g := org.Group{Metadata: md, Spec: org.GroupSpec{Type: "unknown", Children: []string{}}}
	if t := first(e, m.Type); t != "" {
		g.Spec.Type = t
	}
	g.Spec.Profile = org.Profile{DisplayName: first(e, m.DisplayName), Email: first(e, m.Email), Picture: first(e, m.Picture)}
	if w := applySet(&g.Metadata, &g.Spec.Type, &g.Spec.Profile, blk.Set); w != "" {
		return g, ent, fmt.Sprintf("group %s: %s", e.DN, w)
	}
	if !org.ValidName(g.Metadata.Name) {
		return g, ent, fmt.Sprintf("group %s skipped: %q (attribute %s) is not a valid entity name", e.DN, g.Metadata.Name, m.Name)
	}
	ent.refs = e.GetEqualFoldAttributeValues(m.MemberOf)
	ent.members = e.GetEqualFoldAttributeValues(m.Members)
	return g, ent, ""
}

// applySet applies the set block's supported paths.
func applySet(md *org.Metadata, typ *string, p *org.Profile, set map[string]any) string {
	for _, path := range slices.Sorted(maps.Keys(set)) {
		v, ok := set[path].(string)
		if !ok {
			return fmt.Sprintf("set.%s: only string values are supported", path)
		}
		switch {
		case path == "metadata.namespace":
			md.Namespace = v
		case path == "metadata.title":
			md.Title = v
		case path == "metadata.description":
			md.Description = v
		case strings.HasPrefix(path, "metadata.annotations."):
			md.Annotations[strings.TrimPrefix(path, "metadata.annotations.")] = v
		case path == "spec.type" && typ != nil:
			*typ = v
		case path == "spec.profile.displayName":
			p.DisplayName = v
		case path == "spec.profile.email":
			p.Email = v
		case path == "spec.profile.picture":
			p.Picture = v
		default:
			return fmt.Sprintf("set.%s: unsupported path", path)
		}
	}
	return ""
}

// resolve fills user memberOf and group parent/children from the three
// directions (user memberOf, group member, group memberOf), matching
// references by DN (parsed, case-insensitive), RDN or UUID. A DN, RDN value
// or UUID two entries of one kind share names neither of them.
func resolve(snap *org.Snapshot, users, groups []entry) {
	// Index: key -> entity index, users and groups apart. A DN names one
	// entry; an RDN or UUID value may name both a user and a group (a
	// POSIX user private group: uid=jane and cn=jane), so a member
	// reference by value is a user first, and a memberOf reference a group.
	type target struct {
		group bool
		i     int
	}
	dns := make(map[string]target, len(users)+len(groups))
	userVals := make(map[string]int, 2*len(users))
	groupVals := make(map[string]int, 2*len(groups))
	ambiguous := map[string]bool{}
	// addVal indexes an RDN or UUID value of entry i of es. A value a
	// second entry of the same kind also holds (uid=alice in two OUs, or
	// one entry's RDN spelling another's UUID) is ambiguous like a shared
	// DN: -1, resolving to neither; the first reference to it adds a
	// warning naming both DNs (groups of one cn in two OUs are common, and
	// harmless while nothing names them by value).
	ambiguousVal := map[string]string{} // kind + "\x00" + lower-case value -> its warning, "" once given
	addVal := func(vals map[string]int, v string, i int, es []entry, kind string) {
		k := strings.ToLower(v)
		switch j, taken := vals[k]; {
		case !taken:
			vals[k] = i
		case j != i && j >= 0:
			ambiguousVal[kind+"\x00"+k] = fmt.Sprintf("two %s entries, %s and %s, have the value %s (as RDN or UUID); references by that value are left out",
				kind, strconv.QuoteToASCII(es[j].dn), strconv.QuoteToASCII(es[i].dn), strconv.QuoteToASCII(v))
			vals[k] = -1
		}
	}
	ambiguousRef := func(kind, v string) {
		if w := ambiguousVal[kind+"\x00"+v]; w != "" {
			snap.Warnings = append(snap.Warnings, w)
			ambiguousVal[kind+"\x00"+v] = ""
		}
	}
	add := func(e entry, t target, vals map[string]int, es []entry, kind string) {
		if n, ok := NormalizeDN(e.dn); ok {
			if _, taken := dns[n]; taken || ambiguous[n] {
				// Two entries whose DNs compare equal (a directory that
				// folds case otherwise than LDAP's matching rules, or
				// lists an entry twice): a reference to either could be
				// the other's, so it resolves to neither.
				if !ambiguous[n] {
					snap.Warnings = append(snap.Warnings, fmt.Sprintf("two entries have the DN %s (compared case-insensitively); references to it are left out", strconv.QuoteToASCII(e.dn)))
				}
				delete(dns, n)
				ambiguous[n] = true
			} else {
				dns[n] = t
			}
		}
		if e.rdn != "" {
			addVal(vals, e.rdn, t.i, es, kind)
		}
		if e.uuid != "" {
			addVal(vals, e.uuid, t.i, es, kind)
		}
	}
	for i, e := range users {
		add(e, target{false, i}, userVals, users, "user")
	}
	for i, e := range groups {
		add(e, target{true, i}, groupVals, groups, "group")
	}
	lookup := func(ref string, groupFirst bool) (target, bool) {
		if n, ok := NormalizeDN(ref); ok && strings.Contains(ref, "=") {
			if t, ok := dns[n]; ok {
				return t, true
			}
			if ambiguous[n] || strings.Contains(ref, ",") {
				// A DN (of two RDNs or more: a uid, a GUID, a SID or a
				// base64 value never has a comma) names the entry with
				// that DN or none: not one whose RDN value happens to
				// spell it, nor, for a DN left out as ambiguous, either.
				return target{}, false
			}
		}
		v := strings.ToLower(ref)
		ui, isUser := userVals[v]
		gi, isGroup := groupVals[v]
		// An ambiguous value (-1) of the kind looked up first names
		// nothing: not the other kind's entry either.
		switch {
		case isGroup && (groupFirst || !isUser):
			if gi < 0 {
				ambiguousRef("group", v)
			}
			return target{true, gi}, gi >= 0
		case isUser:
			if ui < 0 {
				ambiguousRef("user", v)
			}
			return target{false, ui}, ui >= 0
		}
		return target{}, false
	}
	userGroups := make([]map[int]bool, len(users))
	parents := make([]map[int]bool, len(groups))
	children := make([]map[int]bool, len(groups))
	link := func(m []map[int]bool, i, j int) {
		if m[i] == nil {
			m[i] = map[int]bool{}
		}
		m[i][j] = true
	}
	nest := func(child, parent int) {
		if child == parent {
			return
		}
		link(parents, child, parent)
		link(children, parent, child)
	}
	for i, u := range users {
		for _, ref := range u.refs {
			if t, ok := lookup(ref, true); ok && t.group {
				link(userGroups, i, t.i)
			}
		}
	}
	for gi, g := range groups {
		for _, ref := range g.refs {
			if t, ok := lookup(ref, true); ok && t.group {
				nest(gi, t.i)
			}
		}
		for _, ref := range g.members {
			t, ok := lookup(ref, false)
			switch {
			case !ok:
			case t.group:
				nest(t.i, gi)
			default:
				link(userGroups, t.i, gi)
			}
		}
	}
	gref := func(i int) string { return snap.Groups[i].Ref().String() }
	for i := range snap.Users {
		for gi := range userGroups[i] {
			snap.Users[i].Spec.MemberOf = append(snap.Users[i].Spec.MemberOf, gref(gi))
		}
	}
	for i := range snap.Groups {
		for ci := range children[i] {
			snap.Groups[i].Spec.Children = append(snap.Groups[i].Spec.Children, gref(ci))
		}
		if len(parents[i]) == 1 {
			for pi := range parents[i] {
				snap.Groups[i].Spec.Parent = gref(pi)
			}
		}
	}
}
