package ldapconn

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org/internal/orgx"
)

// SearchPages runs req to its end and calls page with each page of
// results. With pageSize > 0 it sends the paged results control (RFC 2696,
// not critical) with that page size and follows the directory's cookies,
// so that a search returns more entries than the directory's size limit
// per search (Active Directory's MaxPageSize, 1,000 by default; slapd's
// sizelimit, 500 by default); with pageSize <= 0 it is one plain search.
// A directory that does not know the control ignores it (RFC 2696) and
// answers once, with everything.
//
// A directory that refuses the control or the page size on the first page
// (adminLimitExceeded: slapd with size.prtotal=disabled, or a size.pr
// below pageSize) gets one plain search instead. Paging does not lift a
// directory's own total limit: OpenLDAP's hard size limit also bounds a
// paged search unless its limits say size.prtotal=unlimited for the
// account searching (a size limit is then still an error).
//
// It never pages for ever: a directory that sends a page with no entry
// not read before, or more than orgx.MaxEmptyPages empty pages in a row,
// while promising more, ends the search with an Unavailable error. An
// error from page ends it too and is returned as is. req's Controls are
// replaced when paging.
func (c *Conn) SearchPages(ctx context.Context, req *ldap.SearchRequest, pageSize int, page func(*ldap.SearchResult) error) error {
	const op = "ldap.Search"
	var paging *ldap.ControlPaging
	if pageSize > 0 {
		paging = ldap.NewControlPaging(uint32(min(pageSize, math.MaxInt32)))
		req.Controls = []ldap.Control{paging}
	}
	seen := map[string]bool{} // the DNs of the entries read, as sent
	empty := 0                // empty pages in a row
	for first := true; ; first = false {
		res, err := c.Search(ctx, req)
		if first && paging != nil && ldap.IsErrorWithCode(err, ldap.LDAPResultAdminLimitExceeded) {
			// A directory that refuses paging, or this page size (slapd
			// with size.prtotal=disabled, or a size.pr below it): one plain
			// search, as without paging.
			paging, req.Controls = nil, nil
			res, err = c.Search(ctx, req)
		}
		if err != nil {
			return err
		}
		fresh := false
		for _, e := range res.Entries {
			if !seen[e.DN] {
				seen[e.DN], fresh = true, true
			}
		}
		if err := page(res); err != nil {
			return err
		}
		if paging == nil {
			return nil
		}
		resp, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if resp == nil && !first {
			// Every page of a paged search carries the control (RFC 2696):
			// one without it, mid-search, is not a last page.
			return &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: "ldap", Host: c.p.u.Host, Msg: "the directory dropped the paged results control in the middle of a paged search under " + req.BaseDN}
		}
		if resp == nil || len(resp.Cookie) == 0 {
			// The last page; or a directory without paged results, which
			// ignores the control (RFC 2696) and sends the whole answer
			// at once (a size limit would have been an error).
			return nil
		}
		if len(res.Entries) == 0 {
			empty++
		} else {
			empty = 0
		}
		if (len(res.Entries) > 0 && !fresh) || empty > orgx.MaxEmptyPages {
			// The same page again, for ever: never a complete read. (Active
			// Directory may send an empty page with a cookie when a page
			// takes too long; up to orgx.MaxEmptyPages in a row are
			// followed.) A cookie sent again is no sign of it: 389
			// Directory Server's cookie names the connection's paging
			// slot, the same on every page.
			return orgx.RepeatedCursor(op, "ldap", c.p.u.Host, "paged search under "+req.BaseDN)
		}
		paging.SetCookie(resp.Cookie)
	}
}

// CompleteRange implements Active Directory's range retrieval for the
// attribute attr of e: when the directory returned attr;range=0-1499
// instead of attr (AD does for any attribute with more values than its
// MaxValRange, 1,500 by default: member, and memberOf too), the further
// ranges are read, one base search each, until the range ending in "*",
// and e gets the whole attr under its plain name. An entry without a
// ranged attr is left as it is, for no search.
func (c *Conn) CompleteRange(ctx context.Context, e *ldap.Entry, attr string) error {
	const op = "ldap.Search"
	if attr == "" {
		return nil
	}
	var ranged *ldap.EntryAttribute
	for _, a := range e.Attributes {
		name, lo, _, ok := parseRange(a.Name)
		if ok && strings.EqualFold(name, attr) && lo == 0 {
			ranged = a
			break
		}
	}
	if ranged == nil {
		return nil
	}
	values := slices.Clone(ranged.Values)
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		seen[v] = true
	}
	host := c.p.u.Host
	_, _, hi, _ := parseRange(ranged.Name)
	for hi >= 0 {
		next := attr + ";range=" + strconv.Itoa(hi+1) + "-*"
		res, err := c.Search(ctx, ldap.NewSearchRequest(e.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)", []string{next}, nil))
		if err != nil {
			return err
		}
		if len(res.Entries) != 1 {
			return &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: "ldap", Host: host, Msg: "range retrieval of " + attr + " on " + e.DN + ": the entry disappeared"}
		}
		var got *ldap.EntryAttribute
		for _, a := range res.Entries[0].Attributes {
			if n, lo, _, ok := parseRange(a.Name); ok && strings.EqualFold(n, attr) && lo == hi+1 {
				got = a
			}
		}
		if got == nil {
			return &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: "ldap", Host: host, Msg: "range retrieval of " + attr + " on " + e.DN + ": the server did not return range " + strconv.Itoa(hi+1) + "-*"}
		}
		fresh := false
		for _, v := range got.Values {
			if !seen[v] {
				seen[v], fresh = true, true
			}
		}
		values = append(values, got.Values...)
		_, _, hi, _ = parseRange(got.Name)
		if hi >= 0 && !fresh {
			// A range with no value not read before, and more promised:
			// ranges that would never end.
			return &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: "ldap", Host: host, Msg: "range retrieval of " + attr + " on " + e.DN + ": range " + got.Name + " brought no new value and promised more; it would never end"}
		}
	}
	// Replace the ranged attribute (and any empty plain one) by the whole.
	out := e.Attributes[:0]
	for _, a := range e.Attributes {
		if n, _, _, ok := parseRange(a.Name); (ok && strings.EqualFold(n, attr)) || strings.EqualFold(a.Name, attr) {
			continue
		}
		out = append(out, a)
	}
	e.Attributes = append(out, ldap.NewEntryAttribute(attr, values))
	return nil
}

// parseRange parses "member;range=0-1499" (hi -1 for "*").
func parseRange(name string) (attr string, lo, hi int, ok bool) {
	const tag = ";range="
	i := -1
	for j := 0; j+len(tag) <= len(name); j++ {
		if strings.EqualFold(name[j:j+len(tag)], tag) {
			i = j
			break
		}
	}
	if i < 0 {
		return "", 0, 0, false
	}
	attr = name[:i]
	spec := name[i+len(tag):]
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return "", 0, 0, false
	}
	lo, err := strconv.Atoi(a)
	if err != nil || lo < 0 {
		return "", 0, 0, false
	}
	if b == "*" {
		return attr, lo, -1, true
	}
	hi, err = strconv.Atoi(b)
	if err != nil || hi < lo {
		return "", 0, 0, false
	}
	return attr, lo, hi, true
}
