package ldapauth_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/leakcheck"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/org/ldaporg/fakead"
)

var (
	slapd     *testsvc.Slapd
	launchErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ldapauth-slapd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	seed, err := os.ReadFile("testdata/users.ldif")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var stop func()
	slapd, stop, launchErr = testsvc.LaunchSlapd(dir, &testsvc.SlapdOptions{LDIF: seed})
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.RemoveAll(dir)
	os.Exit(leakcheck.After(code)) // every connection (and its go-ldap reader) closes on every path
}

func need(t testing.TB) *testsvc.Slapd {
	t.Helper()
	testsvc.Require(t, "slapd", "slapd ldap-utils", "/usr/sbin")
	if slapd == nil {
		t.Fatalf("slapd did not start: %v", launchErr)
	}
	return slapd
}

// baseConfig is what a Backstage user writes, with the test CA.
func baseConfig(s *testsvc.Slapd) ldapauth.Config {
	var c ldapauth.Config
	a := &c.LDAPAuthenticationOptions
	a.UserSearchBase = testsvc.SlapdPeopleDN
	a.AdminDN = testsvc.SlapdServiceDN
	a.AdminPassword = integrations.NewSecret(testsvc.SlapdServicePassword)
	a.LDAPOpts.URL = ldapauth.StringList{s.LDAPSURL}
	a.LDAPOpts.TLSOptions.CA = ldapauth.StringList{string(s.CAPEM)}
	return c
}

func newAuth(t testing.TB, c ldapauth.Config, o *ldapauth.Options) *ldapauth.Authenticator {
	t.Helper()
	a, err := ldapauth.New(c, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestSignIn(t *testing.T) {
	s := need(t)
	a := newAuth(t, baseConfig(s), nil)
	r, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	want := auth.Identity{Provider: "ldap", Issuer: s.LDAPSURL, Subject: "uid=alice,ou=people,dc=example,dc=org",
		Login: "alice", Email: "alice@example.org", DisplayName: "Alice Liddell", DN: "uid=alice,ou=people,dc=example,dc=org"}
	if r.Identity != want {
		t.Errorf("identity = %+v\nwant %+v", r.Identity, want)
	}
	if !slices.Equal(r.Groups, []string{"cn=devs,ou=groups,dc=example,dc=org"}) || !slices.Equal(r.GroupNames, []string{"devs"}) {
		t.Errorf("groups = %v %v", r.Groups, r.GroupNames)
	}
	// The username attribute's stored value is the login, whatever case
	// was typed.
	r, err = a.AuthenticateFrom(t.Context(), "ALICE", "alice-password", "")
	if err != nil || r.Identity.Login != "alice" {
		t.Fatalf("ALICE: %v, %+v", err, r)
	}
	// Through the PasswordProvider interface: no tokens.
	si, err := a.Authenticate(t.Context(), "bob", "bob-password")
	if err != nil {
		t.Fatal(err)
	}
	if si.Identity.Login != "bob" || si.Identity.DisplayName != "Bob" || si.Tokens != (auth.Tokens{}) {
		t.Errorf("signin = %+v", si)
	}
}

func TestSignInWithGroupSearch(t *testing.T) {
	s := need(t)
	c := baseConfig(s)
	c.Groups = &ldapauth.GroupsConfig{SearchBase: testsvc.SlapdGroupsDN, Filter: "(objectClass=groupOfNames)"}
	a := newAuth(t, c, nil)
	r, err := a.AuthenticateFrom(t.Context(), "bob", "bob-password", "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.GroupNames, []string{"ops"}) || r.Identity.Email != "bob@example.org" {
		t.Errorf("result = %+v", r)
	}
}

func TestStartTLSAndCAFile(t *testing.T) {
	s := need(t)
	c := baseConfig(s)
	c.LDAPAuthenticationOptions.LDAPOpts.URL = ldapauth.StringList{s.LDAPURL}
	c.LDAPAuthenticationOptions.LDAPOpts.TLSOptions.CA = nil
	c.LDAPAuthenticationOptions.LDAPOpts.TLSOptions.CAFile = s.Dir + "/ca.pem"
	a := newAuth(t, c, nil)
	if _, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", ""); err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st.StartTLS == 0 {
		t.Errorf("no StartTLS sent: %+v", st)
	}
}

func TestUntrustedServerRefused(t *testing.T) {
	s := need(t)
	c := baseConfig(s)
	c.LDAPAuthenticationOptions.LDAPOpts.TLSOptions.CA = nil // system roots do not know the test CA
	a := newAuth(t, c, nil)
	_, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", "")
	if errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("err = %v, want Unavailable: not trusted", err)
	}
	if st := a.Stats(); st.Binds != 0 || st.Searches != 0 {
		t.Fatalf("sent %+v to an untrusted server", st)
	}
}

func TestExpiredServerCertificate(t *testing.T) {
	s := testsvc.StartSlapd(t, &testsvc.SlapdOptions{ExpiredCert: true})
	a := newAuth(t, baseConfig(s), nil)
	_, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", "")
	if errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("err = %v, want Unavailable: not trusted", err)
	}
}

func TestInsecureNeedsFlagAndWarnsOnce(t *testing.T) {
	s := need(t)
	no := false
	c := baseConfig(s)
	c.LDAPAuthenticationOptions.LDAPOpts.URL = ldapauth.StringList{s.LDAPURL}
	c.LDAPAuthenticationOptions.StartTLS = &no
	if _, err := ldapauth.New(c, nil); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Fatalf("plain LDAP without insecure: %v", err)
	}
	c2 := baseConfig(s)
	c2.LDAPAuthenticationOptions.LDAPOpts.TLSOptions.RejectUnauthorized = &no
	if _, err := ldapauth.New(c2, nil); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Fatalf("rejectUnauthorized false without insecure: %v", err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c.Insecure = true
	a := newAuth(t, c, &ldapauth.Options{Logger: log})
	for range 3 {
		if _, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "insecure"); n != 1 {
		t.Fatalf("%d insecure warnings, want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "alice-password") || strings.Contains(logs.String(), testsvc.SlapdServicePassword) {
		t.Fatal("a password was logged")
	}
}

// TestBadInput: every case gives a clear error; the ones refused before
// any request send nothing; none signs anybody in.
func TestBadInput(t *testing.T) {
	s := need(t)
	a := newAuth(t, baseConfig(s), &ldapauth.Options{})
	tests := []struct {
		name, user, pw string
		code           errcode.Code
		noRequest      bool
	}{
		{name: "empty password", user: "alice", pw: "", code: errcode.InvalidArgument, noRequest: true},
		{name: "empty username", user: "", pw: "x", code: errcode.InvalidArgument, noRequest: true},
		{name: "NUL in username", user: "alice\x00", pw: "alice-password", code: errcode.InvalidArgument, noRequest: true},
		{name: "newline in username", user: "alice\n", pw: "alice-password", code: errcode.InvalidArgument, noRequest: true},
		{name: "over-long username", user: strings.Repeat("a", ldapauth.MaxUsernameLength+1), pw: "x", code: errcode.InvalidArgument, noRequest: true},
		{name: "over-long password", user: "alice", pw: strings.Repeat("p", 2000), code: errcode.InvalidArgument, noRequest: true},
		{name: "invalid UTF-8", user: "al\xffice", pw: "x", code: errcode.InvalidArgument, noRequest: true},
		{name: "wildcard", user: "*", pw: "alice-password", code: errcode.Unauthorized},
		{name: "prefix wildcard", user: "ali*", pw: "alice-password", code: errcode.Unauthorized},
		{name: "filter injection", user: "alice)(uid=*", pw: "alice-password", code: errcode.Unauthorized},
		{name: "filter injection or", user: "*)(|(uid=*", pw: "alice-password", code: errcode.Unauthorized},
		{name: "backslash escape", user: `alice\2a`, pw: "alice-password", code: errcode.Unauthorized},
		{name: "DN injection", user: "uid=alice,ou=people,dc=example,dc=org", pw: "alice-password", code: errcode.Unauthorized},
		{name: "DN injection suffix", user: "alice,ou=people,dc=example,dc=org", pw: "alice-password", code: errcode.Unauthorized},
		{name: "ambiguous username", user: "twin", pw: "twin-password", code: errcode.Unauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.Stats()
			r, err := a.AuthenticateFrom(t.Context(), tt.user, tt.pw, "")
			if r != nil || errcode.CodeOf(err) != tt.code {
				t.Fatalf("result %+v, err %v; want code %v", r, err, tt.code)
			}
			if tt.noRequest && a.Stats() != before {
				t.Fatalf("requests sent: %+v -> %+v", before, a.Stats())
			}
			if strings.Contains(err.Error(), tt.pw) && tt.pw != "" {
				t.Fatal("error shows the password")
			}
		})
	}
	// A username made of filter metacharacters is escaped exactly once: its
	// owner signs in.
	r, err := a.AuthenticateFrom(t.Context(), `o*hara (ops)\`, "hara-password", "")
	if err != nil || r.Identity.Login != `o*hara (ops)\` {
		t.Fatalf("o*hara: %v %+v", err, r)
	}
	// No connection leaked: at most one idle per pool, none after Close.
	if open := a.Stats().Open; open > 2 {
		t.Errorf("%d connections open", open)
	}
	a.Close()
	if open := a.Stats().Open; open != 0 {
		t.Errorf("%d connections open after Close", open)
	}
}

// slowConn delays every request written, as a directory across a slow
// link would: one fixed delay per operation, however the server's answer
// is split into reads (which varies from run to run, most under the race
// detector). The delay dominates scheduling noise, so the timing
// comparison below is stable.
type slowConn struct {
	net.Conn
	delay time.Duration
}

func (c slowConn) Write(p []byte) (int, error) {
	time.Sleep(c.delay)
	return c.Conn.Write(p)
}

func TestSameErrorForUnknownUserAndWrongPassword(t *testing.T) {
	s := need(t)
	c := baseConfig(s)
	c.Backoff = &ldapauth.BackoffConfig{FreeAttempts: 100}
	var d net.Dialer
	slow := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return slowConn{nc, 15 * time.Millisecond}, nil
	}
	a := newAuth(t, c, &ldapauth.Options{DialContext: slow})
	ctx := t.Context()
	// Warm the pools so both paths start alike.
	for range 3 {
		if _, err := a.AuthenticateFrom(ctx, "alice", "alice-password", ""); err != nil {
			t.Fatal(err)
		}
	}
	var unknown, wrong []time.Duration
	var msgs []string
	for i := range 5 {
		start := time.Now()
		_, err1 := a.AuthenticateFrom(ctx, fmt.Sprintf("nobody%d", i), "whatever", "")
		unknown = append(unknown, time.Since(start))
		start = time.Now()
		_, err2 := a.AuthenticateFrom(ctx, "bob", fmt.Sprintf("wrong%d", i), "")
		wrong = append(wrong, time.Since(start))
		if errcode.CodeOf(err1) != errcode.Unauthorized || errcode.CodeOf(err2) != errcode.Unauthorized {
			t.Fatalf("codes: %v / %v", err1, err2)
		}
		msgs = append(msgs, err1.Error(), err2.Error())
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Fatalf("messages differ: %q vs %q", m, msgs[0])
		}
	}
	mu, mw := median(unknown), median(wrong)
	t.Logf("median unknown user %v, wrong password %v", mu, mw)
	// Without padding an unknown user would answer after the search alone,
	// about half a wrong password's time (search + bind).
	if mu < mw*4/5 || mu > 2*mw+10*time.Millisecond {
		t.Fatalf("unknown user answered in %v, wrong password in %v: distinguishable", mu, mw)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func TestBackoff(t *testing.T) {
	s := need(t)
	clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := baseConfig(s)
	c.Backoff = &ldapauth.BackoffConfig{FreeAttempts: 3, FreeAttemptsPerAddress: 5, InitialDelay: ldapauth.Duration(time.Second), MaxDelay: ldapauth.Duration(8 * time.Second)}
	a := newAuth(t, c, &ldapauth.Options{Now: clk.Now})
	ctx := t.Context()
	for i := range 3 {
		if _, err := a.AuthenticateFrom(ctx, "bob", "wrong", ""); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// The 4th attempt is delayed, even with the right password, and sends
	// nothing to the directory (so it cannot lock the account there).
	before := a.Stats()
	_, err := a.AuthenticateFrom(ctx, "bob", "bob-password", "")
	if errcode.CodeOf(err) != errcode.RateLimited {
		t.Fatalf("4th attempt: %v, want RateLimited", err)
	}
	if at, ok := errcode.RetryAt(err); !ok || !at.Equal(clk.Now().Add(time.Second)) {
		t.Fatalf("RetryAt = %v %v", at, ok)
	}
	if a.Stats() != before {
		t.Fatal("a delayed attempt reached the directory")
	}
	// Another user is not affected.
	if _, err := a.AuthenticateFrom(ctx, "alice", "alice-password", ""); err != nil {
		t.Fatal(err)
	}
	// After the delay, one more failure doubles it.
	clk.Advance(time.Second)
	if _, err := a.AuthenticateFrom(ctx, "bob", "wrong", ""); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Fatal(err)
	}
	_, err = a.AuthenticateFrom(ctx, "bob", "bob-password", "")
	if at, _ := errcode.RetryAt(err); !at.Equal(clk.Now().Add(2 * time.Second)) {
		t.Fatalf("second delay: %v", err)
	}
	// A success clears the username's failures.
	clk.Advance(2 * time.Second)
	if _, err := a.AuthenticateFrom(ctx, "BOB", "bob-password", ""); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := a.AuthenticateFrom(ctx, "bob", "wrong", ""); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("after reset, attempt %d: %v", i, err)
		}
	}

	// Per address: one client trying many usernames.
	for i := range 5 {
		if _, err := a.AuthenticateFrom(ctx, fmt.Sprintf("spray%d", i), "x", "198.51.100.7"); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("spray %d: %v", i, err)
		}
	}
	if _, err := a.AuthenticateFrom(ctx, "alice", "alice-password", "198.51.100.7"); errcode.CodeOf(err) != errcode.RateLimited {
		t.Fatalf("6th from the same address: %v, want RateLimited", err)
	}
	if _, err := a.AuthenticateFrom(ctx, "alice", "alice-password", "198.51.100.8"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	// IPv6 clients are counted by their /64.
	for i := range 5 {
		if _, err := a.AuthenticateFrom(ctx, fmt.Sprintf("v6spray%d", i), "x", fmt.Sprintf("2001:db8:1:2::%x", i+1)); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("v6 spray %d: %v", i, err)
		}
	}
	if _, err := a.AuthenticateFrom(ctx, "alice", "alice-password", "2001:db8:1:2:ffff::1"); errcode.CodeOf(err) != errcode.RateLimited {
		t.Fatalf("same /64: %v, want RateLimited", err)
	}
	if _, err := a.AuthenticateFrom(ctx, "alice", "alice-password", "2001:db8:1:3::1"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
}

func TestParallelGuessesCannotSlipPastTheLimit(t *testing.T) {
	s := need(t)
	c := baseConfig(s)
	c.Backoff = &ldapauth.BackoffConfig{FreeAttempts: 3}
	a := newAuth(t, c, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	tried := 0
	for range 30 {
		wg.Go(func() {
			_, err := a.AuthenticateFrom(t.Context(), "bob", "wrong", "")
			if errcode.CodeOf(err) == errcode.Unauthorized {
				mu.Lock()
				tried++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if tried > 3 {
		t.Fatalf("%d guesses reached the directory, want at most 3", tried)
	}
}

func TestContextCanceled(t *testing.T) {
	s := need(t)
	a := newAuth(t, baseConfig(s), nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := a.AuthenticateFrom(ctx, "alice", "alice-password", "")
	if errcode.CodeOf(err) != errcode.Canceled {
		t.Fatalf("err = %v", err)
	}
}

func TestThreeOperationsPerSignIn(t *testing.T) {
	s := need(t)
	for _, groups := range []bool{false, true} {
		c := baseConfig(s)
		if groups {
			c.Groups = &ldapauth.GroupsConfig{SearchBase: testsvc.SlapdGroupsDN}
		}
		a := newAuth(t, c, nil)
		if _, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", ""); err != nil {
			t.Fatal(err)
		}
		before := a.Stats()
		if _, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", ""); err != nil {
			t.Fatal(err)
		}
		after := a.Stats()
		if ops := after.Ops() - before.Ops(); ops != 3 || after.Dials != before.Dials {
			t.Fatalf("groups=%v: %d operations and %d dials for a warm sign-in, want 3 and 0", groups, ops, after.Dials-before.Dials)
		}
	}
}

func TestBackstageConfigLoads(t *testing.T) {
	s := need(t)
	yaml := `
app:
  baseUrl: http://localhost:3000
auth:
  environment: development
  providers:
    ldap:
      development:
        cookies:
          field: backstage-token
          secure: false
        ldapAuthenticationOptions:
          userSearchBase: ` + testsvc.SlapdPeopleDN + `
          usernameAttribute: uid
          adminDn: ` + testsvc.SlapdServiceDN + `
          adminPassword: ${LDAP_SECRET}
          starttls: true
          ldapOpts:
            url:
              - ` + s.LDAPURL + `
            tlsOptions:
              rejectUnauthorized: true
              ca: |
` + indent(string(s.CAPEM), "                ")
	cfg, err := config.LoadBytes(t.Context(), &config.Options{Lookup: func(k string) (string, bool) {
		if k == "LDAP_SECRET" {
			return testsvc.SlapdServicePassword, true
		}
		return "", false
	}}, []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, ok, err := ldapauth.DecodeConfig(cfg, "development")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, ok, _ := ldapauth.DecodeConfig(cfg, "production"); ok {
		t.Fatal("production found")
	}
	if fmt.Sprint(c.LDAPAuthenticationOptions.AdminPassword) != "[redacted]" {
		t.Fatal("admin password not redacted")
	}
	a := newAuth(t, c, nil)
	if _, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", ""); err != nil {
		t.Fatal(err)
	}
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestHandlerLogin(t *testing.T) {
	s := need(t)
	a := newAuth(t, baseConfig(s), nil)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h, err := auth.New(&auth.Options{BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"), Environment: "development"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Register("ldap", "development", a); err != nil {
		t.Fatal(err)
	}
	mux.Handle("/api/auth/", ldapauth.ClientAddr(h))
	post := func(user, pw string) (*http.Response, map[string]any) {
		b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
		req, _ := http.NewRequest("POST", srv.URL+"/api/auth/ldap/login?env=development", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp, body
	}
	resp, body := post("alice", "alice-password")
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %v", resp.StatusCode, body)
	}
	if !strings.Contains(fmt.Sprint(body), "alice@example.org") {
		t.Errorf("body = %v", body)
	}
	resp, body = post("alice", "nope")
	if resp.StatusCode != 401 || strings.Contains(fmt.Sprint(body), "nope") {
		t.Fatalf("wrong password: %d %v", resp.StatusCode, body)
	}
}

// TestActiveDirectoryNestedGroups signs in against the fake Active
// Directory with sAMAccountName and reads nested groups in the one group
// search, with the in-chain matching rule.
func TestActiveDirectoryNestedGroups(t *testing.T) {
	const (
		base   = "DC=corp,DC=example,DC=com"
		svc    = "CN=svc,OU=Service," + base
		userDN = "CN=Ada Lovelace,OU=Users," + base
	)
	dir := []*fakead.Entry{
		{DN: userDN, Attrs: map[string][]string{"objectClass": {"user"}, "sAMAccountName": {"ada"}, "mail": {"ada@corp.example.com"}, "displayName": {"Ada Lovelace"}}},
		{DN: "CN=Analysts,OU=Groups," + base, Attrs: map[string][]string{"objectClass": {"group"}, "cn": {"analysts"}, "member": {userDN}}},
		{DN: "CN=Research,OU=Groups," + base, Attrs: map[string][]string{"objectClass": {"group"}, "cn": {"research"}, "member": {"CN=Analysts,OU=Groups," + base}}},
		{DN: "CN=Sales,OU=Groups," + base, Attrs: map[string][]string{"objectClass": {"group"}, "cn": {"sales"}}},
	}
	ad := fakead.Start(t, dir, map[string]string{svc: "svc-pw", userDN: "ada-pw"})
	var c ldapauth.Config
	o := &c.LDAPAuthenticationOptions
	o.UserSearchBase, o.UsernameAttribute = base, "sAMAccountName"
	o.AdminDN, o.AdminPassword = svc, integrations.NewSecret("svc-pw")
	o.LDAPOpts.URL = ldapauth.StringList{ad.URL}
	c.Groups = &ldapauth.GroupsConfig{SearchBase: "OU=Groups," + base, InChain: true}
	a := newAuth(t, c, &ldapauth.Options{TLS: &tls.Config{RootCAs: ad.CAPool}})
	r, err := a.AuthenticateFrom(t.Context(), "ada", "ada-pw", "")
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Clone(r.GroupNames)
	slices.Sort(names)
	if !slices.Equal(names, []string{"analysts", "research"}) {
		t.Errorf("groups = %v", names)
	}
	if r.Identity.Login != "ada" || r.Identity.DN != userDN || r.Identity.Email != "ada@corp.example.com" {
		t.Errorf("identity = %+v", r.Identity)
	}
	if _, err := a.AuthenticateFrom(t.Context(), "ada", "wrong", ""); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("wrong password: %v", err)
	}
}

// BenchmarkSignIn measures a warm sign-in against slapd: LDAP operations
// (search, bind, groups read) and dials per sign-in.
func BenchmarkSignIn(b *testing.B) {
	s := need(b)
	for _, mode := range []string{"memberOf", "groupSearch"} {
		b.Run(mode, func(b *testing.B) {
			c := baseConfig(s)
			if mode == "groupSearch" {
				c.Groups = &ldapauth.GroupsConfig{SearchBase: testsvc.SlapdGroupsDN}
			}
			a := newAuth(b, c, nil)
			if _, err := a.AuthenticateFrom(b.Context(), "alice", "alice-password", ""); err != nil {
				b.Fatal(err)
			}
			before := a.Stats()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.AuthenticateFrom(b.Context(), "alice", "alice-password", ""); err != nil {
					b.Fatal(err)
				}
			}
			after := a.Stats()
			b.ReportMetric(float64(after.Ops()-before.Ops())/float64(b.N), "ldap-ops/op")
			b.ReportMetric(float64(after.Dials-before.Dials)/float64(b.N), "dials/op")
		})
	}
}

func TestConfigNeverShowsTheSecret(t *testing.T) {
	c := ldapauth.Config{}
	c.LDAPAuthenticationOptions.AdminPassword = integrations.NewSecret("hunter2-service")
	b, _ := json.Marshal(c)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "c", c)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v", c, c, c), string(b), logs.String()} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("secret shown: %s", s)
		}
	}
}

func TestVerify(t *testing.T) {
	s := need(t)
	for _, groups := range []bool{false, true} {
		c := baseConfig(s)
		if groups {
			c.Groups = &ldapauth.GroupsConfig{SearchBase: testsvc.SlapdGroupsDN}
		}
		c.UserFilter = "(objectClass=inetOrgPerson)"
		a := newAuth(t, c, nil)
		r, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", "")
		if err != nil {
			t.Fatal(err)
		}
		before := a.Stats()
		v, err := a.Verify(t.Context(), r.Identity)
		if err != nil {
			t.Fatal(err)
		}
		if v.Identity != r.Identity || !slices.Equal(v.GroupNames, r.GroupNames) {
			t.Errorf("groups=%v: verify = %+v, sign-in = %+v", groups, v, r)
		}
		if ops := a.Stats().Ops() - before.Ops(); ops != 2 {
			t.Errorf("groups=%v: %d operations, want 2", groups, ops)
		}
		// Case differences in the DN do not matter; another entry's DN does.
		id := r.Identity
		id.DN = strings.ToUpper(id.DN)
		if _, err := a.Verify(t.Context(), id); err != nil {
			t.Errorf("upper-case DN: %v", err)
		}
		for name, mod := range map[string]func(*auth.Identity){
			"moved":    func(id *auth.Identity) { id.DN = "uid=alice,ou=contractors,ou=people,dc=example,dc=org" },
			"gone":     func(id *auth.Identity) { id.Login = "nobody" },
			"wildcard": func(id *auth.Identity) { id.Login = "*" },
		} {
			id := r.Identity
			mod(&id)
			if _, err := a.Verify(t.Context(), id); errcode.CodeOf(err) != errcode.Unauthorized {
				t.Errorf("%s: %v, want Unauthorized", name, err)
			}
		}
		if _, err := a.Verify(t.Context(), auth.Identity{Login: "alice"}); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("no DN: %v", err)
		}
	}
}

func TestClientCertificateOptions(t *testing.T) {
	s := need(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "portal"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))

	c := baseConfig(s)
	c.LDAPAuthenticationOptions.LDAPOpts.TLSOptions.Cert = certPEM
	c.LDAPAuthenticationOptions.LDAPOpts.TLSOptions.Key = integrations.NewSecret(keyPEM)
	a := newAuth(t, c, nil)
	// slapd does not ask for a client certificate; the sign-in works with one configured.
	if _, err := a.AuthenticateFrom(t.Context(), "alice", "alice-password", ""); err != nil {
		t.Fatal(err)
	}
	c.LDAPAuthenticationOptions.LDAPOpts.TLSOptions.Key = integrations.NewSecret("not a key")
	_, err := ldapauth.New(c, nil)
	if errcode.CodeOf(err) != errcode.InvalidArgument || strings.Contains(err.Error(), "not a key") {
		t.Fatalf("bad key: %v", err)
	}
}
