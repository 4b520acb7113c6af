// Package ldapconn dials LDAP directories safely and keeps a bounded pool of
// connections to them, for the LDAP org reader (org/ldaporg) and the LDAP
// sign-in (auth/ldapauth).
//
// TLS is the default: an ldaps:// URL speaks TLS from the first byte, an
// ldap:// URL is upgraded with StartTLS before anything else is sent, and
// the server certificate is always verified (against the system roots or a
// custom CA). Plain LDAP is possible only with [Options.Insecure].
//
// Every operation takes a context and stops when it ends: the connection is
// closed under the operation (go-ldap's API takes no context) and is never
// returned to the pool. Errors are *errcode.Error values whose message
// never contains a password.
package ldapconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact"
)

// Options configures a [Pool]. Only URL is required.
type Options struct {
	// URL is the directory: ldaps://host[:636] or ldap://host[:389].
	URL string
	// StartTLS upgrades an ldap:// connection with StartTLS. It defaults to
	// true for ldap:// URLs; setting it to false needs Insecure.
	StartTLS *bool
	// Insecure allows plain LDAP (ldap:// without StartTLS) and skipping
	// certificate verification. Passwords then cross the network in
	// clear; never use it outside a test bench.
	Insecure bool
	// SkipVerify disables certificate verification; it needs Insecure.
	SkipVerify bool
	// TLS is the base client TLS configuration (RootCAs for a custom CA,
	// client certificates). Nil means the system roots. ServerName
	// defaults to the URL's host.
	TLS *tls.Config
	// BindDN and BindPassword are the account every pooled connection binds
	// as before use (the service account). An empty BindDN leaves the
	// connections anonymous.
	BindDN       string
	BindPassword integrations.Secret
	// MaxConns bounds the number of open connections; callers beyond it
	// wait for one to be released. Default 4.
	MaxConns int
	// Timeout bounds each operation when the context has no earlier
	// deadline. Default 30 s.
	Timeout time.Duration
	// DialTimeout bounds connecting, including TLS. Default 5 s.
	DialTimeout time.Duration
	// IdleTimeout closes connections idle for longer. Default 1 min.
	IdleTimeout time.Duration
	// DialContext replaces net.Dialer.DialContext (tests inject faults).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now replaces time.Now.
	Now func() time.Time
}

// Stats counts what a pool sent, since it was made.
type Stats struct {
	Dials    int64 // connections opened
	Searches int64 // search requests, one per page
	Binds    int64 // bind requests, including the service account's
	StartTLS int64 // StartTLS extended operations
	Open     int64 // connections open now (idle or in use)
}

// Ops returns the number of LDAP operations other than StartTLS.
func (s Stats) Ops() int64 { return s.Searches + s.Binds }

// Pool is a bounded pool of connections to one directory, safe for
// concurrent use. The zero Pool is not usable; make one with [New].
type Pool struct {
	opts     Options
	u        *url.URL
	tlsConf  *tls.Config
	starttls bool
	sem      chan struct{}

	mu     sync.Mutex
	idle   []*Conn
	closed bool

	dials, searches, binds, starttlsN, open atomic.Int64
}

// Host returns the directory's host:port, for error messages.
func (p *Pool) Host() string { return p.u.Host }

// URL returns the directory's URL.
func (p *Pool) URL() string { return p.u.String() }

// PlainText reports whether the pool's connections are unencrypted.
func (p *Pool) PlainText() bool { return p.u.Scheme == "ldap" && !p.starttls }

// New checks opts and returns a pool; it opens no connection.
func New(opts Options) (*Pool, error) {
	const op = "ldapconn.New"
	u, err := url.Parse(opts.URL)
	if err != nil || u.Host == "" || (u.Scheme != "ldap" && u.Scheme != "ldaps") {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "url must be ldaps://host[:port] or ldap://host[:port], got %q", redact.URL(opts.URL))
	}
	if u.User != nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "url must not carry credentials")
	}
	if u.Port() == "" {
		port := "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	u.Path, u.RawQuery, u.Fragment = "", "", ""
	starttls := u.Scheme == "ldap"
	if opts.StartTLS != nil {
		starttls = *opts.StartTLS && u.Scheme == "ldap"
	}
	if u.Scheme == "ldap" && !starttls && !opts.Insecure {
		return nil, errcode.New(errcode.InvalidArgument, op, "plain ldap:// without StartTLS sends passwords in clear: use ldaps://, StartTLS, or set insecure explicitly")
	}
	if opts.SkipVerify && !opts.Insecure {
		return nil, errcode.New(errcode.InvalidArgument, op, "skipping certificate verification needs insecure set explicitly")
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.TLS != nil {
		tc = opts.TLS.Clone()
		if tc.MinVersion == 0 {
			tc.MinVersion = tls.VersionTLS12
		}
	}
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	tc.InsecureSkipVerify = opts.SkipVerify
	if opts.MaxConns <= 0 {
		opts.MaxConns = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 5 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DialContext == nil {
		d := &net.Dialer{}
		opts.DialContext = d.DialContext
	}
	return &Pool{opts: opts, u: u, tlsConf: tc, starttls: starttls, sem: make(chan struct{}, opts.MaxConns)}, nil
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	return Stats{Dials: p.dials.Load(), Searches: p.searches.Load(), Binds: p.binds.Load(), StartTLS: p.starttlsN.Load(), Open: p.open.Load()}
}

// Close closes the idle connections; connections in use are closed when
// released, and so are those of a Get after Close. The pool starts no
// goroutine of its own (each open connection has go-ldap's reader, which
// ends with it). Close may be called more than once; it returns nil.
func (p *Pool) Close() error {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		p.closeConn(c)
	}
	return nil
}

// closeConn closes l and counts it out, once.
func (p *Pool) closeConn(c *Conn) {
	if c.closed.CompareAndSwap(false, true) {
		c.l.Close()
		p.open.Add(-1)
	}
}

// Conn is a connection taken from a [Pool]. It must be released with
// [Conn.Release] exactly once; it is not safe for concurrent use.
type Conn struct {
	p        *Pool
	l        *ldap.Conn
	broken   bool
	boundAs  string // "" anonymous or unknown after a failed bind
	lastUsed time.Time
	released bool
	closed   atomic.Bool
}

// Get returns a connection bound as the pool's BindDN (if any), waiting
// for a free slot while MaxConns are in use, or until ctx ends.
func (p *Pool) Get(ctx context.Context) (*Conn, error) {
	const op = "ldap.Connect"
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, errcode.FromContext(ctx, op)
	}
	for {
		c := p.popIdle()
		if c == nil {
			break
		}
		if c.l.IsClosing() || p.opts.Now().Sub(c.lastUsed) > p.opts.IdleTimeout {
			p.closeConn(c)
			continue
		}
		// A connection someone re-bound (a user's bind) goes back to the
		// service account. Connections of a pool without BindDN keep the
		// last bind: such a pool is for binding, not for searching.
		if p.opts.BindDN != "" && c.boundAs != p.opts.BindDN {
			if err := c.bindService(ctx); err != nil {
				c.Release()
				return nil, err
			}
		}
		return c, nil
	}
	c, err := p.dial(ctx)
	if err != nil {
		<-p.sem
		return nil, err
	}
	if p.opts.BindDN != "" {
		if err := c.bindService(ctx); err != nil {
			c.Release()
			return nil, err
		}
	}
	return c, nil
}

func (p *Pool) popIdle() *Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	c := p.idle[n-1]
	p.idle = p.idle[:n-1]
	c.released = false
	return c
}

func (p *Pool) dial(ctx context.Context) (*Conn, error) {
	const op = "ldap.Connect"
	dctx, cancel := context.WithTimeout(ctx, p.opts.DialTimeout)
	defer cancel()
	p.dials.Add(1)
	nc, err := p.opts.DialContext(dctx, "tcp", p.u.Host)
	if err != nil {
		if cerr := errcode.FromContext(ctx, op); cerr != nil {
			return nil, cerr
		}
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: "ldap", Host: p.u.Host, Err: scrubNetErr(err)}
	}
	isTLS := p.u.Scheme == "ldaps"
	if isTLS {
		tc := tls.Client(nc, p.tlsConf)
		if err := tc.HandshakeContext(dctx); err != nil {
			nc.Close()
			if cerr := errcode.FromContext(ctx, op); cerr != nil {
				return nil, cerr
			}
			return nil, tlsError(op, p.u.Host, err)
		}
		nc = tc
	}
	l := ldap.NewConn(nc, isTLS)
	l.Start()
	p.open.Add(1)
	c := &Conn{p: p, l: l, lastUsed: p.opts.Now()}
	if p.starttls {
		p.starttlsN.Add(1)
		err := c.do(dctx, op, func() error { return l.StartTLS(p.tlsConf) })
		if err != nil {
			p.closeConn(c)
			var e *errcode.Error
			if errors.As(err, &e) && e.Code != errcode.Canceled && e.Code != errcode.DeadlineExceeded && strings.Contains(err.Error(), "TLS handshake") {
				return nil, tlsError(op, p.u.Host, err)
			}
			return nil, err
		}
	}
	return c, nil
}

func tlsError(op, host string, err error) error {
	msg := "TLS handshake failed"
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var hn x509.HostnameError
	switch {
	case errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &hn) || strings.Contains(err.Error(), "x509:"):
		msg = "the server's certificate is not trusted (expired, wrong host or unknown CA); if the directory uses a private CA, give it in its TLS settings (tls.ca (PEM) or tls.caFile (a path) of an org provider, ldapOpts.tlsOptions.ca or caFile of the LDAP sign-in)"
	}
	return &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: "ldap", Host: host, Msg: msg, Err: err}
}

func (c *Conn) bindService(ctx context.Context) error {
	err := c.Bind(ctx, c.p.opts.BindDN, c.p.opts.BindPassword.Reveal())
	if err != nil {
		var e *errcode.Error
		if errors.As(err, &e) && e.Code == errcode.Unauthorized {
			e.Msg = "the service account's bind was refused (check bind DN and secret)"
		}
		return err
	}
	return nil
}

// Release returns c to its pool, or closes it when it is broken, was
// interrupted, or the pool is closed.
func (c *Conn) Release() {
	if c == nil || c.released {
		return
	}
	c.released = true
	p := c.p
	defer func() { <-p.sem }()
	if c.broken || c.l.IsClosing() {
		p.closeConn(c)
		return
	}
	c.lastUsed = p.opts.Now()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.closeConn(c)
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// Discard closes c instead of returning it to the pool, and releases its
// slot.
func (c *Conn) Discard() {
	if c == nil || c.released {
		return
	}
	c.broken = true
	c.Release()
}

// do runs f with the connection closed under it when ctx ends, and with
// go-ldap's per-request timeout set to what is left of the operation's
// time. A failure that did not come from the server marks c broken.
func (c *Conn) do(ctx context.Context, op string, f func() error) error {
	if err := errcode.FromContext(ctx, op); err != nil {
		return err
	}
	timeout := c.p.opts.Timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = max(left, time.Millisecond)
		}
	}
	c.l.SetTimeout(timeout)
	stop := context.AfterFunc(ctx, func() { c.l.Close() })
	err := f()
	if !stop() {
		c.broken = true
		return errcode.FromContext(ctx, op)
	}
	if err == nil {
		return nil
	}
	var le *ldap.Error
	if !errors.As(err, &le) || le.ResultCode >= 200 {
		c.broken = true
	}
	return c.p.mapError(op, err)
}

// Bind binds c as dn with password. An empty password is refused before any
// request is sent: an LDAP simple bind with a DN and no password is an
// unauthenticated bind that many servers answer with success.
func (c *Conn) Bind(ctx context.Context, dn, password string) error {
	const op = "ldap.Bind"
	if password == "" {
		return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: "ldap", Host: c.p.u.Host, Msg: "empty password refused (it would be an unauthenticated bind)"}
	}
	c.boundAs = ""
	c.p.binds.Add(1)
	err := c.do(ctx, op, func() error {
		_, err := c.l.SimpleBind(&ldap.SimpleBindRequest{Username: dn, Password: password})
		return err
	})
	if err == nil {
		c.boundAs = dn
	}
	return err
}

// BoundAs returns the DN c is bound as, "" when anonymous or unknown.
func (c *Conn) BoundAs() string { return c.boundAs }

// Search runs one search request (one page when req carries a paging
// control).
func (c *Conn) Search(ctx context.Context, req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	const op = "ldap.Search"
	var res *ldap.SearchResult
	c.p.searches.Add(1)
	err := c.do(ctx, op, func() error {
		var err error
		res, err = c.l.Search(req)
		return err
	})
	if err != nil {
		return res, err
	}
	return res, nil
}

// mapError classifies an LDAP error; it is the one place that does.
func (p *Pool) mapError(op string, err error) error {
	e := &errcode.Error{Code: errcode.Unknown, Op: op, Provider: "ldap", Host: p.u.Host, Err: err}
	var le *ldap.Error
	if !errors.As(err, &le) {
		e.Code = errcode.Unavailable
		return e
	}
	switch le.ResultCode {
	case ldap.LDAPResultInvalidCredentials, ldap.LDAPResultConstraintViolation, ldap.LDAPResultInappropriateAuthentication:
		e.Code = errcode.Unauthorized
	case ldap.LDAPResultInsufficientAccessRights, ldap.LDAPResultConfidentialityRequired, ldap.LDAPResultStrongAuthRequired:
		e.Code = errcode.PermissionDenied
	case ldap.LDAPResultNoSuchObject:
		e.Code = errcode.NotFound
	case ldap.LDAPResultSizeLimitExceeded:
		// Not RateLimited: no wait makes the same search fit.
		e.Code = errcode.InvalidArgument
		e.Msg = "the directory's size limit was reached (sizeLimit, or the server's own); use paged searches (on OpenLDAP, with limits that give the account searching size.prtotal=unlimited) or a narrower filter"
	case ldap.LDAPResultAdminLimitExceeded, ldap.LDAPResultTimeLimitExceeded:
		e.Code = errcode.Unavailable
		e.Msg = "the directory's time or administrative limit was reached (timeLimit, or the server's own); try a narrower filter, or later"
	case ldap.LDAPResultReferral:
		e.Code = errcode.Unimplemented
		e.Msg = "the directory answered with a referral, which is not followed"
	case ldap.LDAPResultInvalidDNSyntax, ldap.LDAPResultFilterError, ldap.ErrorFilterCompile, ldap.ErrorFilterDecompile, ldap.LDAPResultProtocolError:
		e.Code = errcode.InvalidArgument
	case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultUnwillingToPerform, ldap.ErrorNetwork:
		e.Code = errcode.Unavailable
		if strings.Contains(err.Error(), "timed out") {
			e.Code = errcode.DeadlineExceeded
			e.Msg = "the directory stopped answering"
		}
	}
	return e
}

// scrubNetErr keeps a dial error's text but not a wrapped URL.
func scrubNetErr(err error) error { return errors.New(err.Error()) }

// String describes the pool without secrets.
func (p *Pool) String() string {
	return fmt.Sprintf("ldapconn.Pool{%s bind=%q max=%d}", p.u, p.opts.BindDN, p.opts.MaxConns)
}
