package ldaporg_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/leakcheck"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/ldaporg"
)

var (
	slapd     *testsvc.Slapd
	launchErr error
	seedTime  time.Duration
)

// TestMain starts one slapd seeded with the big directory (10,000 users,
// 500 groups nested three deep, one group of 3,000 members) for the whole
// package.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ldaporg-slapd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var stop func()
	start := time.Now()
	seed := append(slices.Clone(testsvc.BigDirectoryLDIF()), partnersLDIF...)
	slapd, stop, launchErr = testsvc.LaunchSlapd(dir, &testsvc.SlapdOptions{LDIF: seed})
	seedTime = time.Since(start)
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.RemoveAll(dir)
	os.Exit(leakcheck.After(code)) // every connection (and its go-ldap reader) closes on every path
}

// partnersLDIF holds a user and a referral to another directory.
const partnersLDIF = `
dn: ou=partners,dc=example,dc=org
objectClass: organizationalUnit
ou: partners

dn: uid=pat,ou=partners,dc=example,dc=org
objectClass: inetOrgPerson
uid: pat
cn: Pat Partner
sn: Partner

dn: uid=user00001,ou=partners,dc=example,dc=org
objectClass: inetOrgPerson
uid: user00001
cn: Namesake
sn: Namesake

dn: ou=elsewhere,ou=partners,dc=example,dc=org
objectClass: referral
objectClass: extensibleObject
ou: elsewhere
ref: ldap://partners.example.net/ou=people,dc=partners,dc=example,dc=net
`

func TestReferralsReported(t *testing.T) {
	s := need(t)
	c := bigConfig(s, 10)
	c.Users[0].DN = "ou=partners,dc=example,dc=org"
	c.Users[0].Options.Filter = ""
	c.Groups = nil
	r := newReader(t, c)
	snap, err := r.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Users) != 2 || snap.Users[0].Metadata.Name != "pat" {
		t.Fatalf("users = %+v", snap.Users)
	}
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], "referral to ldap://partners.example.net/") || !strings.Contains(snap.Warnings[0], "not followed") {
		t.Fatalf("warnings = %q", snap.Warnings)
	}
}

func need(t testing.TB) *testsvc.Slapd {
	t.Helper()
	testsvc.Require(t, "slapd", "slapd ldap-utils", "/usr/sbin")
	if slapd == nil {
		t.Fatalf("slapd did not start: %v", launchErr)
	}
	return slapd
}

func bigConfig(s *testsvc.Slapd, pageSize int) ldaporg.Config {
	paged := ldaporg.Paged{Enabled: pageSize > 0, PageSize: pageSize}
	return ldaporg.Config{
		Target: s.LDAPSURL,
		Bind:   &ldaporg.BindConfig{DN: testsvc.SlapdServiceDN, Secret: integrations.NewSecret(testsvc.SlapdServicePassword)},
		TLS:    &ldaporg.TLSConfig{CA: string(s.CAPEM)},
		Users: ldaporg.SearchList[ldaporg.UserMap]{{
			DN:      testsvc.SlapdPeopleDN,
			Options: ldaporg.SearchOptions{Filter: "(objectClass=inetOrgPerson)", Paged: paged},
		}},
		Groups: ldaporg.SearchList[ldaporg.GroupMap]{{
			DN:      testsvc.SlapdGroupsDN,
			Options: ldaporg.SearchOptions{Filter: "(objectClass=groupOfNames)", Paged: paged},
			Set:     map[string]any{"spec.type": "team"},
		}},
	}
}

func newReader(t testing.TB, c ldaporg.Config) *ldaporg.Reader {
	t.Helper()
	r, err := ldaporg.New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestReadBigDirectory(t *testing.T) {
	s := need(t)
	t.Logf("slapd seeded with %d users and %d groups and started in %v", testsvc.BigUsers, testsvc.BigGroups, seedTime)
	const pageSize = 500
	r := newReader(t, bigConfig(s, pageSize))
	start := time.Now()
	snap, err := r.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read in %v, %+v", time.Since(start), r.Stats())
	if len(snap.Users) != testsvc.BigUsers || len(snap.Groups) != testsvc.BigGroups {
		t.Fatalf("%d users, %d groups", len(snap.Users), len(snap.Groups))
	}
	if len(snap.Warnings) != 0 {
		t.Fatalf("warnings: %v", snap.Warnings[:min(5, len(snap.Warnings))])
	}
	want := int64((testsvc.BigUsers+pageSize-1)/pageSize + (testsvc.BigGroups+pageSize-1)/pageSize)
	if got := r.Stats().Searches; got != want {
		t.Errorf("searches = %d, want ceil(10000/500)+ceil(500/500) = %d", got, want)
	}
	// Names, annotations, relations as Backstage writes them.
	u := snap.User(org.UserRef("", "user00042"))
	if u == nil {
		t.Fatal("user00042 missing")
	}
	if u.Metadata.Annotations[ldaporg.AnnotationDN] != "uid=user00042,ou=people,dc=example,dc=org" ||
		u.Metadata.Annotations[ldaporg.AnnotationRDN] != "user00042" ||
		len(u.Metadata.Annotations[ldaporg.AnnotationUUID]) != 36 {
		t.Errorf("annotations = %v", u.Metadata.Annotations)
	}
	if u.Spec.Profile != (org.Profile{DisplayName: "User 00042", Email: "user00042@example.org"}) {
		t.Errorf("profile = %+v", u.Spec.Profile)
	}
	if !slices.Equal(u.Spec.MemberOf, []string{"group:default/group009", "group:default/group142"}) {
		t.Errorf("memberOf = %v", u.Spec.MemberOf)
	}
	big := snap.Group(org.GroupRef("", testsvc.BigGroupCN))
	if big == nil || big.Spec.Parent != "" || len(big.Spec.Children) != 9 || big.Spec.Type != "team" {
		t.Fatalf("big group = %+v", big)
	}
	n := 0
	for i := range snap.Users {
		if slices.Contains(snap.Users[i].Spec.MemberOf, "group:default/"+testsvc.BigGroupCN) {
			n++
		}
	}
	if n != testsvc.BigGroupMembers {
		t.Errorf("%d users in %s, want %d", n, testsvc.BigGroupCN, testsvc.BigGroupMembers)
	}
	// Three levels: leaf -> middle -> top.
	leaf := snap.Group(org.GroupRef("", "group142"))
	mid := snap.Group(org.GroupRef("", "group052"))
	if leaf.Spec.Parent != "group:default/group052" || mid.Spec.Parent != "group:default/group002" ||
		!slices.Contains(mid.Spec.Children, "group:default/group142") {
		t.Errorf("nesting: leaf %+v, mid %+v", leaf.Spec, mid.Spec)
	}
}

// Two blocks yielding the same name: the first entry wins, the other is
// named in the warnings, the read succeeds.
func TestDuplicateNamesSkipped(t *testing.T) {
	s := need(t)
	c := bigConfig(s, 10)
	c.Users[0].Options.Filter = "(uid=user00001)"
	c.Users = append(c.Users, c.Users[0])
	c.Users[1].DN = "ou=partners,dc=example,dc=org"
	c.Groups = nil
	r := newReader(t, c)
	snap, err := r.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Users) != 1 || snap.Users[0].Metadata.Annotations[ldaporg.AnnotationDN] != "uid=user00001,ou=people,dc=example,dc=org" {
		t.Fatalf("users = %+v", snap.Users)
	}
	// (The partners subtree also yields its referral.)
	if !slices.ContainsFunc(snap.Warnings, func(w string) bool {
		return strings.Contains(w, "uid=user00001,ou=partners") && strings.Contains(w, "same entity name")
	}) {
		t.Fatalf("warnings = %q", snap.Warnings)
	}
}

func TestPageSizes(t *testing.T) {
	s := need(t)
	// The users of one leaf group only, to keep it quick.
	for _, ps := range []int{7, 25, 26, 1000} {
		c := bigConfig(s, ps)
		c.Users[0].Options.Filter = "(memberOf=cn=group100,ou=groups,dc=example,dc=org)"
		c.Groups[0].Options.Filter = "(|(cn=group100)(cn=group010)(cn=group000))"
		r := newReader(t, c)
		snap, err := r.Read(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Users) != 25 || len(snap.Groups) != 3 {
			t.Fatalf("page size %d: %d users %d groups", ps, len(snap.Users), len(snap.Groups))
		}
		want := int64((25+ps-1)/ps + (3+ps-1)/ps)
		if got := r.Stats().Searches; got != want {
			t.Errorf("page size %d: %d searches, want %d", ps, got, want)
		}
	}
}

func TestProgress(t *testing.T) {
	s := need(t)
	c := bigConfig(s, 4)
	c.Users[0].Options.Filter = "(uid=user0000*)"
	c.Groups[0].Options.Filter = "(cn=group00*)"
	var got []org.Progress
	r, err := ldaporg.New(c, &ldaporg.Options{Source: "ldapOrg:corp", Progress: func(p org.Progress) { got = append(got, p) }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	// 3 user pages, 3 group pages, done.
	if len(got) != 7 {
		t.Fatalf("%d reports: %+v", len(got), got)
	}
	last := got[len(got)-1]
	if last.Phase != "done" || last.Users != 10 || last.Groups != 10 || last.Requests != 6 || last.Source != "ldapOrg:corp" || got[0].Phase != "users" || got[3].Phase != "groups" {
		t.Fatalf("reports: %+v", got)
	}
}

func TestCancelledHalfway(t *testing.T) {
	s := need(t)
	ctx, cancel := context.WithCancel(t.Context())
	// Cancelled from the progress report of the fifth page, on Read's
	// goroutine: a goroutine polling the search count, as this test did,
	// could sleep through many pages on a loaded machine.
	r, err := ldaporg.New(bigConfig(s, 100), &ldaporg.Options{Progress: func(p org.Progress) {
		if p.Requests >= 5 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	snap, err := r.Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Canceled {
		t.Fatalf("snapshot %v, err %v; want none and Canceled", snap != nil, err)
	}
	if got := r.Stats().Searches; got > 10 {
		t.Errorf("%d searches after cancelling at 5", got)
	}
	t.Logf("%d searches", r.Stats().Searches)
	if open := r.Stats().Open; open != 0 {
		t.Errorf("%d connections left open after the cancelled read", open)
	}
	// The interrupted connection is gone; a new read works.
	c := bigConfig(s, 100)
	c.Users[0].Options.Filter = "(uid=user0000*)"
	c.Groups = nil
	r2 := newReader(t, c)
	if snap, err := r2.Read(t.Context()); err != nil || len(snap.Users) != 10 {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestBackstageConfigLoads(t *testing.T) {
	s := need(t)
	yaml := `
catalog:
  providers:
    ldapOrg:
      default:
        target: ` + s.LDAPURL + `
        bind:
          dn: ` + testsvc.SlapdServiceDN + `
          secret: ${LDAP_SECRET}
        tls:
          caFile: ` + s.Dir + `/ca.pem
        users:
          - dn: ` + testsvc.SlapdPeopleDN + `
            options:
              filter: (uid=user0001*)
              scope: one
              paged: true
            map:
              description: sn
        groups:
          dn: ` + testsvc.SlapdGroupsDN + `
          options:
            filter: (cn=group11*)
            paged:
              pageSize: 3
          set:
            metadata.namespace: default
            spec.type: team
`
	cfg, err := config.LoadBytes(t.Context(), &config.Options{Lookup: func(k string) (string, bool) {
		return testsvc.SlapdServicePassword, k == "LDAP_SECRET"
	}}, []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	providers, err := ldaporg.DecodeConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(providers) != 1 || providers[0].ID != "default" {
		t.Fatalf("providers = %+v", providers)
	}
	c := providers[0]
	if c.Groups[0].Options.Paged.PageSize != 3 || c.Users[0].Options.Paged.PageSize != ldaporg.DefaultPageSize {
		t.Fatalf("paged = %+v %+v", c.Groups[0].Options.Paged, c.Users[0].Options.Paged)
	}
	r := newReader(t, c)
	snap, err := r.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Users) != 10 || len(snap.Groups) != 10 {
		t.Fatalf("%d users %d groups", len(snap.Users), len(snap.Groups))
	}
	if d := snap.Users[0].Metadata.Description; d != "00010" {
		t.Errorf("description from sn = %q", d)
	}
	if r.Stats().StartTLS == 0 {
		t.Error("ldap:// target was not upgraded with StartTLS")
	}
}

func TestConfigRefusals(t *testing.T) {
	s := need(t)
	no := false
	tests := map[string]func(c *ldaporg.Config){
		"no target":                      func(c *ldaporg.Config) { c.Target = "" },
		"plain without insecure":         func(c *ldaporg.Config) { c.Target = s.LDAPURL; c.StartTLS = &no },
		"rejectUnauthorized without ins": func(c *ldaporg.Config) { c.TLS.RejectUnauthorized = &no },
		"bad scope":                      func(c *ldaporg.Config) { c.Users[0].Options.Scope = "tree" },
		"unparenthesised filter":         func(c *ldaporg.Config) { c.Users[0].Options.Filter = "uid=x" },
		"bind dn without secret":         func(c *ldaporg.Config) { c.Bind.Secret = integrations.Secret{} },
	}
	for name, mod := range tests {
		t.Run(name, func(t *testing.T) {
			c := bigConfig(s, 10)
			mod(&c)
			if _, err := ldaporg.New(c, nil); errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestUntrustedAndExpiredCertificates(t *testing.T) {
	s := need(t)
	c := bigConfig(s, 10)
	c.TLS = nil
	r := newReader(t, c)
	if _, err := r.Read(t.Context()); errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("untrusted: %v", err)
	}
	exp := testsvc.StartSlapd(t, &testsvc.SlapdOptions{ExpiredCert: true})
	r = newReader(t, bigConfig(exp, 10))
	if _, err := r.Read(t.Context()); errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("expired: %v", err)
	}
}

// BenchmarkReadBigDirectory reads 10,000 users and 500 groups from slapd.
func BenchmarkReadBigDirectory(b *testing.B) {
	s := need(b)
	for _, ps := range []int{500, 1000} {
		b.Run(fmt.Sprintf("pageSize=%d", ps), func(b *testing.B) {
			r := newReader(b, bigConfig(s, ps))
			var searches int64
			var retained uint64
			b.ReportAllocs()
			for b.Loop() {
				before := r.Stats().Searches
				var m0, m1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m0)
				snap, err := r.Read(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&m1)
				if len(snap.Users) != testsvc.BigUsers {
					b.Fatal(len(snap.Users))
				}
				retained = m1.HeapAlloc - min(m0.HeapAlloc, m1.HeapAlloc)
				searches = r.Stats().Searches - before
			}
			b.ReportMetric(float64(searches), "searches/op")
			// What the snapshot keeps: the output, not the directory.
			b.ReportMetric(float64(retained), "retained-bytes/op")
		})
	}
}

func TestInsecureWarnsOnceAndSecretNeverShown(t *testing.T) {
	s := need(t)
	no := false
	c := bigConfig(s, 50)
	c.Target, c.StartTLS, c.Insecure, c.TLS = s.LDAPURL, &no, true, nil
	c.Users[0].Options.Filter = "(uid=user0000*)"
	c.Groups = nil
	var logs strings.Builder
	r, err := ldaporg.New(c, &ldaporg.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for range 2 {
		if snap, err := r.Read(t.Context()); err != nil || len(snap.Users) != 10 {
			t.Fatalf("plain read: %v", err)
		}
	}
	if n := strings.Count(logs.String(), "insecure"); n != 1 {
		t.Fatalf("%d warnings:\n%s", n, logs.String())
	}
	b, _ := json.Marshal(c)
	for _, out := range []string{logs.String(), fmt.Sprintf("%v %+v %#v", c, *c.Bind, *c.Bind), string(b)} {
		if strings.Contains(out, testsvc.SlapdServicePassword) {
			t.Fatalf("secret shown: %s", out)
		}
	}
}

// TestPagedWithoutPageSize: a Config built in Go with paged on and no
// page size (or a negative one) pages with DefaultPageSize. A page size
// of 0 in the paged results control asks the directory to abandon the
// search (RFC 2696), which slapd does with no entry: read as it was, the
// directory would have looked empty.
func TestPagedWithoutPageSize(t *testing.T) {
	s := need(t)
	for _, ps := range []int{0, -5} {
		c := bigConfig(s, 1)
		c.Users[0].Options.Paged.PageSize = ps
		c.Users[0].Options.Filter = "(memberOf=cn=group100,ou=groups,dc=example,dc=org)"
		c.Groups[0].Options.Paged.PageSize = ps
		c.Groups[0].Options.Filter = "(|(cn=group100)(cn=group010)(cn=group000))"
		r := newReader(t, c)
		snap, err := r.Read(t.Context())
		if err != nil {
			t.Fatalf("page size %d: %v", ps, err)
		}
		if len(snap.Users) != 25 || len(snap.Groups) != 3 || r.Stats().Searches != 2 {
			t.Errorf("page size %d: %d users, %d groups in %d searches; want 25, 3 in 2", ps, len(snap.Users), len(snap.Groups), r.Stats().Searches)
		}
	}
}
