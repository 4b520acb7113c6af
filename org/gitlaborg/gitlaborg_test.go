package gitlaborg_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

const token = "glpat-orgreadertoken1234"

type world struct {
	fake *fakegitlab.Server
	reg  *integrations.Registry
	res  *credentials.Resolver
}

func newWorld(t testing.TB, opts *fakegitlab.Options) *world {
	t.Helper()
	if opts == nil {
		opts = &fakegitlab.Options{}
	}
	opts.Tokens = []string{token}
	fake := fakegitlab.New(opts)
	t.Cleanup(fake.Close)
	reg, err := integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), BaseURL: fake.URL(), Token: integrations.NewSecret(token)}}})
	must(t, err)
	res, err := credentials.NewResolver(reg, nil)
	must(t, err)
	return &world{fake, reg, res}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) reader(t testing.TB, c gitlaborg.Config, mod func(*gitlaborg.Options)) *gitlaborg.Reader {
	t.Helper()
	c.Host = w.fake.Host()
	c.OrgEnabled = true
	o := &gitlaborg.Options{Registry: w.reg, Resolver: w.res, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}
	if mod != nil {
		mod(o)
	}
	r, err := gitlaborg.New(c, o)
	must(t, err)
	return r
}

// seed: acme > platform > sre; acme > web. jane in sre, bob in platform,
// carol in acme, a bot and a blocked user in web; dave only on the
// instance.
func seed(t testing.TB, f *fakegitlab.Server) {
	must(t, f.AddGroupMember("acme", fakegitlab.Member{Username: "carol", Name: "Carol", PublicEmail: "carol@acme.example", AccessLevel: 50}))
	must(t, f.AddGroupMember("acme/platform", fakegitlab.Member{Username: "bob"}))
	must(t, f.AddGroupMember("acme/platform/sre", fakegitlab.Member{Username: "jane", Name: "Jane Doe"}))
	must(t, f.AddGroupMember("acme/web", fakegitlab.Member{Username: "project_1_bot", Bot: true}))
	must(t, f.AddGroupMember("acme/web", fakegitlab.Member{Username: "mallory", State: "blocked"}))
	f.SetGroupDescription("acme/platform", "Runs the platform")
	f.AddOrgUser(fakegitlab.Member{Username: "dave"})
	must(t, f.AddGroup("other"))
	must(t, f.AddGroupMember("other", fakegitlab.Member{Username: "eve"}))
}

func TestReadGroups(t *testing.T) {
	for _, sub := range []string{"", "/gitlab"} {
		t.Run("relative path "+sub, func(t *testing.T) {
			w := newWorld(t, &fakegitlab.Options{RelativePath: sub, MaxComplexity: 250})
			seed(t, w.fake)
			snap, err := w.reader(t, gitlaborg.Config{ID: "main", Group: "acme", RestrictUsersToGroup: true}, nil).Read(context.Background())
			must(t, err)
			must(t, snap.Validate())
			var groups []string
			for _, g := range snap.Groups {
				groups = append(groups, g.Metadata.Name+"<"+g.Spec.Parent)
			}
			if want := []string{"acme<", "platform<acme", "platform-sre<platform", "web<acme"}; !slices.Equal(groups, want) {
				t.Errorf("groups = %v, want %v", groups, want)
			}
			var users []string
			for _, u := range snap.Users {
				users = append(users, u.Metadata.Name+":"+strings.Join(u.Spec.MemberOf, ","))
			}
			if want := []string{"bob:platform", "carol:acme", "jane:platform-sre"}; !slices.Equal(users, want) {
				t.Errorf("users = %v, want %v", users, want)
			}
			p := snap.Group(org.GroupRef("", "platform"))
			if p.Metadata.Description != "Runs the platform" || p.Metadata.Annotations[w.fake.Host()+"/team-path"] != "acme/platform" ||
				!slices.Equal(p.Spec.Children, []string{"platform-sre"}) || !slices.Equal(p.Spec.Members, []string{"bob"}) {
				t.Errorf("platform = %+v", p)
			}
			carol := snap.User(org.UserRef("", "carol"))
			if carol.Spec.Profile.Email != "carol@acme.example" || carol.Metadata.Annotations[w.fake.Host()+"/user-login"] != w.fake.URL()+"/carol" {
				t.Errorf("carol = %+v", carol)
			}
			if got := w.fake.Stats().Total; got != 1 {
				t.Errorf("requests = %d, want 1", got)
			}
			if !org.NewIndex(snap).IsMember(org.UserRef("", "jane"), org.GroupRef("", "acme")) {
				t.Error("jane not in acme through the tree")
			}
		})
	}
}

func TestAllInstanceUsersAndInherited(t *testing.T) {
	w := newWorld(t, nil)
	seed(t, w.fake)
	snap, err := w.reader(t, gitlaborg.Config{Group: "acme", AllowInherited: true}, nil).Read(context.Background())
	must(t, err)
	var users []string
	for _, u := range snap.Users {
		users = append(users, u.Metadata.Name+":"+strings.Join(u.Spec.MemberOf, ","))
	}
	// carol is inherited by every subgroup; dave and eve come from the
	// instance's user list; bots and blocked users never appear.
	if want := []string{"bob:platform,platform-sre", "carol:acme,platform,platform-sre,web", "dave:", "eve:", "jane:platform-sre"}; !slices.Equal(users, want) {
		t.Errorf("users = %v, want %v", users, want)
	}
}

func TestBigGroupsAndAdaptivePages(t *testing.T) {
	// Group big has 250 members, mid the first 120 of them.
	bigAndMid := func(w *world) {
		for i := range 250 {
			must(t, w.fake.AddGroupMember("acme/big", fakegitlab.Member{Username: fmt.Sprintf("u%d", i)}))
		}
		for i := range 120 {
			must(t, w.fake.AddGroupMember("acme/mid", fakegitlab.Member{Username: fmt.Sprintf("u%d", i)}))
		}
	}
	w := newWorld(t, nil)
	bigAndMid(w)
	snap, err := w.reader(t, gitlaborg.Config{Group: "acme", RestrictUsersToGroup: true}, nil).Read(context.Background())
	must(t, err)
	if got := w.fake.Stats().Total; got != 3 {
		t.Errorf("requests = %d, want 3 (tree, then big and mid together, then big)", got)
	}
	if n := len(snap.Group(org.GroupRef("", "big")).Spec.Members); n != 250 {
		t.Errorf("big has %d members", n)
	}
	// GitLab refuses queries over its complexity limit: pages halve.
	w2 := newWorld(t, &fakegitlab.Options{MaxComplexity: 60})
	bigAndMid(w2)
	snap2, err := w2.reader(t, gitlaborg.Config{Group: "acme", RestrictUsersToGroup: true}, nil).Read(context.Background())
	must(t, err)
	if n := w2.fake.Stats().Total; n <= 3 {
		t.Errorf("requests = %d: no query was refused and halved", n)
	}
	if readertest.YAML(t, snap) != strings.ReplaceAll(readertest.YAML(t, snap2), w2.fake.Host(), w.fake.Host()) {
		t.Error("the read with halved pages differs")
	}
}

func TestMissingScopeNamesIt(t *testing.T) {
	w := newWorld(t, nil)
	seed(t, w.fake)
	w.fake.SetTokenScopes(token, "read_repository")
	_, err := w.reader(t, gitlaborg.Config{Group: "acme", RestrictUsersToGroup: true}, nil).Read(context.Background())
	if errcode.CodeOf(err) != errcode.PermissionDenied || !strings.Contains(err.Error(), "read_api") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v", err, err), token) {
		t.Error("the token shows in the error")
	}
}

func TestUnknownGroup(t *testing.T) {
	w := newWorld(t, nil)
	seed(t, w.fake)
	_, err := w.reader(t, gitlaborg.Config{Group: "nope"}, nil).Read(context.Background())
	if errcode.CodeOf(err) != errcode.NotFound || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v", err)
	}
}

func TestFaultsNeverGivePartialSnapshots(t *testing.T) {
	tests := []struct {
		name  string
		fault fake.Fault
		code  errcode.Code
	}{
		{"unauthorized", fake.Fault{Kind: fake.FaultUnauthorized}, errcode.Unauthorized},
		{"server error", fake.Fault{Kind: fake.FaultServerError}, errcode.Unavailable},
		{"rate limited for long", fake.Fault{Kind: fake.FaultRateLimit, RetryAfter: time.Hour}, errcode.RateLimited},
		{"403 echoing the credential", fake.Fault{Kind: fake.FaultEchoCredentials, Status: 403}, errcode.PermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			seed(t, w.fake)
			for i := range 450 {
				w.fake.AddOrgUser(fakegitlab.Member{Username: fmt.Sprintf("user%d", i)})
			}
			var armed atomic.Bool
			r := w.reader(t, gitlaborg.Config{Group: "acme"}, func(o *gitlaborg.Options) {
				o.MaxRetries = -1
				o.Progress = func(p org.Progress) {
					if p.Phase == "users" && armed.CompareAndSwap(false, true) {
						w.fake.Inject(tt.fault)
					}
				}
			})
			snap, err := r.Read(context.Background())
			if snap != nil || errcode.CodeOf(err) != tt.code || !armed.Load() {
				t.Fatalf("Read = %v, %v (armed %v); want no snapshot and %v", snap != nil, err, armed.Load(), tt.code)
			}
			if strings.Contains(fmt.Sprintf("%v %+v", err, err), token) {
				t.Errorf("the token appears in the error: %v", err)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	w := newWorld(t, nil)
	for _, c := range []gitlaborg.Config{
		{Host: w.fake.Host(), Group: "a/../b"},
		{Host: "unknown.example.com", Group: "acme"},
		{Host: w.fake.Host(), Group: "acme", Relations: []string{"DESCENDANTS"}},
		{Host: w.fake.Host(), Group: "acme", GroupPattern: "("},
	} {
		if _, err := gitlaborg.New(c, &gitlaborg.Options{Registry: w.reg, Resolver: w.res}); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("New(%+v) = %v", c, err)
		}
	}
}

func TestDecodeConfig(t *testing.T) {
	yaml := "catalog:\n  providers:\n    gitlab:\n      main:\n        host: gitlab.example.com\n        group: acme\n        orgEnabled: true\n        restrictUsersToGroup: true\n        relations: [INHERITED]\n      repos:\n        host: gitlab.example.com\n        group: acme\n"
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(yaml))
	must(t, err)
	got, err := gitlaborg.DecodeConfig(cfg)
	must(t, err)
	if len(got) != 1 || got[0].ID != "main" || !got[0].RestrictUsersToGroup || !slices.Equal(got[0].Relations, []string{"INHERITED"}) {
		t.Errorf("got %+v", got)
	}
}

// BenchmarkReadBudget proves the budget: a 3-level tree of 200 groups and
// 5,000 users costs at most ceil(5000/100) + ceil(200/100) + 1 = 53
// requests, reading every instance user.
func BenchmarkReadBudget(b *testing.B) {
	w := newWorld(b, nil)
	// 1 root, 9 second-level groups, 190 third-level: 200 groups.
	seedTree(b, w.fake, []string{"acme"}, 9, 190, 5000)
	readertest.Budget(b, w.reader(b, gitlaborg.Config{Group: "acme"}, nil), w.counter(), 5000, 200, 53)
}

// seedTree adds a tree of groups in 3 levels: the roots, mids groups
// below them in turn, leaves groups below those in turn, and users users,
// each a member of the next group in that order.
func seedTree(t testing.TB, fake *fakegitlab.Server, roots []string, mids, leaves, users int) {
	paths := slices.Clone(roots)
	for i := range mids {
		paths = append(paths, fmt.Sprintf("%s/d%d", roots[i%len(roots)], i))
	}
	for i := range leaves {
		paths = append(paths, fmt.Sprintf("%s/d%d/t%d", roots[(i%mids)%len(roots)], i%mids, i))
	}
	for i := range users {
		must(t, fake.AddGroupMember(paths[i%len(paths)], fakegitlab.Member{Username: fmt.Sprintf("user%d", i)}))
	}
}

// counter counts the fake's requests for readertest.Budget.
func (w *world) counter() readertest.Counter {
	return readertest.Counter{Reset: w.fake.ResetStats, Requests: func() int { return w.fake.Stats().Total }}
}

func TestCancelledAndTruncated(t *testing.T) {
	w := newWorld(t, nil)
	seed(t, w.fake)
	w.fake.Inject(fake.Fault{Kind: fake.FaultSlow, Delay: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := w.reader(t, gitlaborg.Config{Group: "acme"}, nil).Read(ctx)
	if errcode.CodeOf(err) != errcode.DeadlineExceeded || time.Since(start) > 3*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	w.fake.ClearFaults()
	w.fake.Inject(fake.Fault{Kind: fake.FaultTruncatedBody, Times: 1})
	snap, err := w.reader(t, gitlaborg.Config{Group: "acme"}, func(o *gitlaborg.Options) { o.MaxRetries = -1 }).Read(context.Background())
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("truncated: %v, %v", snap != nil, err)
	}
}

func TestGroupNamesThatCollide(t *testing.T) {
	w := newWorld(t, nil)
	must(t, w.fake.AddGroupMember("acme/b-c", fakegitlab.Member{Username: "ann"}))
	must(t, w.fake.AddGroupMember("acme/b/c", fakegitlab.Member{Username: "ben"}))
	snap, err := w.reader(t, gitlaborg.Config{Group: "acme", RestrictUsersToGroup: true}, nil).Read(context.Background())
	must(t, err)
	must(t, snap.Validate())
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], `"b-c"`) {
		t.Errorf("warnings = %q", snap.Warnings)
	}
}

// TestSaaSSeats reads "gitlab.com" (served by the fake): the users are the
// root group's members, and one using no seat is left out everywhere
// unless includeUsersWithoutSeat.
func TestSaaSSeats(t *testing.T) {
	fake := fakegitlab.New(&fakegitlab.Options{Tokens: []string{token}})
	t.Cleanup(fake.Close)
	reg, err := integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: "gitlab.com", APIBaseURL: fake.APIBaseURL(), BaseURL: fake.URL(), Token: integrations.NewSecret(token)}}})
	must(t, err)
	res, err := credentials.NewResolver(reg, nil)
	must(t, err)
	must(t, fake.AddGroupMember("acme", fakegitlab.Member{Username: "carol"}))
	must(t, fake.AddGroupMember("acme", fakegitlab.Member{Username: "guest", AccessLevel: 10, NoSeat: true}))
	must(t, fake.AddGroupMember("acme/platform", fakegitlab.Member{Username: "guest", AccessLevel: 10, NoSeat: true}))
	must(t, fake.AddGroupMember("acme/platform", fakegitlab.Member{Username: "bob"}))
	fake.AddOrgUser(fakegitlab.Member{Username: "stranger"}) // on the instance, in no group of acme

	for _, tc := range []struct {
		name    string
		cfg     gitlaborg.Config
		want    []string
		members []string // of group platform
	}{
		{"default", gitlaborg.Config{Group: "acme"}, []string{"bob", "carol"}, []string{"bob"}},
		{"includeUsersWithoutSeat", gitlaborg.Config{Group: "acme", IncludeUsersWithoutSeat: true}, []string{"bob", "carol", "guest"}, []string{"bob", "guest"}},
		{"restrict", gitlaborg.Config{Group: "acme", RestrictUsersToGroup: true}, []string{"bob", "carol"}, []string{"bob"}},
		{"subgroup", gitlaborg.Config{Group: "acme/platform"}, []string{"bob", "carol"}, []string{"bob"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			c.ID, c.Host, c.OrgEnabled = "saas", "gitlab.com", true
			r, err := gitlaborg.New(c, &gitlaborg.Options{Registry: reg, Resolver: res, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond})
			must(t, err)
			snap, err := r.Read(context.Background())
			must(t, err)
			var got []string
			for _, u := range snap.Users {
				got = append(got, u.Metadata.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("users = %v, want %v", got, tc.want)
			}
			name := "platform"
			if c.Group == "acme/platform" {
				name = "acme/platform"
			}
			var g *org.Group
			for i := range snap.Groups {
				if snap.Groups[i].Metadata.Annotations["gitlab.com/team-path"] == "acme/platform" {
					g = &snap.Groups[i]
				}
			}
			if g == nil {
				t.Fatalf("group %s missing", name)
			}
			m := slices.Clone(g.Spec.Members)
			slices.Sort(m)
			if !slices.Equal(m, tc.members) {
				t.Errorf("members of %s = %v, want %v", name, m, tc.members)
			}
		})
	}
}

// TestNameCollision: "acme/b-c" and "acme/b/c" both make the entity name
// "b-c" under Backstage's rule; both are left out (review 28: whichever is
// kept could be the impostor), with a warning naming both.
func TestNameCollision(t *testing.T) {
	w := newWorld(t, nil)
	for _, p := range []string{"acme", "acme/b-c", "acme/b", "acme/b/c"} {
		must(t, w.fake.AddGroup(p))
	}
	snap, err := w.reader(t, gitlaborg.Config{Group: "acme", RestrictUsersToGroup: true}, nil).Read(context.Background())
	must(t, err)
	if len(snap.Groups) != 2 {
		t.Errorf("%d groups, want 2 (acme, b; neither b-c)", len(snap.Groups))
	}
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], `name "b-c" is contested`) || !strings.Contains(snap.Warnings[0], "acme/b-c, acme/b/c") {
		t.Errorf("warnings = %q", snap.Warnings)
	}
}
