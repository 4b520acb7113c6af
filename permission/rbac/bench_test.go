package rbac

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/permission"
)

// bigOrg is 10,000 users in 1,000 groups (a tree 4 levels deep, each user
// in 2 groups) and 200 policy lines: 150 p lines over 50 roles and 50 g
// lines binding groups to them.
func bigOrg() (*Membership, *File) {
	m := &Membership{Users: map[string][]string{}, Parents: map[string][]string{}}
	for g := 1; g < 1000; g++ {
		m.Parents[fmt.Sprintf("group:default/g%d", g)] = []string{fmt.Sprintf("group:default/g%d", (g-1)/10)}
	}
	for u := range 10000 {
		m.Users[fmt.Sprintf("user:default/u%d", u)] = []string{fmt.Sprintf("group:default/g%d", 111+u%889), fmt.Sprintf("group:default/g%d", 1+u%110)}
	}
	var b strings.Builder
	perms := []string{"catalog.entity.create, create", "catalog-entity, read", "catalog-entity, delete", "scaffolder-action, use", "catalog.location.create, create", "catalog.entity.refresh, update"}
	for i := range 150 {
		eff := "allow"
		if i%7 == 0 {
			eff = "deny"
		}
		fmt.Fprintf(&b, "p, role:default/r%d, %s, %s\n", i%50, perms[i%len(perms)], eff)
	}
	for i := range 50 {
		fmt.Fprintf(&b, "g, group:default/g%d, role:default/r%d\n", i*20, i)
	}
	f, err := ParseCSV("big.csv", strings.NewReader(b.String()))
	if err != nil {
		panic(err)
	}
	return m, f
}

func BenchmarkIndexBuild(b *testing.B) {
	m, f := bigOrg()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New([]*File{f}, m, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIndexBuildCoversOrg(t *testing.T) {
	m, f := bigOrg()
	p, err := New([]*File{f}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Every user and group is indexed (BenchmarkIndexBuild gives the
	// build time).
	if len(p.users) != 10000 || len(p.groups) != 1000 {
		t.Fatalf("indexed %d users and %d groups", len(p.users), len(p.groups))
	}
}

func BenchmarkDecide(b *testing.B) {
	m, f := bigOrg()
	p, err := New([]*File{f}, m, nil)
	if err != nil {
		b.Fatal(err)
	}
	users := make([]*identity.User, 1000)
	for i := range users {
		ref := fmt.Sprintf("user:default/u%d", i*10)
		users[i] = &identity.User{EntityRef: ref, OwnershipEntityRefs: []string{ref}}
	}
	q := permission.Query{Permission: permission.MustKnown(permission.CatalogEntityRead)}
	ctx := context.Background()
	// The users must mix decisions, or the benchmark measures one path
	// only: checked once, before the loop, so that any -benchtime works.
	allowed := 0
	for _, u := range users {
		if d, _ := p.Decide(ctx, q, u); d.Result == permission.Allow {
			allowed++
		}
	}
	if allowed == 0 || allowed == len(users) {
		b.Fatalf("%d of %d users allowed: the benchmark measures one decision only", allowed, len(users))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Decide(ctx, q, users[i%len(users)])
		i++
	}
}

func TestDecideAllocations(t *testing.T) {
	m, f := bigOrg()
	p, err := New([]*File{f}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := &identity.User{EntityRef: "user:default/u42", OwnershipEntityRefs: []string{"user:default/u42"}}
	for _, name := range []string{permission.CatalogEntityRead, permission.CatalogEntityCreate, permission.CatalogEntityRefresh} {
		q := permission.Query{Permission: permission.MustKnown(name)}
		n := testing.AllocsPerRun(100, func() { _, _ = p.Decide(context.Background(), q, u) })
		if n > 2 {
			t.Errorf("%s: %v allocations per decision, budget 2", name, n)
		}
	}
}
