package githuborg_test

import (
	"bytes"
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
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

const token = "ghp_orgreadertoken123"

type world struct {
	fake *fakegithub.Server
	reg  *integrations.Registry
	res  *credentials.Resolver
}

func newWorld(t testing.TB) *world {
	t.Helper()
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{token}})
	t.Cleanup(fake.Close)
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Token: integrations.NewSecret(token)}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &world{fake, reg, res}
}

func (w *world) reader(t testing.TB, cfg githuborg.Config, mod func(*githuborg.Options)) *githuborg.Reader {
	t.Helper()
	if cfg.GitHubURL == "" {
		cfg.GitHubURL = "http://" + w.fake.Host()
	}
	opts := &githuborg.Options{Registry: w.reg, Resolver: w.res, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}
	if mod != nil {
		mod(opts)
	}
	r, err := githuborg.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seedAcme: engineering > platform-team > sre; web; four members.
func seedAcme(t testing.TB, f *fakegithub.Server) {
	for _, m := range []fakegithub.OrgMember{
		{Login: "jane", Name: "Jane Doe", Email: "jane@acme.example"},
		{Login: "bob"}, {Login: "carol", Name: "Carol"}, {Login: "dave"},
	} {
		must(t, f.AddOrgMember("acme", m))
	}
	must(t, f.AddTeam("acme", fakegithub.Team{Slug: "engineering", Name: "Engineering", Description: "All engineers", Members: []string{"carol"}}))
	must(t, f.AddTeam("acme", fakegithub.Team{Slug: "platform-team", Name: "Platform Team", Parent: "engineering", Members: []string{"jane", "bob"}}))
	must(t, f.AddTeam("acme", fakegithub.Team{Slug: "sre", Name: "SRE", Parent: "platform-team", Members: []string{"jane"}}))
	must(t, f.AddTeam("acme", fakegithub.Team{Slug: "web", Name: "Web"}))
}

func TestReadOrganisation(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	snap, err := w.reader(t, githuborg.Config{ID: "production", Orgs: []string{"acme"}}, nil).Read(context.Background())
	must(t, err)
	if got := w.fake.Stats().API; got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
	must(t, snap.Validate())
	var names []string
	for _, g := range snap.Groups {
		names = append(names, g.Ref().String())
	}
	if want := []string{"group:default/engineering", "group:default/platform-team", "group:default/sre", "group:default/web"}; !slices.Equal(names, want) {
		t.Errorf("groups = %v, want %v", names, want)
	}
	pt := snap.Group(org.GroupRef("", "platform-team"))
	if pt.Spec.Parent != "engineering" || !slices.Equal(pt.Spec.Children, []string{"sre"}) || !slices.Equal(pt.Spec.Members, []string{"bob", "jane"}) ||
		pt.Spec.Type != "team" || pt.Spec.Profile.DisplayName != "Platform Team" || pt.Metadata.Annotations["github.com/team-slug"] != "acme/platform-team" {
		t.Errorf("platform-team = %+v", pt)
	}
	if eng := snap.Group(org.GroupRef("", "engineering")); eng.Metadata.Description != "All engineers" || eng.Spec.Parent != "" {
		t.Errorf("engineering = %+v", eng)
	}
	jane := snap.User(org.UserRef("", "jane"))
	if jane == nil || jane.Spec.Profile.DisplayName != "Jane Doe" || jane.Spec.Profile.Email != "jane@acme.example" ||
		!slices.Equal(jane.Spec.MemberOf, []string{"platform-team", "sre"}) ||
		jane.Metadata.Annotations["github.com/user-login"] != "jane" || !strings.HasPrefix(jane.Metadata.Annotations["github.com/user-id"], "U_") ||
		!strings.HasPrefix(jane.Spec.Profile.Picture, "https://avatars.githubusercontent.com/") {
		t.Errorf("jane = %+v", jane)
	}
	if dave := snap.User(org.UserRef("", "dave")); dave == nil || dave.Spec.MemberOf == nil || len(dave.Spec.MemberOf) != 0 {
		t.Errorf("dave = %+v", dave)
	}
	x := org.NewIndex(snap)
	if !x.IsMember(org.UserRef("", "jane"), org.GroupRef("", "engineering")) || x.IsMember(org.UserRef("", "dave"), org.GroupRef("", "engineering")) {
		t.Error("index membership wrong")
	}
	// The YAML is a catalog file that reads back the same.
	var buf bytes.Buffer
	must(t, snap.WriteYAML(&buf))
	back, err := org.ParseYAML(buf.Bytes())
	must(t, err)
	if len(back.Users) != 4 || len(back.Groups) != 4 {
		t.Errorf("read back %d users %d groups", len(back.Users), len(back.Groups))
	}
}

func TestReadSeveralOrganisations(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	must(t, w.fake.AddOrgMember("Globex", fakegithub.OrgMember{Login: "jane"}))
	must(t, w.fake.AddTeam("Globex", fakegithub.Team{Slug: "ops", Members: []string{"jane"}}))
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme", "Globex"}}, nil).Read(context.Background())
	must(t, err)
	x := org.NewIndex(snap)
	if !x.IsMember(org.UserRef("globex", "jane"), org.GroupRef("globex", "ops")) || !x.IsMember(org.UserRef("acme", "jane"), org.GroupRef("acme", "sre")) ||
		x.IsMember(org.UserRef("acme", "jane"), org.GroupRef("globex", "ops")) {
		t.Errorf("namespaces per organisation wrong: %v", x.GroupsOf(org.UserRef("globex", "jane")))
	}
	if len(snap.Users) != 5 {
		t.Errorf("users = %d, want 5", len(snap.Users))
	}
}

func seedBig(t testing.TB, f *fakegithub.Server, members, teams, perTeam int) {
	for i := range members {
		must(t, f.AddOrgMember("big", fakegithub.OrgMember{Login: fmt.Sprintf("user-%d", i)}))
	}
	for i := range teams {
		tm := fakegithub.Team{Slug: fmt.Sprintf("team-%d", i)}
		if i > 0 {
			tm.Parent = fmt.Sprintf("team-%d", (i-1)/10)
		}
		for j := range perTeam {
			tm.Members = append(tm.Members, fmt.Sprintf("user-%d", (i*perTeam+j)%members))
		}
		must(t, f.AddTeam("big", tm))
	}
}

func TestBigTeamsAddTheirOwnPagesOnly(t *testing.T) {
	w := newWorld(t)
	seedBig(t, w.fake, 300, 3, 5)
	var huge []string
	for i := range 250 {
		huge = append(huge, fmt.Sprintf("user-%d", i))
	}
	must(t, w.fake.AddTeam("big", fakegithub.Team{Slug: "huge", Members: huge}))
	must(t, w.fake.AddTeam("big", fakegithub.Team{Slug: "large", Members: huge[:150]}))
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"big"}}, nil).Read(context.Background())
	must(t, err)
	// 3 member pages (teams fit the first), then huge and large advance
	// together: 1 query for their second pages, 1 for huge's third.
	if got := w.fake.Stats().API; got != 5 {
		t.Errorf("requests = %d, want 5", got)
	}
	if g := snap.Group(org.GroupRef("", "huge")); len(g.Spec.Members) != 250 {
		t.Errorf("huge has %d members", len(g.Spec.Members))
	}
	if g := snap.Group(org.GroupRef("", "large")); len(g.Spec.Members) != 150 {
		t.Errorf("large has %d members", len(g.Spec.Members))
	}
}

func TestAdaptivePageSizes(t *testing.T) {
	w := newWorld(t)
	seedBig(t, w.fake, 120, 60, 3)
	want, err := w.reader(t, githuborg.Config{Orgs: []string{"big"}}, nil).Read(context.Background())
	must(t, err)
	// 100 members + 50 teams x 100 members = 5,150 nodes: over 2,000.
	w.fake.SetOrgLimits(fakegithub.OrgLimits{MaxNodes: 2000})
	w.fake.ResetStats()
	got, err := w.reader(t, githuborg.Config{Orgs: []string{"big"}}, nil).Read(context.Background())
	must(t, err)
	if readertest.YAML(t, want) != readertest.YAML(t, got) {
		t.Error("the snapshot read with halved pages differs")
	}
	st := w.fake.Stats().API
	if st < 4 || st > 12 {
		t.Errorf("requests = %d: the pages were not halved as expected", st)
	}
}

func TestMissingPermissionNamesIt(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	w.fake.SetTokenScopes(token, "repo", "user:email")
	_, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil).Read(context.Background())
	if errcode.CodeOf(err) != errcode.PermissionDenied || !strings.Contains(err.Error(), "read:org") || !strings.Contains(err.Error(), "Members (read)") {
		t.Fatalf("err = %v, want PermissionDenied naming read:org", err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), token) {
		t.Error("the token appears in the error")
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault fake.Fault
		code  errcode.Code
	}{
		{"unauthorized", fake.Fault{Kind: fake.FaultUnauthorized}, errcode.Unauthorized},
		{"server error", fake.Fault{Kind: fake.FaultServerError}, errcode.Unavailable},
		{"gateway timeout", fake.Fault{Kind: fake.FaultServerError, Status: 504}, errcode.Unavailable},
		{"primary rate limit", fake.Fault{Kind: fake.FaultRateLimit}, errcode.RateLimited},
		{"secondary rate limit, long", fake.Fault{Kind: fake.FaultSecondaryRateLimit, RetryAfter: time.Hour}, errcode.RateLimited},
		{"not found", fake.Fault{Kind: fake.FaultNotFound}, errcode.NotFound},
		{"truncated", fake.Fault{Kind: fake.FaultTruncatedBody}, errcode.Unavailable},
		{"403 echoing the credential", fake.Fault{Kind: fake.FaultEchoCredentials, Status: 403}, errcode.PermissionDenied},
		{"502 page echoing the credential", fake.Fault{Kind: fake.FaultEchoCredentials, Status: 502}, errcode.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			seedBig(t, w.fake, 450, 2, 2)
			armed := atomic.Bool{}
			r := w.reader(t, githuborg.Config{Orgs: []string{"big"}}, func(o *githuborg.Options) {
				o.MaxRetries = -1
				// Fault from the second page on: what was read must not
				// come back as a snapshot.
				o.Progress = func(p org.Progress) {
					if p.Requests >= 1 && armed.CompareAndSwap(false, true) {
						w.fake.Inject(tt.fault)
					}
				}
			})
			snap, err := r.Read(context.Background())
			if snap != nil || errcode.CodeOf(err) != tt.code {
				t.Fatalf("Read = %v, %v; want no snapshot and %v", snap != nil, err, tt.code)
			}
			if !armed.Load() {
				t.Fatal("the fault was never armed")
			}
			if strings.Contains(fmt.Sprintf("%v %+v", err, err), token) {
				t.Errorf("the token appears in the error: %v", err)
			}
			if tt.code == errcode.RateLimited {
				if at, ok := errcode.RetryAt(err); !ok || at.Before(time.Now()) {
					t.Errorf("RetryAt = %v, %v", at, ok)
				}
			}
		})
	}
}

func TestSecondaryRateLimitIsWaitedOut(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	w.fake.Inject(fake.Fault{Kind: fake.FaultSecondaryRateLimit, RetryAfter: time.Second, Times: 1})
	start := time.Now()
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil).Read(context.Background())
	must(t, err)
	if len(snap.Users) != 4 || w.fake.Stats().API != 2 || time.Since(start) < 900*time.Millisecond {
		t.Errorf("users %d, requests %d, took %v", len(snap.Users), w.fake.Stats().API, time.Since(start))
	}
}

func TestCancelled(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	w.fake.Inject(fake.Fault{Kind: fake.FaultSlow, Delay: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil).Read(ctx)
	if c := errcode.CodeOf(err); c != errcode.DeadlineExceeded || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v (%v) after %v", err, c, time.Since(start))
	}
}

func TestUnknownOrganisation(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	_, err := w.reader(t, githuborg.Config{Orgs: []string{"nope"}}, nil).Read(context.Background())
	if errcode.CodeOf(err) != errcode.NotFound || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v", err)
	}
}

func TestUserWithNoUsableNameIsSkipped(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "-weird-"}))
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil).Read(context.Background())
	must(t, err)
	if len(snap.Users) != 4 || len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], `"-weird-"`) {
		t.Errorf("users %d, warnings %q", len(snap.Users), snap.Warnings)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	w := newWorld(t)
	for _, cfg := range []githuborg.Config{
		{},
		{Orgs: []string{"a/b"}},
		{Orgs: []string{"acme"}, GitHubURL: "ftp://x"},
		{Orgs: []string{"acme"}, GitHubURL: "https://unknown.example.com"},
	} {
		if _, err := githuborg.New(cfg, &githuborg.Options{Registry: w.reg, Resolver: w.res}); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("New(%+v) = %v, want InvalidArgument", cfg, err)
		}
	}
	if _, err := githuborg.New(githuborg.Config{Orgs: []string{"acme"}}, nil); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("nil options: %v", err)
	}
}

func TestDecodeConfig(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []githuborg.Config
		wantErr    bool
	}{
		{"object", "catalog:\n  providers:\n    githubOrg:\n      id: production\n      githubUrl: https://github.com\n      orgs: [acme]\n      pageSizes: {teams: 10}\n",
			[]githuborg.Config{{ID: "production", GitHubURL: "https://github.com", Orgs: []string{"acme"}, PageSizes: githuborg.PageSizes{Teams: 10}}}, false},
		{"useVerifiedEmails", "catalog:\n  providers:\n    githubOrg:\n      id: production\n      orgs: [acme]\n      defaultUserTransformer:\n        useVerifiedEmails: true\n",
			[]githuborg.Config{{ID: "production", Orgs: []string{"acme"}, DefaultUserTransformer: githuborg.UserTransformer{UseVerifiedEmails: true}}}, false},
		{"list", "catalog:\n  providers:\n    githubOrg:\n      - id: a\n        orgs: [x]\n      - id: b\n        orgs: [y, z]\n",
			[]githuborg.Config{{ID: "a", Orgs: []string{"x"}}, {ID: "b", Orgs: []string{"y", "z"}}}, false},
		{"absent", "app:\n  baseUrl: http://localhost\n", nil, false},
		{"bad type", "catalog:\n  providers:\n    githubOrg:\n      id: a\n      orgs: 3\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.LoadBytes(context.Background(), nil, []byte(tt.yaml))
			must(t, err)
			got, err := githuborg.DecodeConfig(cfg)
			if tt.wantErr {
				if errcode.CodeOf(err) != errcode.InvalidArgument {
					t.Fatalf("err = %v", err)
				}
				return
			}
			must(t, err)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// BenchmarkReadBudget proves the request budget: an organisation of 10,000
// members and 1,000 teams (10 members each), 120 GraphQL requests at most
// (Backstage's defaults: about 240).
func BenchmarkReadBudget(b *testing.B) {
	w := newWorld(b)
	seedBig(b, w.fake, 10000, 1000, 10)
	r := w.reader(b, githuborg.Config{Orgs: []string{"big"}}, nil)
	b.ResetTimer()
	readertest.Budget(b, r, readertest.Counter{Reset: w.fake.ResetStats, Requests: func() int { return w.fake.Stats().API }}, 10000, 1000, 120)
}

// TestTimeoutHalvesThePage: one 504 or one request timing out costs one
// more request with smaller pages, and the read goes on.
func TestTimeoutHalvesThePage(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault fake.Fault
		opts  func(*githuborg.Options)
	}{
		{"gateway timeout", fake.Fault{Kind: fake.FaultServerError, Status: 504, Times: 1}, nil},
		{"client timeout", fake.Fault{Kind: fake.FaultSlow, Delay: 5 * time.Second, Times: 1},
			func(o *githuborg.Options) { o.RequestTimeout = 300 * time.Millisecond }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			seedBig(t, w.fake, 150, 30, 3)
			want, err := w.reader(t, githuborg.Config{Orgs: []string{"big"}}, nil).Read(context.Background())
			must(t, err)
			w.fake.ResetStats()
			w.fake.Inject(tt.fault)
			got, err := w.reader(t, githuborg.Config{Orgs: []string{"big"}}, tt.opts).Read(context.Background())
			must(t, err)
			if readertest.YAML(t, want) != readertest.YAML(t, got) {
				t.Error("the snapshot differs after the halving")
			}
			// 2 pages before; the failed request, then 150 members in
			// pages of 50.
			if n := w.fake.Stats().API; n != 4 {
				t.Errorf("requests = %d, want 4", n)
			}
		})
	}
}

// TestTeamOf5000AddsItsOwnPagesOnly: 5,000 members in 50 pages, one team
// holding all of them: its first 100 members come with the team, the other
// 4,900 cost 49 queries more, nothing else.
func TestTeamOf5000AddsItsOwnPagesOnly(t *testing.T) {
	w := newWorld(t)
	var all []string
	for i := range 5000 {
		must(t, w.fake.AddOrgMember("big", fakegithub.OrgMember{Login: fmt.Sprintf("user-%d", i)}))
		all = append(all, fmt.Sprintf("user-%d", i))
	}
	must(t, w.fake.AddTeam("big", fakegithub.Team{Slug: "everyone", Members: all}))
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"big"}}, nil).Read(context.Background())
	must(t, err)
	if n := w.fake.Stats().API; n != 50+49 {
		t.Errorf("requests = %d, want 99", n)
	}
	if g := snap.Group(org.GroupRef("", "everyone")); len(g.Spec.Members) != 5000 {
		t.Errorf("%d members", len(g.Spec.Members))
	}
}

// TestBackstageFields: as Backstage's default transformers make them, a
// member's bio is her description and a team carries its settings page
// as backstage.io/edit-url (GraphQL's editTeamUrl); the same after
// Update reads them again or keeps them; no request more.
func TestBackstageFields(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	must(t, w.fake.AddOrgMember("acme", fakegithub.OrgMember{Login: "carol", Name: "Carol", Bio: "Runs the platform"}))
	r := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil)
	snap, err := r.Read(context.Background())
	must(t, err)
	if n := w.fake.Stats().API; n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
	check := func(when string, s *org.Snapshot) {
		t.Helper()
		if c := s.User(org.UserRef("", "carol")); c == nil || c.Metadata.Description != "Runs the platform" {
			t.Errorf("%s: carol = %+v, want her bio as description", when, c)
		}
		if j := s.User(org.UserRef("", "jane")); j == nil || j.Metadata.Description != "" {
			t.Errorf("%s: jane = %+v, want no description", when, j)
		}
		want := "http://" + w.fake.Host() + "/orgs/acme/teams/platform-team/edit"
		if g := s.Group(org.GroupRef("", "platform-team")); g == nil || g.Metadata.Annotations["backstage.io/edit-url"] != want {
			t.Errorf("%s: platform-team = %+v, want backstage.io/edit-url %s", when, g, want)
		}
	}
	check("Read", snap)
	got, err := r.Update(context.Background(), snap, githuborg.Change{Org: "acme", User: "jane"})
	must(t, err)
	check("Update of another member", got)
	got, err = r.Update(context.Background(), got, githuborg.Change{Org: "acme", User: "carol", Team: "platform-team"})
	must(t, err)
	check("Update of the team and member", got)
}
