package rbac

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/permission"
)

// TestLiveSetMembership: an organisation update (bob joins the platform
// team, alice leaves it) reaches the policy in force without reading the
// files again; with no policy loaded it is Unavailable; concurrent
// SetMembership, Reload and decisions are safe.
func TestLiveSetMembership(t *testing.T) {
	csv, _ := os.ReadFile("testdata/policy.csv")
	fsys := fstest.MapFS{"policy.csv": {Data: csv}}
	c := &Config{Enabled: true}
	c.RBAC.PoliciesCSVFile = "./policy.csv" // as Backstage configs write it
	live := NewLive(nil)
	if err := live.SetMembership(testOrg()); errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("SetMembership before a load: %v, want Unavailable", err)
	}
	if err := live.Reload(fsys, c, testOrg()); err != nil {
		t.Fatal(err)
	}
	q := permission.Query{Permission: perm(permission.CatalogEntityCreate)}
	decide := func(who string) permission.Result {
		t.Helper()
		d, err := live.Decide(context.Background(), q, user(who))
		if err != nil {
			t.Fatal(err)
		}
		return d.Result
	}
	if decide("user:default/alice") != permission.Allow || decide("user:default/bob") != permission.Deny {
		t.Fatal("before the update: alice should register, bob not")
	}
	m := testOrg()
	m.Users["user:default/alice"] = nil
	m.Users["user:default/bob"] = []string{"group:default/platform-team"}
	delete(fsys, "policy.csv") // the files are not read again
	if err := live.SetMembership(m); err != nil {
		t.Fatal(err)
	}
	if decide("user:default/alice") != permission.Deny || decide("user:default/bob") != permission.Allow {
		t.Error("after the update: bob should register, alice not")
	}

	fsys["policy.csv"] = &fstest.MapFile{Data: csv}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if i%2 == 0 {
				if err := live.SetMembership(m); err != nil {
					t.Error(err)
				}
			} else if err := live.Reload(fsys, c, m); err != nil {
				t.Error(err)
			}
			_ = decide("user:default/bob")
		})
	}
	wg.Wait()
	if decide("user:default/bob") != permission.Allow {
		t.Error("after concurrent updates with one membership: bob should register")
	}
}

// TestLoadPathOutsideFS: a policy file named outside the fs.FS (Backstage's
// "../../rbac-policy.csv", an absolute path) is refused naming the key
// and what to do.
func TestLoadPathOutsideFS(t *testing.T) {
	for _, name := range []string{"../../rbac-policy.csv", "/etc/rbac-policy.csv"} {
		c := &Config{Enabled: true}
		c.RBAC.PoliciesCSVFile = name
		_, err := Load(fstest.MapFS{}, c, nil)
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "policies-csv-file") || !strings.Contains(err.Error(), "os.DirFS") {
			t.Errorf("%q: %v, want InvalidArgument naming the key and os.DirFS", name, err)
		}
	}
}

// TestLiveReloadFilesKeepsMembership: a file reload after an organisation
// update keeps the updated membership (a watcher holding the start-up
// snapshot would otherwise put the old one back).
func TestLiveReloadFilesKeepsMembership(t *testing.T) {
	csv, _ := os.ReadFile("testdata/policy.csv")
	fsys := fstest.MapFS{"policy.csv": {Data: csv}}
	c := &Config{Enabled: true}
	c.RBAC.PoliciesCSVFile = "policy.csv"
	live := NewLive(nil)
	if err := live.ReloadFiles(fsys, c); err != nil { // no policy yet: no organisation
		t.Fatal(err)
	}
	if err := live.Reload(fsys, c, testOrg()); err != nil {
		t.Fatal(err)
	}
	m := testOrg()
	m.Users["user:default/bob"] = []string{"group:default/platform-team"}
	if err := live.SetMembership(m); err != nil {
		t.Fatal(err)
	}
	if err := live.ReloadFiles(fsys, c); err != nil {
		t.Fatal(err)
	}
	d, err := live.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityCreate)}, user("user:default/bob"))
	if err != nil || d.Result != permission.Allow {
		t.Errorf("after ReloadFiles bob: %v %v, want ALLOW (the membership SetMembership gave)", d.Result, err)
	}
}
