package integrations

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scmkit/scmkit/errcode"
)

// checkLookup fails t unless Lookup(raw) agrees with ByURL, Parse and
// AllowsAnonymous on raw: the same integration, the same Location, the same
// error message, and Anonymous for a host without integration only.
func checkLookup(t *testing.T, r *Registry, raw string) Route {
	t.Helper()
	rt, err := r.Lookup(raw)
	loc, perr := r.Parse(raw)
	if (err == nil) != (perr == nil) {
		t.Fatalf("Lookup(%q) error = %v; Parse error = %v", raw, err, perr)
	}
	if err != nil {
		if errcode.CodeOf(err) != errcode.CodeOf(perr) {
			t.Fatalf("Lookup(%q) code %v; Parse code %v", raw, errcode.CodeOf(err), errcode.CodeOf(perr))
		}
		var le, pe *errcode.Error
		if !errors.As(err, &le) || !errors.As(perr, &pe) {
			t.Fatalf("Lookup(%q) = %v, Parse = %v: not *errcode.Error", raw, err, perr)
		}
		if le.Op != opLookup || le.Msg != pe.Msg || le.Host != pe.Host || le.Provider != pe.Provider {
			t.Fatalf("Lookup(%q) error %+v; want Parse's %+v with Op %s", raw, le, pe, opLookup)
		}
		if rt.Location != (Location{}) {
			t.Fatalf("Lookup(%q) returned Location %+v with its error", raw, rt.Location)
		}
	}
	if diff := cmp.Diff(loc, rt.Location); diff != "" {
		t.Fatalf("Lookup(%q).Location differs from Parse (-Parse +Lookup):\n%s", raw, diff)
	}
	in, ok := r.ByURL(raw)
	if ok != (rt.Integration != nil) || ok && in != rt.Integration {
		t.Fatalf("Lookup(%q).Integration = %v; ByURL = %v, %v", raw, rt.Integration, in, ok)
	}
	if want := !ok && r.AllowsAnonymous(raw); rt.Anonymous != want {
		t.Fatalf("Lookup(%q).Anonymous = %v; want %v", raw, rt.Anonymous, want)
	}
	if rt.URL == nil && (ok || rt.Anonymous || err == nil) {
		t.Fatalf("Lookup(%q) has no URL but found a route", raw)
	}
	return rt
}

func TestLookup(t *testing.T) {
	cfg := testConfig()
	cfg.ReadingAllow = []ReadingAllow{{Host: "docs.example.com", Paths: []string{"/pub"}}, {Host: "github.com"}}
	r, err := NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url string
		kind      Kind   // "" means no integration
		owner     string // "" means an error
		anonymous bool
		wantErr   string
	}{
		{"github file", "https://github.com/acme/api/blob/main/a.md", GitHub, "acme", false, ""},
		{"github allow-listed too: read with its integration", "https://github.com/acme/api", GitHub, "acme", false, ""},
		{"gitlab sub-path", "https://git.example.com/gitlab/acme/api/-/blob/main/a.md", GitLab, "acme", false, ""},
		{"gitlab outside its sub-path", "https://git.example.com/acme/api", GitLab, "", false, "must start with /gitlab/"},
		{"bitbucket server", "https://bitbucket.example.com:7990/projects/P/repos/r/browse/a.md?at=main", BitbucketServer, "P", false, ""},
		{"bitbucket cloud default", "https://bitbucket.org/ws/repo/src/main/a.md", BitbucketCloud, "ws", false, ""},
		{"traversal on an integration host", "https://github.com/acme/api/blob/main/%2e%2e/x", GitHub, "", false, "."},
		{"user info on an integration host", "https://u:p@github.com/acme/api", GitHub, "", false, "user name or password"},
		{"ftp scheme on an integration host", "ftp://github.com/acme/api", GitHub, "", false, "not an http or https URL"},
		{"allow-listed host", "https://docs.example.com/pub/a.md", "", "", true, "no integration is configured"},
		{"allow-listed host outside its paths", "https://docs.example.com/private/a.md", "", "", false, "no integration is configured"},
		{"unknown host", "https://elsewhere.example/a", "", "", false, "no integration is configured"},
		{"relative", "/acme/api", "", "", false, "not an http or https URL"},
		{"not a URL", "https://github.com/%zz", "", "", false, "not a valid URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := r.Lookup(tc.url)
			checkLookup(t, r, tc.url)
			if tc.kind == "" && rt.Integration != nil || tc.kind != "" && (rt.Integration == nil || rt.Integration.Kind != tc.kind) {
				t.Errorf("Lookup(%q).Integration = %+v; want kind %q", tc.url, rt.Integration, tc.kind)
			}
			if rt.Anonymous != tc.anonymous {
				t.Errorf("Lookup(%q).Anonymous = %v; want %v", tc.url, rt.Anonymous, tc.anonymous)
			}
			if tc.wantErr == "" {
				if err != nil || rt.Location.Owner != tc.owner {
					t.Errorf("Lookup(%q) = %+v, %v; want owner %q", tc.url, rt.Location, err, tc.owner)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Lookup(%q) error = %v; want one containing %q", tc.url, err, tc.wantErr)
			}
		})
	}
}

// BenchmarkLookup compares one Lookup with the ByURL, Parse and
// AllowsAnonymous calls it replaces: allocs/op shows the URL parsed once.
func BenchmarkLookup(b *testing.B) {
	r := testRegistry(b)
	const raw = "https://github.com/acme/api/blob/main/docs/a.md"
	b.Run("Lookup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Lookup(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ByURL+Parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := r.ByURL(raw); !ok {
				b.Fatal("no integration")
			}
			if _, err := r.Parse(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
