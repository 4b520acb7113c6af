package ldapconn_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/leakcheck"
	"github.com/scmkit/scmkit/org/ldaporg/ldapconn"
)

var (
	slapd     *testsvc.Slapd
	launchErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ldapconn-slapd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var stop func()
	slapd, stop, launchErr = testsvc.LaunchSlapd(dir, &testsvc.SlapdOptions{LDIF: []byte(aliceLDIF)})
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.RemoveAll(dir)
	os.Exit(leakcheck.After(code)) // every connection (and its go-ldap reader) closes on every path
}

const aliceLDIF = `dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: A
userPassword: alice-pw
`

// shared returns the package's slapd, failing (CI) or skipping the test
// when it is not installed.
func shared(t *testing.T) *testsvc.Slapd {
	t.Helper()
	testsvc.Require(t, "slapd", "slapd ldap-utils", "/usr/sbin")
	if slapd == nil {
		t.Fatalf("slapd did not start: %v", launchErr)
	}
	return slapd
}

func opts(s *testsvc.Slapd, url string) ldapconn.Options {
	return ldapconn.Options{
		URL:          url,
		TLS:          s.TLSConfig(),
		BindDN:       testsvc.SlapdServiceDN,
		BindPassword: integrations.NewSecret(testsvc.SlapdServicePassword),
		MaxConns:     2,
	}
}

func searchAlice(t *testing.T, p *ldapconn.Pool) error {
	t.Helper()
	ctx := t.Context()
	c, err := p.Get(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	res, err := c.Search(ctx, ldap.NewSearchRequest(testsvc.SlapdPeopleDN, ldap.ScopeSingleLevel, 0, 0, 0, false, "(uid=alice)", []string{"uid"}, nil))
	if err != nil {
		return err
	}
	if len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("uid") != "alice" {
		t.Fatalf("entries = %v", res.Entries)
	}
	return nil
}

func TestTransports(t *testing.T) {
	s := shared(t)
	f := false
	other, _ := x509.SystemCertPool()
	if other == nil {
		other = x509.NewCertPool()
	}
	tests := []struct {
		name    string
		mod     func(o *ldapconn.Options)
		newErr  bool
		getCode errcode.Code
	}{
		{name: "ldaps", mod: func(o *ldapconn.Options) {}},
		{name: "starttls by default on ldap://", mod: func(o *ldapconn.Options) { o.URL = s.LDAPURL }},
		{name: "plain refused without insecure", mod: func(o *ldapconn.Options) { o.URL = s.LDAPURL; o.StartTLS = &f }, newErr: true},
		{name: "plain with insecure", mod: func(o *ldapconn.Options) { o.URL = s.LDAPURL; o.StartTLS = &f; o.Insecure = true }},
		{name: "skip verify refused without insecure", mod: func(o *ldapconn.Options) { o.SkipVerify = true }, newErr: true},
		{name: "untrusted CA on ldaps", mod: func(o *ldapconn.Options) { o.TLS.RootCAs = other }, getCode: errcode.Unavailable},
		{name: "untrusted CA on starttls", mod: func(o *ldapconn.Options) { o.URL = s.LDAPURL; o.TLS.RootCAs = other }, getCode: errcode.Unavailable},
		{name: "wrong host name", mod: func(o *ldapconn.Options) { o.TLS.ServerName = "ldap.example.net" }, getCode: errcode.Unavailable},
		{name: "bad service password", mod: func(o *ldapconn.Options) { o.BindPassword = integrations.NewSecret("nope") }, getCode: errcode.Unauthorized},
		{name: "url with credentials", mod: func(o *ldapconn.Options) { o.URL = "ldaps://u:p@127.0.0.1" }, newErr: true},
		{name: "http url", mod: func(o *ldapconn.Options) { o.URL = "http://127.0.0.1" }, newErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts(s, s.LDAPSURL)
			tt.mod(&o)
			p, err := ldapconn.New(o)
			if tt.newErr {
				if errcode.CodeOf(err) != errcode.InvalidArgument {
					t.Fatalf("New: err = %v, want InvalidArgument", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			err = searchAlice(t, p)
			if got := errcode.CodeOf(err); got != tt.getCode {
				t.Fatalf("err = %v (code %v), want %v", err, got, tt.getCode)
			}
			if err != nil && errors.Is(err, errcode.ErrUnavailable) {
				if want := "not trusted"; !contains(err.Error(), want) {
					t.Errorf("err = %v, want it to say %q", err, want)
				}
			}
		})
	}
}

func TestExpiredCertificate(t *testing.T) {
	s := testsvc.StartSlapd(t, &testsvc.SlapdOptions{ExpiredCert: true})
	for _, url := range []string{s.LDAPSURL, s.LDAPURL} {
		p, err := ldapconn.New(opts(s, url))
		if err != nil {
			t.Fatal(err)
		}
		err = searchAlice(t, p)
		if errcode.CodeOf(err) != errcode.Unavailable || !contains(err.Error(), "not trusted") {
			t.Errorf("%s: err = %v, want Unavailable, not trusted", url, err)
		}
		if st := p.Stats(); st.Binds != 0 {
			t.Errorf("%s: %d binds sent over an untrusted connection", url, st.Binds)
		}
	}
}

func TestEmptyPasswordNeverSent(t *testing.T) {
	s := shared(t)
	o := opts(s, s.LDAPSURL)
	o.BindDN = ""
	p, err := ldapconn.New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := p.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	err = c.Bind(t.Context(), "uid=alice,"+testsvc.SlapdPeopleDN, "")
	if errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Fatalf("err = %v, want InvalidArgument", err)
	}
	if st := p.Stats(); st.Binds != 0 {
		t.Fatalf("binds = %d, want 0", st.Binds)
	}
}

func TestPoolBoundAndReused(t *testing.T) {
	s := shared(t)
	p, err := ldapconn.New(opts(s, s.LDAPSURL))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- searchAlice(t, p) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := p.Stats(); st.Dials > 2 || st.Searches != 20 || st.Binds != st.Dials {
		t.Fatalf("stats = %+v, want at most 2 dials, 20 searches, one bind per dial", st)
	}
	// A full pool makes the next caller wait until its context ends.
	c1, _ := p.Get(t.Context())
	c2, _ := p.Get(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Get(ctx); errcode.CodeOf(err) != errcode.DeadlineExceeded {
		t.Fatalf("Get on a full pool: %v, want DeadlineExceeded", err)
	}
	c1.Release()
	c2.Release()
}

// stallProxy forwards to target until stall is called, then stops
// forwarding the server's bytes on the connections open at that moment
// (a server that stops answering); later connections work.
func stallProxy(t *testing.T, target string) (addr string, stall func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	var conns []*atomic.Bool
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			t.Cleanup(func() { c.Close(); s.Close() })
			stalled := new(atomic.Bool)
			mu.Lock()
			conns = append(conns, stalled)
			mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := s.Read(buf)
					if err != nil {
						c.Close()
						return
					}
					if stalled.Load() {
						continue // swallow: the server "stopped answering"
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String(), func() {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range conns {
			b.Store(true)
		}
	}
}

func TestServerStopsAnswering(t *testing.T) {
	// Each operation's bound. The service account's bind in Get has it
	// too, so it is not the tight 300ms this test used: a bind delayed
	// that long by a loaded machine (-race on two cores) failed the Get
	// before the stall the test is about.
	p, d, err := searchStalled(t, t.Context(), func(o *ldapconn.Options) { o.Timeout = time.Second })
	if err == nil {
		t.Fatal("search through a stalled server succeeded")
	}
	if d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	if c := errcode.CodeOf(err); c != errcode.DeadlineExceeded {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if st := p.Stats(); st.Dials != 1 {
		t.Fatalf("dials = %d", st.Dials)
	}
	notReused(t, p, "stalled")
}

func TestContextCancelClosesConnection(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	p, d, err := searchStalled(t, ctx, nil)
	if errcode.CodeOf(err) != errcode.DeadlineExceeded {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if d > 2*time.Second {
		t.Fatalf("stopped after %v, want about 200ms", d)
	}
	notReused(t, p, "interrupted")
}

// searchStalled opens a pool (its options changed by mod, when not nil)
// to the shared slapd through a proxy, takes a connection, stalls the
// proxy and searches on that connection with ctx. It returns the pool
// (closed when the test ends), the search's error and how long it took.
func searchStalled(t *testing.T, ctx context.Context, mod func(*ldapconn.Options)) (*ldapconn.Pool, time.Duration, error) {
	t.Helper()
	s := shared(t)
	addr, stall := stallProxy(t, s.LDAPSURL[len("ldaps://"):])
	o := opts(s, "ldaps://"+addr)
	if mod != nil {
		mod(&o)
	}
	p, err := ldapconn.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	c, err := p.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stall()
	start := time.Now()
	_, err = c.Search(ctx, ldap.NewSearchRequest(testsvc.SlapdSuffix, ldap.ScopeWholeSubtree, 0, 0, 0, false, "(objectClass=*)", nil, nil))
	c.Release()
	return p, time.Since(start), err
}

// notReused checks that the next Get dials a new connection instead of
// reusing the one that failed (what: how it failed), and that Close
// leaves no connection open.
func notReused(t *testing.T, p *ldapconn.Pool, what string) {
	t.Helper()
	before := p.Stats().Dials
	c, err := p.Get(t.Context())
	if err == nil {
		c.Release()
	}
	if p.Stats().Dials != before+1 {
		t.Fatalf("dials = %d, want %d (%s connection reused)", p.Stats().Dials, before+1, what)
	}
	p.Close()
	if open := p.Stats().Open; open != 0 {
		t.Fatalf("%d connections left open", open)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub))
}
