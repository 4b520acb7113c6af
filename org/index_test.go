package org

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
)

func refsString(rs []Ref) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.String())
	}
	return out
}

// org tree: engineering > platform-team > sre; engineering > web.
// jane in sre (via spec.members), bob in web (via memberOf), carol in
// engineering, dave in nothing, erin only referenced by members of an
// external group.
func treeSnapshot() *Snapshot {
	return &Snapshot{
		Groups: []Group{
			{Metadata: Metadata{Name: "engineering"}, Spec: GroupSpec{Type: "department", Children: []string{"platform-team", "web"}}},
			{Metadata: Metadata{Name: "platform-team"}, Spec: GroupSpec{Type: "team", Parent: "engineering"}},
			{Metadata: Metadata{Name: "sre"}, Spec: GroupSpec{Type: "team", Parent: "group:default/platform-team", Members: []string{"jane"}}},
			{Metadata: Metadata{Name: "web"}, Spec: GroupSpec{Type: "team"}},
			{Metadata: Metadata{Name: "guild", Namespace: "other"}, Spec: GroupSpec{Type: "guild", Members: []string{"user:default/erin"}}},
		},
		Users: []User{
			{Metadata: Metadata{Name: "jane"}},
			{Metadata: Metadata{Name: "bob"}, Spec: UserSpec{MemberOf: []string{"web"}}},
			{Metadata: Metadata{Name: "carol"}, Spec: UserSpec{MemberOf: []string{"group:default/engineering", "external-team"}}},
			{Metadata: Metadata{Name: "dave"}},
		},
	}
}

func TestIndexMembership(t *testing.T) {
	x := NewIndex(treeSnapshot())
	u := func(n string) Ref { return UserRef("", n) }
	g := func(n string) Ref { return GroupRef("", n) }
	tests := []struct {
		user, group    Ref
		member, direct bool
	}{
		{u("jane"), g("sre"), true, true},
		{u("jane"), g("platform-team"), true, false},
		{u("jane"), g("engineering"), true, false},
		{u("jane"), g("web"), false, false},
		{u("bob"), g("web"), true, true},
		{u("bob"), g("engineering"), true, false},
		{u("bob"), g("platform-team"), false, false},
		{u("carol"), g("engineering"), true, true},
		{u("carol"), g("sre"), false, false},
		{u("carol"), g("external-team"), true, true},
		{u("dave"), g("engineering"), false, false},
		{u("erin"), GroupRef("other", "guild"), true, true},
		{u("erin"), g("guild"), false, false},
		{Ref{"User", "DEFAULT", "JANE"}, Ref{"GROUP", "", "Engineering"}, true, false},
		{Ref{"", "", "jane"}, Ref{"", "", "engineering"}, true, false},
		{g("jane"), g("engineering"), false, false},        // wrong kind
		{u("jane"), u("engineering"), false, false},        // wrong kind
		{u("nobody"), g("engineering"), false, false},      // unknown user
		{u("jane"), g("no-such-group"), false, false},      // unknown group
		{UserRef("other", "jane"), g("sre"), false, false}, // other namespace
	}
	for _, tt := range tests {
		if got := x.IsMember(tt.user, tt.group); got != tt.member {
			t.Errorf("IsMember(%v, %v) = %v, want %v", tt.user, tt.group, got, tt.member)
		}
		if got := x.IsDirectMember(tt.user, tt.group); got != tt.direct {
			t.Errorf("IsDirectMember(%v, %v) = %v, want %v", tt.user, tt.group, got, tt.direct)
		}
	}
	if got, want := refsString(x.GroupsOf(u("jane"))), []string{"group:default/engineering", "group:default/platform-team", "group:default/sre"}; !slices.Equal(got, want) {
		t.Errorf("GroupsOf(jane) = %v, want %v", got, want)
	}
	if got, want := refsString(x.DirectGroupsOf(u("carol"))), []string{"group:default/engineering", "group:default/external-team"}; !slices.Equal(got, want) {
		t.Errorf("DirectGroupsOf(carol) = %v, want %v", got, want)
	}
	if got, want := refsString(x.MembersOf(g("engineering"))), []string{"user:default/bob", "user:default/carol", "user:default/jane"}; !slices.Equal(got, want) {
		t.Errorf("MembersOf(engineering) = %v, want %v", got, want)
	}
	if got, want := refsString(x.Ancestors(g("sre"))), []string{"group:default/engineering", "group:default/platform-team"}; !slices.Equal(got, want) {
		t.Errorf("Ancestors(sre) = %v, want %v", got, want)
	}
	if x.GroupsOf(u("nobody")) != nil || len(x.Cycles()) != 0 {
		t.Error("unknown user has groups, or a tree has cycles")
	}
	if x.Users() != 5 || x.Groups() != 6 {
		t.Errorf("Users, Groups = %d, %d; want 5, 6", x.Users(), x.Groups())
	}
}

func TestIndexCycles(t *testing.T) {
	s := &Snapshot{
		Groups: []Group{
			{Metadata: Metadata{Name: "a"}, Spec: GroupSpec{Type: "team", Parent: "b", Members: []string{"ann"}}},
			{Metadata: Metadata{Name: "b"}, Spec: GroupSpec{Type: "team", Parent: "c"}},
			{Metadata: Metadata{Name: "c"}, Spec: GroupSpec{Type: "team", Parent: "a"}},
			{Metadata: Metadata{Name: "top"}, Spec: GroupSpec{Type: "team", Children: []string{"c"}}},
			{Metadata: Metadata{Name: "self"}, Spec: GroupSpec{Type: "team", Parent: "self", Members: []string{"sam"}}},
		},
	}
	x := NewIndex(s)
	cy := x.Cycles()
	if len(cy) != 2 {
		t.Fatalf("Cycles = %v, want 2", cy)
	}
	if got, want := refsString(cy[0]), []string{"group:default/a", "group:default/b", "group:default/c"}; !slices.Equal(got, want) {
		t.Errorf("cycle = %v, want %v", got, want)
	}
	if got, want := refsString(cy[1]), []string{"group:default/self"}; !slices.Equal(got, want) {
		t.Errorf("cycle = %v, want %v", got, want)
	}
	for _, grp := range []string{"a", "b", "c", "top"} {
		if !x.IsMember(UserRef("", "ann"), GroupRef("", grp)) {
			t.Errorf("ann not in %s", grp)
		}
	}
	if !x.IsMember(UserRef("", "sam"), GroupRef("", "self")) || x.IsMember(UserRef("", "sam"), GroupRef("", "top")) {
		t.Error("self-loop membership wrong")
	}
}

func syntheticOrg(users, groups, fanout, perUser int) *Snapshot {
	s := &Snapshot{}
	for i := range groups {
		g := Group{Metadata: Metadata{Name: fmt.Sprintf("team-%d", i)}, Spec: GroupSpec{Type: "team"}}
		if i > 0 {
			g.Spec.Parent = fmt.Sprintf("team-%d", (i-1)/fanout)
		}
		s.Groups = append(s.Groups, g)
	}
	for i := range users {
		u := User{Metadata: Metadata{Name: fmt.Sprintf("user-%d", i)}}
		for j := range perUser {
			u.Spec.MemberOf = append(u.Spec.MemberOf, fmt.Sprintf("team-%d", (i*7+j*131)%groups))
		}
		s.Users = append(s.Users, u)
	}
	return s
}

func TestIndexLarge(t *testing.T) {
	s := syntheticOrg(10000, 1000, 10, 2)
	x := NewIndex(s)
	// team-0 is the root: everyone is in it.
	if got := len(x.MembersOf(GroupRef("", "team-0"))); got != 10000 {
		t.Errorf("members of the root = %d, want 10000", got)
	}
	if allocs := testing.AllocsPerRun(100, func() { x.IsMember(UserRef("", "user-5"), GroupRef("", "team-0")) }); allocs != 0 {
		t.Errorf("IsMember allocates %v times", allocs)
	}
}

func BenchmarkIndexBuild(b *testing.B) {
	s := syntheticOrg(10000, 1000, 10, 2)
	b.ReportAllocs()
	for b.Loop() {
		NewIndex(s)
	}
}

// BenchmarkIsMember measures a membership query on a 10,000-user,
// 1,000-group index. Besides the wall-clock ns/op it reports cpu-ns/op, the
// CPU time of the benchmark's own thread per query, which other processes
// competing for the CPU do not inflate.
func BenchmarkIsMember(b *testing.B) {
	s := syntheticOrg(10000, 1000, 10, 2)
	x := NewIndex(s)
	users := []Ref{UserRef("", "user-4242"), UserRef("", "user-17"), UserRef("default", "user-9999")}
	groups := []Ref{GroupRef("", "team-0"), GroupRef("", "team-999"), GroupRef("", "team-17")}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	start := threadCPU()
	i, n := 0, 0
	for b.Loop() {
		if x.IsMember(users[i%3], groups[i%3]) {
			n++
		}
		i++
	}
	b.ReportMetric(float64(threadCPU()-start)/float64(i), "cpu-ns/op")
	if n == 0 {
		b.Fatal("no query found a member")
	}
}

func TestBreakCycles(t *testing.T) {
	s := &Snapshot{Groups: []Group{
		{Metadata: Metadata{Name: "a"}, Spec: GroupSpec{Type: "team", Parent: "b"}},
		{Metadata: Metadata{Name: "b"}, Spec: GroupSpec{Type: "team", Children: []string{"a"}, Parent: "a"}},
		{Metadata: Metadata{Name: "c"}, Spec: GroupSpec{Type: "team", Parent: "c"}},
	}}
	w := s.BreakCycles()
	if len(w) != 2 {
		t.Fatalf("warnings = %q, want 2", w)
	}
	if len(NewIndex(s).Cycles()) != 0 || s.Validate() != nil {
		t.Errorf("cycles remain: %v %v", NewIndex(s).Cycles(), s.Validate())
	}
	if s.Groups[1].Spec.Parent != "" && s.Groups[0].Spec.Parent != "" {
		t.Error("no parent link was dropped between a and b")
	}
}
