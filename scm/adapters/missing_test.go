package adapters_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/internal/adaptertest"
)

// missingFixture is one adapter's fake of BenchmarkReadTreeETag with a
// client, and the web URLs of a file that is not there yet
// (templates/service/changed.txt, which f.commit writes), of an existing
// file and of a directory, all on main.
type missingFixture struct {
	f                   etagFake
	c                   *scm.Client
	missing, found, dir string
}

func newMissingFixture(t testing.TB, ad etagAdapter, fc scm.FileCache) *missingFixture {
	t.Helper()
	f := ad.serve(t)
	reg, err := integrations.NewRegistry(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := reg.Parse(f.treeURL)
	if err != nil {
		t.Fatal(err)
	}
	at := func(p string) string {
		l := loc
		l.Path, l.Tree = p, false
		u, err := reg.URL(l)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c := adaptertest.NewClient(t, f.cfg, &scm.Options{Drivers: adapters.All(nil), Transport: tr, FileCache: fc,
		Retry: scm.RetryOptions{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}})
	return &missingFixture{f: f, c: c, missing: at("templates/service/changed.txt"), found: at("templates/service/template.yaml"),
		dir: at("templates/service")}
}

// reads reads u n times with o and returns the requests they cost, failing
// unless each read's code is want.
func (m *missingFixture) reads(t testing.TB, u string, n int, o *scm.ReadFileOptions, want scm.ErrorCode) int {
	t.Helper()
	r0 := m.f.requests()
	for i := range n {
		_, err := m.c.ReadFile(t.Context(), u, o)
		if got := scm.Code(err); got != want {
			t.Fatalf("read %d of %s: %v (%v); want %v", i+1, u, got, err, want)
		}
	}
	return m.f.requests() - r0
}

// Re-reads of a missing file on every adapter: by default 1 request a read
// on GitHub and Bitbucket Cloud, 2 on GitLab and Bitbucket Server (the
// second tells a directory from a missing file); 1 everywhere with
// DirAsMissing; none after the first within NotFoundMaxAge, which
// remembers the NotFound (and, without DirAsMissing, that the path is no
// directory) in the FileCache.
func TestReadFileMissingRereads(t *testing.T) {
	const hour = time.Hour
	for _, ad := range etagAdapters {
		t.Run(ad.name, func(t *testing.T) {
			m := newMissingFixture(t, ad, nil)
			perRead := 1
			if ad.name == "gitlab" || ad.name == "bitbucketServer" {
				perRead = 2
			}
			if n := m.reads(t, m.missing, 3, nil, scm.NotFound); n != 3*perRead {
				t.Errorf("3 reads of a missing file: %d requests; want %d", n, 3*perRead)
			}
			if n := m.reads(t, m.missing, 3, &scm.ReadFileOptions{DirAsMissing: true}, scm.NotFound); n != 3 {
				t.Errorf("3 reads of a missing file with DirAsMissing: %d requests; want 3", n)
			}
			if n := m.reads(t, m.missing, 3, &scm.ReadFileOptions{NotFoundMaxAge: hour}, scm.NotFound); n != perRead {
				t.Errorf("3 reads of a missing file with NotFoundMaxAge: %d requests; want %d (the first read's)", n, perRead)
			}
			// Remembered after a directory probe: no directory, so it
			// also answers reads with DirAsMissing.
			if n := m.reads(t, m.missing, 2, &scm.ReadFileOptions{NotFoundMaxAge: hour, DirAsMissing: true}, scm.NotFound); n != 0 {
				t.Errorf("2 more reads with NotFoundMaxAge and DirAsMissing: %d requests; want 0", n)
			}
			// An answer older than the max age is asked again.
			if n := m.reads(t, m.missing, 1, &scm.ReadFileOptions{NotFoundMaxAge: time.Nanosecond}, scm.NotFound); n != perRead {
				t.Errorf("a read with a max age the remembered answer exceeds: %d requests; want %d", n, perRead)
			}

			// The file appears: reads within the max age still say
			// NotFound (the documented staleness), a read without it
			// asks and finds the file, and from then on the file is
			// re-read (conditionally), never taken for missing.
			if err := m.f.commit([]byte("now here\n")); err != nil {
				t.Fatal(err)
			}
			if n := m.reads(t, m.missing, 1, &scm.ReadFileOptions{NotFoundMaxAge: hour}, scm.NotFound); n != 0 {
				t.Errorf("a read within the max age after the file appeared: %d requests; want 0", n)
			}
			if n := m.reads(t, m.missing, 1, nil, scm.OK); n != 1 {
				t.Errorf("a read without max age after the file appeared: %d requests; want 1", n)
			}
			f, err := m.c.ReadFile(t.Context(), m.missing, &scm.ReadFileOptions{NotFoundMaxAge: hour})
			if err != nil || string(f.Content) != "now here\n" {
				t.Errorf("a read with max age once the file was read: %v, %v; want its content", f, err)
			}
		})
	}
}

// A NotFound remembered for a read with DirAsMissing may be a directory:
// it answers reads with DirAsMissing only; a read without DirAsMissing
// asks again and gets InvalidArgument.
func TestReadFileRememberedDirAsMissing(t *testing.T) {
	const hour = time.Hour
	for _, ad := range etagAdapters {
		t.Run(ad.name, func(t *testing.T) {
			m := newMissingFixture(t, ad, nil)
			asMissing := &scm.ReadFileOptions{NotFoundMaxAge: hour, DirAsMissing: true}
			if n := m.reads(t, m.dir, 3, asMissing, scm.NotFound); n != 1 {
				t.Errorf("3 reads of a directory with DirAsMissing and NotFoundMaxAge: %d requests; want 1", n)
			}
			if n := m.reads(t, m.dir, 1, &scm.ReadFileOptions{NotFoundMaxAge: hour}, scm.InvalidArgument); n == 0 {
				t.Errorf("a read of the directory without DirAsMissing made no request; want it asked")
			}
		})
	}
}

// BenchmarkReadFileMissing re-reads a missing file on each adapter:
// default, with DirAsMissing, and with NotFoundMaxAge (whose first read,
// the one that finds the file missing, is done before the timer).
func BenchmarkReadFileMissing(b *testing.B) {
	for _, ad := range etagAdapters {
		for _, v := range []struct {
			name string
			o    *scm.ReadFileOptions
		}{{"default", nil}, {"DirAsMissing", &scm.ReadFileOptions{DirAsMissing: true}},
			{"NotFoundMaxAge", &scm.ReadFileOptions{NotFoundMaxAge: time.Hour}}} {
			b.Run(ad.name+"/"+v.name, func(b *testing.B) {
				m := newMissingFixture(b, ad, nil)
				m.reads(b, m.missing, 1, v.o, scm.NotFound)
				r0, n := m.f.requests(), 0
				for b.Loop() {
					if _, err := m.c.ReadFile(b.Context(), m.missing, v.o); scm.Code(err) != scm.NotFound {
						b.Fatal(fmt.Sprint(err))
					}
					n++
				}
				b.ReportMetric(float64(m.f.requests()-r0)/float64(n), "requests/op")
			})
		}
	}
}
