// Package fakead is an in-process LDAP server that answers as Active
// Directory does where AD differs from OpenLDAP, built on
// github.com/jimlambrt/gldap, for tests of Active Directory-only
// behaviour:
//
//   - range retrieval: a multi-valued attribute with more than MaxValRange
//     values (1,500 on AD) comes back as member;range=0-1499, and further
//     ranges are read with member;range=1500-* (the last one is named
//     member;range=L-*);
//   - objectGUID as 16 raw bytes, the first three groups little-endian;
//   - the in-chain matching rule 1.2.840.113556.1.4.1941 on member and
//     memberOf (transitive membership);
//   - the Simple Paged Results control;
//   - distinguishedName as an attribute; simple binds.
//
// It serves ldaps:// on a loopback port with a certificate from a CA it
// generates. Filters support and, or, not, equality (case-insensitive),
// presence, substrings and the in-chain rule.
package fakead

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"
)

// Entry is a directory entry. Attribute names compare case-insensitively.
type Entry struct {
	DN    string
	Attrs map[string][]string
}

// GUID returns the 16 raw bytes of an objectGUID whose text form is
// "%08x-%04x-%04x-%04x-%012x" of (a, b, c, d, e), stored as AD stores it.
func GUID(a uint32, b, c, d uint16, e uint64) string {
	var g [16]byte
	binary.LittleEndian.PutUint32(g[0:], a)
	binary.LittleEndian.PutUint16(g[4:], b)
	binary.LittleEndian.PutUint16(g[6:], c)
	binary.BigEndian.PutUint16(g[8:], d)
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], e)
	copy(g[10:], t[2:])
	return string(g[:])
}

// Server is a running fake AD.
type Server struct {
	// URL is the ldaps:// URL.
	URL string
	// CAPool trusts the server's certificate.
	CAPool *x509.CertPool
	// CAPEM is the same CA as PEM, for a config's tls.ca (or a file
	// named by tls.caFile), so that a test can go through the config.
	CAPEM string
	// MaxValRange is the range limit (default 1500).
	MaxValRange int
	// MaxPageSize is AD's MaxPageSize (default 1000): a search without
	// the paged results control returns that many entries at most, then
	// sizeLimitExceeded; a paged search's pages hold that many at most. An
	// unpaged search's own size limit, when lower, applies the same way.
	MaxPageSize int
	// Searches counts search requests.
	Searches atomic.Int64
	// StallAfter, when > 0, makes the server stop answering (never reply)
	// from that search request on.
	StallAfter atomic.Int64
	// RepeatCookie, when set, makes paged searches never advance: every
	// page names the page it answered as the next, as a broken server
	// might.
	RepeatCookie atomic.Bool
	// IgnoreCookie, when set, makes paged searches ignore the cookie
	// sent: every page is the first, under a cookie never sent before, as
	// a broken server might.
	IgnoreCookie atomic.Bool
	// EmptyPages, when set, makes paged searches answer every page empty,
	// under a cookie never sent before: a listing that never ends.
	EmptyPages atomic.Bool
	// NoPaging, when set, makes the server ignore the paged results
	// control, as a directory without it does (RFC 2696): the whole
	// answer at once, with no control in return.
	NoPaging atomic.Bool
	// RefusePaging, when set, answers every paged search adminLimitExceeded,
	// as slapd does when its limits disable paging (size.prtotal=disabled)
	// or allow smaller pages (size.pr).
	RefusePaging atomic.Bool
	// DropControl, when set, makes paged searches answer every page after
	// the first without the paged results control, as a broken server or
	// proxy might.
	DropControl atomic.Bool
	// SlotCookies, when set, makes paged searches answer as 389 Directory
	// Server does: the cookie names the connection's paging slot ("0"),
	// the same on every page of a search, and the server keeps the
	// search's place itself.
	SlotCookies atomic.Bool
	// EndlessRange, when set, makes range retrieval never end: a request
	// for the range L-* is answered with the range L-L holding the
	// attribute's first value again, never with the last range.
	EndlessRange atomic.Bool
	// CloseWait bounds how long Close waits for the clients' connections
	// to end (the server cannot end them itself); 0 means 5s.
	CloseWait time.Duration

	mu        sync.Mutex
	slots     map[int]int // SlotCookies: the next offset of each connection's paged search
	entries   []*Entry
	normDNs   []string          // normalized DN of entries[i]
	byNorm    map[string]*Entry // normalized DN -> entry
	passwords map[string]string // normalized DN -> password
	srv       *gldap.Server
	stalled   chan struct{}
	closeOnce sync.Once
	stopped   chan struct{} // closed when the server has stopped
	stopErr   error         // the stop's error, set before stopped is closed
}

// Start serves entries on a loopback port until the test ends. passwords
// maps DNs to their passwords for simple binds. A client connection still
// open when the test ends (an ldaporg.Reader or ldapauth provider not
// closed) fails the test after Server.CloseWait, with an error saying so,
// rather than hang it until its timeout.
func Start(t testing.TB, entries []*Entry, passwords map[string]string) *Server {
	t.Helper()
	s, err := New(entries, passwords)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// New is [Start] for programs (an example's fake world): the caller must
// Close the server.
func New(entries []*Entry, passwords map[string]string) (*Server, error) {
	s := &Server{MaxValRange: 1500, MaxPageSize: 1000, entries: entries, passwords: map[string]string{}, stalled: make(chan struct{}),
		stopped: make(chan struct{}), byNorm: map[string]*Entry{}}
	for _, e := range entries {
		n := norm(e.DN)
		s.normDNs = append(s.normDNs, n)
		s.byNorm[n] = e
	}
	for dn, pw := range passwords {
		s.passwords[norm(dn)] = pw
	}
	tc, pool, caPEM, err := certs()
	if err != nil {
		return nil, err
	}
	s.CAPool, s.CAPEM = pool, caPEM
	srv, err := gldap.NewServer(gldap.WithDisablePanicRecovery(), gldap.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		return nil, err
	}
	mux, err := gldap.NewMux()
	if err != nil {
		return nil, err
	}
	if err := mux.Bind(s.bind); err != nil {
		return nil, err
	}
	if err := mux.Search(s.search); err != nil {
		return nil, err
	}
	if err := srv.Router(mux); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	go srv.Run(addr, gldap.WithTLSConfig(tc))
	deadline := time.Now().Add(5 * time.Second)
	for !srv.Ready() {
		if time.Now().After(deadline) {
			srv.Stop()
			return nil, fmt.Errorf("fakead: did not start on %s", addr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.srv = srv
	s.URL = "ldaps://" + addr
	return s, nil
}

// Close stops the server; stalled searches are released. The server
// stops once every client connection has ended, which only the clients
// can do: if one is still open after CloseWait, Close returns an error
// saying to close it (an ldaporg.Reader keeps a pool of connections until
// its Close), and the server stops when the client lets go. Close may be
// called more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.stalled)
		go func() {
			s.stopErr = s.srv.Stop()
			close(s.stopped)
		}()
	})
	wait := s.CloseWait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-s.stopped:
		return s.stopErr
	case <-t.C:
		return fmt.Errorf("fakead: an LDAP client connection to %s is still open %v after Close: close what connects to the "+
			"server (ldaporg.Reader.Close, the ldapauth provider's Close) before the test ends; the server stops when it does", s.URL, wait)
	}
}

func (s *Server) bind(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewBindResponse(gldap.WithResponseCode(gldap.ResultInvalidCredentials))
	defer w.Write(resp)
	m, err := r.GetSimpleBindMessage()
	if err != nil {
		return
	}
	s.mu.Lock()
	pw, ok := s.passwords[norm(m.UserName)]
	s.mu.Unlock()
	if ok && m.Password != "" && string(m.Password) == pw {
		resp.SetResultCode(gldap.ResultSuccess)
	}
}

func (s *Server) search(w *gldap.ResponseWriter, r *gldap.Request) {
	n := s.Searches.Add(1)
	if after := s.StallAfter.Load(); after > 0 && n >= after {
		<-s.stalled
		return
	}
	done := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	m, err := r.GetSearchMessage()
	if err != nil {
		done.SetResultCode(gldap.ResultProtocolError)
		w.Write(done)
		return
	}
	f, err := ldap.CompileFilter(m.Filter)
	if err != nil {
		done.SetResultCode(gldap.ResultFilterError)
		w.Write(done)
		return
	}
	s.mu.Lock()
	var hits []*Entry
	base := norm(m.BaseDN)
	for i, e := range s.entries {
		if inScope(s.normDNs[i], base, m.Scope) && s.match(f, e) {
			hits = append(hits, e)
		}
	}
	s.mu.Unlock()
	if len(hits) == 0 && m.Scope == gldap.BaseObject {
		done.SetResultCode(gldap.ResultNoSuchObject)
		w.Write(done)
		return
	}
	// Paged results: the cookie is the offset of the next page.
	start, end := 0, len(hits)
	var paging *gldap.ControlPaging
	for _, c := range m.Controls {
		if p, ok := c.(*gldap.ControlPaging); ok && !s.NoPaging.Load() {
			paging = p
		}
	}
	if paging != nil && s.RefusePaging.Load() {
		done.SetResultCode(gldap.ResultAdminLimitExceeded)
		w.Write(done)
		return
	}
	if paging != nil && paging.PagingSize > 0 {
		if len(paging.Cookie) > 0 && !s.IgnoreCookie.Load() {
			start, _ = strconv.Atoi(string(paging.Cookie))
			if s.SlotCookies.Load() {
				s.mu.Lock()
				start = s.slots[r.ConnectionID()]
				s.mu.Unlock()
			}
			start = min(max(start, 0), len(hits))
		}
		end = min(start+min(int(paging.PagingSize), s.MaxPageSize), len(hits))
	} else {
		limit := s.MaxPageSize
		if m.SizeLimit > 0 && m.SizeLimit < int64(limit) {
			limit = int(m.SizeLimit)
		}
		if end > limit {
			end = limit
			done.SetResultCode(gldap.ResultSizeLimitExceeded)
		}
	}
	if paging != nil && s.EmptyPages.Load() {
		c, _ := gldap.NewControlPaging(paging.PagingSize)
		c.SetCookie([]byte(fmt.Sprintf("empty.%d", s.Searches.Load())))
		done.SetControls(c)
		w.Write(done)
		return
	}
	for _, e := range hits[start:end] {
		resp := r.NewSearchResponseEntry(e.DN)
		for name, vals := range s.project(e, m.Attributes) {
			resp.AddAttribute(name, vals)
		}
		w.Write(resp)
	}
	if paging != nil {
		next := ""
		if end < len(hits) {
			next = strconv.Itoa(end)
			if s.RepeatCookie.Load() {
				next = strconv.Itoa(start)
			}
			if s.IgnoreCookie.Load() {
				next = fmt.Sprintf("%d.%d", end, s.Searches.Load())
			}
			if s.SlotCookies.Load() {
				s.mu.Lock()
				if s.slots == nil {
					s.slots = map[int]int{}
				}
				s.slots[r.ConnectionID()] = end
				s.mu.Unlock()
				next = "0"
			}
		}
		c, _ := gldap.NewControlPaging(paging.PagingSize)
		c.SetCookie([]byte(next))
		if !(s.DropControl.Load() && start > 0) {
			done.SetControls(c)
		}
	}
	w.Write(done)
}

// project returns the requested attributes of e, applying range
// retrieval as AD does.
func (s *Server) project(e *Entry, want []string) map[string][]string {
	out := map[string][]string{}
	all := len(want) == 0 || slices.Contains(want, "*")
	for name, vals := range e.Attrs {
		asked := all
		for _, w := range want {
			if strings.EqualFold(w, name) {
				asked = true
			}
			// A ranged request: name;range=L-H or L-*.
			if attr, rng, ok := strings.Cut(w, ";"); ok && strings.EqualFold(attr, name) && strings.HasPrefix(strings.ToLower(rng), "range=") {
				lo, _ := strconv.Atoi(strings.TrimPrefix(strings.Split(rng[len("range="):], "-")[0], ""))
				lo = min(max(lo, 0), len(vals))
				if s.EndlessRange.Load() && len(vals) > 0 {
					out[name+";range="+strconv.Itoa(lo)+"-"+strconv.Itoa(lo)] = vals[:1]
					continue
				}
				hi := min(lo+s.MaxValRange, len(vals))
				tail := strconv.Itoa(hi - 1)
				if hi == len(vals) {
					tail = "*"
				}
				out[name+";range="+strconv.Itoa(lo)+"-"+tail] = vals[lo:hi]
			}
		}
		if !asked {
			continue
		}
		if len(vals) > s.MaxValRange {
			out[name+";range=0-"+strconv.Itoa(s.MaxValRange-1)] = vals[:s.MaxValRange]
			out[name] = nil // AD sends the plain attribute empty
			continue
		}
		out[name] = vals
	}
	if all || slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(w, "distinguishedName") }) {
		out["distinguishedName"] = []string{e.DN}
	}
	for k, v := range out {
		if v == nil {
			delete(out, k)
		}
	}
	return out
}

func inScope(dn, base string, scope gldap.Scope) bool {
	switch scope {
	case gldap.BaseObject:
		return dn == base
	case gldap.SingleLevel:
		_, parent, ok := strings.Cut(dn, ",")
		return ok && parent == base
	default:
		return dn == base || strings.HasSuffix(dn, ","+base)
	}
}

func norm(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(dn)
	}
	var parts []string
	for _, r := range p.RDNs {
		var avs []string
		for _, a := range r.Attributes {
			avs = append(avs, strings.ToLower(a.Type)+"="+strings.ToLower(a.Value))
		}
		parts = append(parts, strings.Join(avs, "+"))
	}
	return strings.Join(parts, ",")
}

func (s *Server) values(e *Entry, attr string) []string {
	if strings.EqualFold(attr, "distinguishedName") {
		return []string{e.DN}
	}
	for k, v := range e.Attrs {
		if strings.EqualFold(k, attr) {
			return v
		}
	}
	return nil
}

func (s *Server) byDN(dn string) *Entry { return s.byNorm[norm(dn)] }

// match evaluates a compiled filter against e (s.mu held).
func (s *Server) match(f *ber.Packet, e *Entry) bool {
	switch f.Tag {
	case ldap.FilterAnd:
		for _, c := range f.Children {
			if !s.match(c, e) {
				return false
			}
		}
		return true
	case ldap.FilterOr:
		for _, c := range f.Children {
			if s.match(c, e) {
				return true
			}
		}
		return false
	case ldap.FilterNot:
		return !s.match(f.Children[0], e)
	case ldap.FilterPresent:
		return len(s.values(e, f.Data.String())) > 0 || strings.EqualFold(f.Data.String(), "objectClass")
	case ldap.FilterEqualityMatch:
		attr, want := f.Children[0].Value.(string), f.Children[1].Value.(string)
		for _, v := range s.values(e, attr) {
			if strings.EqualFold(v, want) || (isDNAttr(attr) && norm(v) == norm(want)) {
				return true
			}
		}
		return false
	case ldap.FilterSubstrings:
		attr := f.Children[0].Value.(string)
		for _, v := range s.values(e, attr) {
			if substrMatch(strings.ToLower(v), f.Children[1].Children) {
				return true
			}
		}
		return false
	case ldap.FilterExtensibleMatch:
		var rule, attr, value string
		for _, c := range f.Children {
			switch c.Tag {
			case ldap.MatchingRuleAssertionMatchingRule:
				rule = c.Data.String()
			case ldap.MatchingRuleAssertionType:
				attr = c.Data.String()
			case ldap.MatchingRuleAssertionMatchValue:
				value = c.Data.String()
			}
		}
		if rule != "1.2.840.113556.1.4.1941" {
			return false
		}
		return s.inChain(e, attr, norm(value), map[string]bool{})
	}
	return false
}

// inChain reports whether e reaches target through attr (member or
// memberOf) transitively.
func (s *Server) inChain(e *Entry, attr, target string, seen map[string]bool) bool {
	for _, v := range s.values(e, attr) {
		n := norm(v)
		if n == target {
			return true
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		if next := s.byDN(v); next != nil && s.inChain(next, attr, target, seen) {
			return true
		}
	}
	return false
}

func isDNAttr(a string) bool {
	switch strings.ToLower(a) {
	case "member", "memberof", "distinguishedname", "manager":
		return true
	}
	return false
}

func substrMatch(v string, parts []*ber.Packet) bool {
	for i, p := range parts {
		s := strings.ToLower(p.Data.String())
		switch p.Tag {
		case ldap.FilterSubstringsInitial:
			if !strings.HasPrefix(v, s) {
				return false
			}
			v = v[len(s):]
		case ldap.FilterSubstringsAny:
			j := strings.Index(v, s)
			if j < 0 {
				return false
			}
			v = v[j+len(s):]
		case ldap.FilterSubstringsFinal:
			if i != len(parts)-1 || !strings.HasSuffix(v, s) {
				return false
			}
		}
	}
	return true
}

// certs makes a CA and a server certificate for 127.0.0.1.
func certs() (*tls.Config, *x509.CertPool, string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, "", err
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fakead CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, "", err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, "", err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, "", err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool, caPEM, nil
}

// String describes the server.
func (s *Server) String() string { return fmt.Sprintf("fakead %s", s.URL) }
