package testsvc

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scmkit/scmkit/internal/testsvc/testlog"
)

// The directory every [StartSlapd] serves: its suffix, the administrator
// (rootdn) and a read-only service account for searches.
const (
	SlapdSuffix          = "dc=example,dc=org"
	SlapdAdminDN         = "cn=admin," + SlapdSuffix
	SlapdAdminPassword   = "admin-secret"
	SlapdServiceDN       = "cn=reader,ou=system," + SlapdSuffix
	SlapdServicePassword = "reader-secret"
	SlapdPeopleDN        = "ou=people," + SlapdSuffix
	SlapdGroupsDN        = "ou=groups," + SlapdSuffix
)

// SlapdOptions configures [StartSlapd]. A nil *SlapdOptions is the zero
// value: the base entries only, a valid certificate.
type SlapdOptions struct {
	// LDIF is added with slapadd before the server starts, after the base
	// entries (the suffix, ou=people, ou=groups, ou=system and the service
	// account). Users may carry memberOf values: slapadd writes them as
	// given, and the memberof overlay keeps them up to date afterwards.
	LDIF []byte
	// ExpiredCert makes the server present a certificate that expired
	// yesterday (signed by the same CA).
	ExpiredCert bool
}

// Slapd is a running OpenLDAP server on loopback, stopped when the test
// ends.
type Slapd struct {
	// LDAPSURL is the ldaps:// URL (TLS from the first byte).
	LDAPSURL string
	// LDAPURL is the plain ldap:// URL, where StartTLS is offered.
	LDAPURL string
	// CAPEM is the PEM of the CA that signed the server certificate.
	CAPEM []byte
	// CAPool holds that CA.
	CAPool *x509.CertPool
	// Dir is the throw-away directory holding the config, keys and
	// database.
	Dir string
}

// TLSConfig returns a client configuration that trusts only the test CA.
func (s *Slapd) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.CAPool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

const slapdConf = `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload refint
pidfile {{DIR}}/slapd.pid
argsfile {{DIR}}/slapd.args
TLSCACertificateFile {{DIR}}/ca.pem
TLSCertificateFile {{DIR}}/server.pem
TLSCertificateKeyFile {{DIR}}/server.key
sizelimit size.soft=500 size.hard=unlimited size.pr=unlimited size.prtotal=unlimited
database mdb
maxsize 1073741824
suffix "{{SUFFIX}}"
rootdn "{{ADMIN}}"
rootpw {{ADMINPW}}
directory {{DIR}}/db
index objectClass eq
index uid,cn,mail eq
index member,memberOf eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint true
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by users read by * none
`

// StartSlapd starts /usr/sbin/slapd with the mdb backend and the memberof
// overlay on two free loopback ports (ldaps:// and ldap:// with StartTLS),
// serving a certificate for 127.0.0.1 signed by a CA generated for this
// test. The server is seeded with slapadd and stopped in t.Cleanup.
// It fails the test under CI=true when slapd is not installed and skips it
// otherwise (Debian packages slapd and ldap-utils).
func StartSlapd(tb testing.TB, opts *SlapdOptions) *Slapd {
	tb.Helper()
	Require(tb, "slapd", "slapd ldap-utils", "/usr/sbin")
	Require(tb, "slapadd", "slapd ldap-utils", "/usr/sbin")
	s, stop, err := LaunchSlapd(tb.TempDir(), opts)
	if err != nil {
		tb.Fatalf("starting slapd: %v", err)
	}
	tb.Cleanup(stop)
	return s
}

// ErrNotInstalled is returned by [LaunchSlapd] when slapd or slapadd is
// missing.
var ErrNotInstalled = errors.New("testsvc: slapd is not installed (apt-get install slapd ldap-utils)")

// LaunchSlapd is [StartSlapd] for a TestMain that shares one server among
// a package's tests: it works in dir (which must exist and which the
// caller removes), returns [ErrNotInstalled] when slapd is missing (tests
// should then call [Require], which fails or skips them), and returns stop,
// which the caller must call.
func LaunchSlapd(dir string, opts *SlapdOptions) (s *Slapd, stop func(), err error) {
	if opts == nil {
		opts = &SlapdOptions{}
	}
	bin, err1 := lookBin("slapd")
	slapadd, err2 := lookBin("slapadd")
	if err1 != nil || err2 != nil {
		return nil, nil, ErrNotInstalled
	}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, nil, err
	}
	caPEM, pool, certPEM, keyPEM, err := slapdCerts(opts.ExpiredCert)
	if err != nil {
		return nil, nil, fmt.Errorf("slapd certificates: %w", err)
	}
	for name, b := range map[string][]byte{"ca.pem": caPEM, "server.pem": certPEM, "server.key": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, nil, err
		}
	}
	conf := strings.NewReplacer("{{DIR}}", dir, "{{SUFFIX}}", SlapdSuffix, "{{ADMIN}}", SlapdAdminDN, "{{ADMINPW}}", SlapdAdminPassword).Replace(slapdConf)
	confPath := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, nil, err
	}
	seedPath := filepath.Join(dir, "seed.ldif")
	f, err := os.Create(seedPath)
	if err != nil {
		return nil, nil, err
	}
	_, err = f.WriteString(baseLDIF + "\n")
	if err == nil && len(opts.LDIF) > 0 {
		_, err = f.Write(opts.LDIF)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, err
	}
	if out, err := exec.Command(slapadd, "-f", confPath, "-q", "-l", seedPath).CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("slapadd: %v\n%s", err, out)
	}
	_ = os.Remove(seedPath)

	s = &Slapd{CAPEM: caPEM, CAPool: pool, Dir: dir}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		sp, pp, release, err := twoPorts()
		if err != nil {
			return nil, nil, err
		}
		s.LDAPSURL = "ldaps://" + Addr(sp)
		s.LDAPURL = "ldap://" + Addr(pp)
		stopSlapd, err := s.start(bin, confPath, Addr(sp), Addr(pp))
		if err == nil {
			return s, func() { stopSlapd(); release() }, nil
		}
		release()
		lastErr = err
	}
	return nil, nil, lastErr
}

func lookBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := "/usr/sbin/" + name
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return p, nil
	}
	return "", ErrNotInstalled
}

// twoPorts reserves two ports (see reservePort) until release is called:
// while slapd starts, no other socket can take them, and a readiness probe
// cannot connect to itself (a dial to a free port of the ephemeral range
// can be given that very port as its local end, and then succeeds).
func twoPorts() (ldaps, ldap int, release func(), err error) {
	p1, r1, err := reservePort()
	if err != nil {
		return 0, 0, nil, err
	}
	p2, r2, err := reservePort()
	if err != nil {
		r1()
		return 0, 0, nil, err
	}
	return p1, p2, func() { r1(); r2() }, nil
}

func (s *Slapd) start(bin, confPath, ldapsAddr, ldapAddr string) (stop func(), err error) {
	logs := &testlog.Buffer{} // slapd's output from its two pipes
	cmd := exec.Command(bin, "-f", confPath, "-h", s.LDAPSURL+"/ "+s.LDAPURL+"/", "-d", "0")
	cmd.Stdout, cmd.Stderr = logs, logs
	// slapd dies with the test binary even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-done:
			return nil, fmt.Errorf("slapd exited: %v\n%s", err, logs.String())
		default:
		}
		c1, err1 := net.DialTimeout("tcp", ldapsAddr, 200*time.Millisecond)
		c2, err2 := net.DialTimeout("tcp", ldapAddr, 200*time.Millisecond)
		if c1 != nil {
			c1.Close()
		}
		if c2 != nil {
			c2.Close()
		}
		if err1 == nil && err2 == nil {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return nil, fmt.Errorf("slapd did not listen within 15s\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		})
	}, nil
}

var baseLDIF = `dn: ` + SlapdSuffix + `
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,` + SlapdSuffix + `
objectClass: organizationalUnit
ou: people

dn: ou=groups,` + SlapdSuffix + `
objectClass: organizationalUnit
ou: groups

dn: ou=system,` + SlapdSuffix + `
objectClass: organizationalUnit
ou: system

dn: ` + SlapdServiceDN + `
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: ` + SlapdServicePassword + `
`

// slapdCerts makes a CA and a server certificate for 127.0.0.1 and
// localhost, valid now or (expired) until yesterday.
func slapdCerts(expired bool) (caPEM []byte, pool *x509.CertPool, certPEM, keyPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "scmkit test CA"},
		NotBefore:             now.Add(-48 * time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	notAfter := now.Add(24 * time.Hour)
	if expired {
		notAfter = now.Add(-24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-47 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), pool,
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// The shape of [BigDirectoryLDIF].
const (
	// BigUsers is the number of users: uid=user00000 … uid=user09999
	// under ou=people, cn "User 00000", mail user00000@example.org,
	// password BigUserPassword.
	BigUsers = 10000
	// BigGroups is the number of groups under ou=groups: 10 top-level
	// groups group000…group009, 90 middle groups group010…group099 (group
	// 10+k is a member of group k%10), 400 leaf groups group100…group499
	// (group 100+k is a member of group 10+k%90). User i is a direct member
	// of leaf group 100+i%400, so every leaf has 25 users; BigGroupCN also
	// has the first BigGroupMembers users as direct members.
	BigGroups = 500
	// BigGroupCN is the large group: a top-level group with 3,000 direct
	// user members besides its 9 child groups.
	BigGroupCN = "group009"
	// BigGroupMembers is how many users BigGroupCN holds directly.
	BigGroupMembers = 3000
	// BigUserPassword is every big-directory user's password.
	BigUserPassword = "big-user-password"
)

var bigLDIF = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	b.Grow(6 << 20)
	user := func(i int) string { return fmt.Sprintf("uid=user%05d,%s", i, SlapdPeopleDN) }
	group := func(i int) string { return fmt.Sprintf("cn=group%03d,%s", i, SlapdGroupsDN) }
	parentOf := func(g int) int {
		switch {
		case g < 10:
			return -1
		case g < 100:
			return (g - 10) % 10
		default:
			return 10 + (g-100)%90
		}
	}
	big := 9
	for i := 0; i < BigUsers; i++ {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\nuid: user%05d\ncn: User %05d\nsn: %05d\ndisplayName: User %05d\nmail: user%05d@example.org\nuserPassword: %s\nmemberOf: %s\n",
			user(i), i, i, i, i, i, BigUserPassword, group(100+i%400))
		if i < BigGroupMembers {
			fmt.Fprintf(&b, "memberOf: %s\n", group(big))
		}
		b.WriteString("\n")
	}
	members := make([][]string, BigGroups)
	for g := 0; g < BigGroups; g++ {
		if p := parentOf(g); p >= 0 {
			members[p] = append(members[p], group(g))
		}
	}
	for i := 0; i < BigUsers; i++ {
		members[100+i%400] = append(members[100+i%400], user(i))
	}
	for i := 0; i < BigGroupMembers; i++ {
		members[big] = append(members[big], user(i))
	}
	for g := 0; g < BigGroups; g++ {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: groupOfNames\ncn: group%03d\ndescription: Group %03d\n", group(g), g, g)
		if p := parentOf(g); p >= 0 {
			fmt.Fprintf(&b, "memberOf: %s\n", group(p))
		}
		for _, m := range members[g] {
			fmt.Fprintf(&b, "member: %s\n", m)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
})

// BigDirectoryLDIF returns the large seed (see [BigUsers] and
// [BigGroups]), built once per test binary. Callers must not modify it.
func BigDirectoryLDIF() []byte { return bigLDIF() }
