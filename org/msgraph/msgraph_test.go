package msgraph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/org/msgraph"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func cfgFor(f *fakegraph.Server) msgraph.Config {
	c := msgraph.Config{ID: "default", Target: f.Target(), Authority: f.URL(), TenantID: f.TenantID(), ClientID: f.ClientID(),
		ClientSecret: integrations.NewSecret(f.ClientSecret())}
	return c
}

// inject returns a function that arms fault on a fake.
func inject(fault fake.Fault) func(*fakegraph.Server) {
	return func(f *fakegraph.Server) { f.Inject(fault) }
}

// letThrough lets the next n requests under path through untouched, so
// that a fault armed after it applies from the request n+1 on: the kit
// applies the first armed fault that matches, and a FaultSlow without
// delay answers normally.
func letThrough(f *fakegraph.Server, n int, path string) {
	f.Inject(fake.Fault{Kind: fake.FaultSlow, Times: n, Path: path})
}

func newReader(t testing.TB, c msgraph.Config, mod func(*msgraph.Options)) *msgraph.Reader {
	t.Helper()
	o := &msgraph.Options{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond}
	if mod != nil {
		mod(o)
	}
	r, err := msgraph.New(c, o)
	must(t, err)
	return r
}

// seed: Engineering (security group) contains Platform Team, which
// contains SRE. Jane in SRE, Bob in Platform Team, Carol in Engineering,
// Guest without mail in Engineering.
type ids struct{ jane, bob, carol, guest, eng, platform, sre, sales string }

func seed(f *fakegraph.Server) ids {
	var x ids
	x.jane = f.PutUser(fakegraph.User{DisplayName: "Jane Doe", Mail: "Jane.Doe@Contoso.com", UserPrincipalName: "jane@contoso.com", AccountEnabled: true})
	x.bob = f.PutUser(fakegraph.User{DisplayName: "Bob", Mail: "bob@contoso.com", UserPrincipalName: "bob@contoso.com", AccountEnabled: true})
	x.carol = f.PutUser(fakegraph.User{DisplayName: "Carol", Mail: "carol@contoso.com", UserPrincipalName: "carol@contoso.com", AccountEnabled: false})
	x.guest = f.PutUser(fakegraph.User{DisplayName: "Guest", UserPrincipalName: "guest_example.com#EXT#@contoso.com", UserType: "Guest", AccountEnabled: true})
	x.sre = f.PutGroup(fakegraph.Group{DisplayName: "SRE", MailNickname: "sre", SecurityEnabled: true, Members: []string{x.jane}})
	x.platform = f.PutGroup(fakegraph.Group{DisplayName: "Platform Team", MailNickname: "Platform-Team", Mail: "platform@contoso.com", Description: "Runs the platform", SecurityEnabled: true, Members: []string{x.bob, x.sre}})
	x.eng = f.PutGroup(fakegraph.Group{DisplayName: "Engineering", SecurityEnabled: true, Members: []string{x.carol, x.guest, x.platform}})
	x.sales = f.PutGroup(fakegraph.Group{DisplayName: "Sales (EMEA)", SecurityEnabled: false, MailEnabled: true})
	return x
}

func TestReadTenant(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	x := seed(f)
	snap, err := newReader(t, cfgFor(f), nil).Read(context.Background())
	must(t, err)
	must(t, snap.Validate())
	var groups []string
	for _, g := range snap.Groups {
		groups = append(groups, g.Metadata.Name+"<"+g.Spec.Parent+"("+g.Spec.Type+")")
	}
	if want := []string{"contoso<(root)", "engineering<contoso(team)", "platform-team<engineering(team)", "sales_emea<contoso(team)", "sre<platform-team(team)"}; !slices.Equal(groups, want) {
		t.Errorf("groups = %v, want %v", groups, want)
	}
	root := snap.Group(org.GroupRef("", "contoso"))
	if root.Metadata.Annotations["graph.microsoft.com/tenant-id"] != f.TenantID() || !slices.Equal(root.Spec.Children, []string{"engineering", "sales_emea"}) {
		t.Errorf("root = %+v", root)
	}
	pt := snap.Group(org.GroupRef("", "platform-team"))
	if pt.Metadata.Annotations["graph.microsoft.com/group-id"] != x.platform || pt.Spec.Profile.Email != "platform@contoso.com" ||
		pt.Metadata.Description != "Runs the platform" || !slices.Equal(pt.Spec.Members, []string{"bob_contoso.com"}) || !slices.Equal(pt.Spec.Children, []string{"sre"}) {
		t.Errorf("platform-team = %+v", pt)
	}
	jane := snap.User(org.UserRef("", "jane.doe_contoso.com"))
	if jane == nil || jane.Spec.Profile.Email != "Jane.Doe@Contoso.com" || jane.Metadata.Annotations["graph.microsoft.com/user-id"] != x.jane ||
		!slices.Equal(jane.Spec.MemberOf, []string{"contoso", "engineering", "platform-team", "sre"}) {
		t.Errorf("jane = %+v", jane)
	}
	if len(snap.Users) != 3 || len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], x.guest) || !strings.Contains(snap.Warnings[0], "guest_example.com#EXT#@contoso.com") {
		t.Errorf("users %d, warnings %q", len(snap.Users), snap.Warnings)
	}
	if st := f.Stats(); st.Graph != 3 || st.Token != 1 {
		t.Errorf("stats = %+v, want 3 Graph requests and 1 token", st)
	}
	for _, r := range f.Requests() {
		if r.Header.Get("ConsistencyLevel") != "" {
			t.Errorf("%s sent ConsistencyLevel without needing it", r.Path)
		}
	}
	idx := org.NewIndex(snap)
	if !idx.IsMember(org.UserRef("", "jane.doe_contoso.com"), org.GroupRef("", "engineering")) {
		t.Error("jane is not in engineering through the nesting")
	}
}

func TestDeltaSecondRunAndChanges(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	x := seed(f)
	r := newReader(t, cfgFor(f), nil)
	first, err := r.Read(context.Background())
	must(t, err)
	f.ResetStats()
	second, err := r.Read(context.Background())
	must(t, err)
	if st := f.Stats(); st.Graph > 4 || st.Token != 0 {
		t.Errorf("unchanged second run: %+v, want at most 4 Graph requests and no token", st)
	}
	if readertest.YAML(t, first) != readertest.YAML(t, second) {
		t.Error("the unchanged second run returned another snapshot")
	}
	// Changes: dave joins SRE, bob is deleted, Sales renamed.
	dave := f.PutUser(fakegraph.User{DisplayName: "Dave", Mail: "dave@contoso.com"})
	must(t, f.AddMember(x.sre, dave))
	f.DeleteUser(x.bob)
	f.PutGroup(fakegraph.Group{ID: x.sales, DisplayName: "Sales", MailNickname: "sales"})
	f.ResetStats()
	third, err := r.Read(context.Background())
	must(t, err)
	if st := f.Stats(); st.Graph > 4 {
		t.Errorf("changed run: %d requests", st.Graph)
	}
	// A fresh reader (full read) sees the same tenant.
	full, err := newReader(t, cfgFor(f), nil).Read(context.Background())
	must(t, err)
	if readertest.YAML(t, third) != readertest.YAML(t, full) {
		t.Errorf("incremental and full reads differ:\n%s\n---- full ----\n%s", readertest.YAML(t, third), readertest.YAML(t, full))
	}
	if third.User(org.UserRef("", "bob_contoso.com")) != nil || third.Group(org.GroupRef("", "sales")) == nil ||
		!slices.Contains(third.Group(org.GroupRef("", "sre")).Spec.Members, "dave_contoso.com") {
		t.Error("changes missing from the incremental read")
	}
}

func TestDeltaTokenExpiredReadsAgain(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	seed(f)
	r := newReader(t, cfgFor(f), nil)
	first, err := r.Read(context.Background())
	must(t, err)
	f.ExpireDeltaTokens()
	again, err := r.Read(context.Background())
	must(t, err)
	if readertest.YAML(t, first) != readertest.YAML(t, again) {
		t.Error("the read after an expired delta token differs")
	}
}

func TestMissingPermissionNamesIt(t *testing.T) {
	f := fakegraph.New(&fakegraph.Options{Permissions: []string{"User.Read.All"}})
	defer f.Close()
	seed(f)
	_, err := newReader(t, cfgFor(f), nil).Read(context.Background())
	if errcode.CodeOf(err) != errcode.PermissionDenied || !strings.Contains(err.Error(), "GroupMember.Read.All") || !strings.Contains(err.Error(), "Insufficient privileges") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadClientSecret(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	c := cfgFor(f)
	c.ClientSecret = integrations.NewSecret("wrong-secret-value")
	_, err := newReader(t, c, nil).Read(context.Background())
	if errcode.CodeOf(err) != errcode.Unauthorized || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("err = %v", err)
	}
	for _, s := range []string{fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%v", c)} {
		if strings.Contains(s, "wrong-secret-value") {
			t.Errorf("the secret shows: %s", s)
		}
	}
}

func TestThrottlingIsWaitedOut(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	seed(f)
	f.Inject(fake.Fault{Kind: fake.FaultTooManyRequests, Times: 1, RetryAfter: time.Second, Path: "/v1.0/users"}) // after /organization
	f.Inject(fake.Fault{Kind: fake.FaultServerError, Status: http.StatusServiceUnavailable, Times: 1, RetryAfter: time.Second, Path: "/v1.0/groups"})
	start := time.Now()
	snap, err := newReader(t, cfgFor(f), nil).Read(context.Background())
	must(t, err)
	if len(snap.Users) != 3 || f.Stats().Graph != 5 || time.Since(start) < 1900*time.Millisecond {
		t.Errorf("users %d, requests %d, took %v", len(snap.Users), f.Stats().Graph, time.Since(start))
	}
}

func TestFaultsNeverGivePartialSnapshots(t *testing.T) {
	tests := []struct {
		name  string
		fault func(*fakegraph.Server)
		code  errcode.Code
	}{
		// A delta read sends /organization, /users/delta, /groups/delta.
		{"server error on page 2", inject(fake.Fault{Kind: fake.FaultServerError, Path: "/v1.0/groups"}), errcode.Unavailable},
		{"throttled for an hour", inject(fake.Fault{Kind: fake.FaultTooManyRequests, Path: "/v1.0/groups", RetryAfter: time.Hour}), errcode.RateLimited},
		{"unauthorized", inject(fake.Fault{Kind: fake.FaultUnauthorized, Path: "/v1.0/users"}), errcode.Unauthorized},
		{"forbidden", func(f *fakegraph.Server) { f.SetPermissions("User.Read.All") }, errcode.PermissionDenied}, // groups denied
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fakegraph.New(nil)
			defer f.Close()
			for i := range 30 {
				f.PutUser(fakegraph.User{DisplayName: fmt.Sprint("u", i), Mail: fmt.Sprintf("u%d@contoso.com", i)})
			}
			seed(f)
			r := newReader(t, cfgFor(f), func(o *msgraph.Options) { o.MaxRetries = -1 })
			good, err := r.Read(context.Background())
			must(t, err)
			f.PutUser(fakegraph.User{DisplayName: "late", Mail: "late@contoso.com"})
			tt.fault(f)
			snap, err := r.Read(context.Background())
			if snap != nil || errcode.CodeOf(err) != tt.code {
				t.Fatalf("Read = %v, %v; want no snapshot and %v", snap != nil, err, tt.code)
			}
			// A failed read keeps the previous delta state: the next read
			// gets the change it missed.
			f.ClearFaults()
			f.SetPermissions("User.Read.All", "GroupMember.Read.All")
			after, err := r.Read(context.Background())
			must(t, err)
			if len(after.Users) != len(good.Users)+1 || after.User(org.UserRef("", "late_contoso.com")) == nil {
				t.Errorf("after the fault: %d users, want %d with late", len(after.Users), len(good.Users)+1)
			}
		})
	}
}

func TestFirstRunFaultOnALaterPage(t *testing.T) {
	f := fakegraph.New(&fakegraph.Options{})
	defer f.Close()
	for i := range 2500 {
		f.PutUser(fakegraph.User{DisplayName: fmt.Sprint("u", i), Mail: fmt.Sprintf("u%d@contoso.com", i)})
	}
	letThrough(f, 1, "/v1.0/users")
	f.Inject(fake.Fault{Kind: fake.FaultServerError, Path: "/v1.0/users"}) // page 2 of 3
	snap, err := newReader(t, cfgFor(f), func(o *msgraph.Options) { o.MaxRetries = -1 }).Read(context.Background())
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("Read = %v, %v", snap != nil, err)
	}
}

func TestCancelled(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	seed(f)
	f.Inject(fake.Fault{Kind: fake.FaultSlow, Delay: 10 * time.Second, Path: "/v1.0/users"}) // after /organization
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newReader(t, cfgFor(f), nil).Read(ctx)
	if errcode.CodeOf(err) != errcode.DeadlineExceeded || time.Since(start) > 3*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestQueryMode(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	seed(f)
	tests := []struct {
		name         string
		mod          func(*msgraph.Config)
		users        []string
		consistency  bool
		groupsAtMost int
	}{
		{"user filter, basic", func(c *msgraph.Config) { c.User.Filter = "accountEnabled eq true" },
			[]string{"bob_contoso.com", "jane.doe_contoso.com"}, false, 10},
		{"user filter ne needs advanced", func(c *msgraph.Config) { c.User.Filter = "userType ne 'Guest'" },
			[]string{"bob_contoso.com", "carol_contoso.com", "jane.doe_contoso.com"}, true, 10},
		{"group search", func(c *msgraph.Config) { c.Group.Search = `"displayName:team"` },
			[]string{"bob_contoso.com", "carol_contoso.com", "jane.doe_contoso.com"}, true, 2},
		{"user group members", func(c *msgraph.Config) { c.UserGroupMember.Filter = "displayName eq 'SRE'" },
			[]string{"jane.doe_contoso.com"}, false, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfgFor(f)
			tt.mod(&c)
			f.ResetStats()
			snap, err := newReader(t, c, nil).Read(context.Background())
			must(t, err)
			var users []string
			for _, u := range snap.Users {
				users = append(users, u.Metadata.Name)
			}
			if !slices.Equal(users, tt.users) {
				t.Errorf("users = %v, want %v", users, tt.users)
			}
			if len(snap.Groups) > tt.groupsAtMost {
				t.Errorf("%d groups", len(snap.Groups))
			}
			sent := false
			for _, r := range f.Requests() {
				if r.Header.Get("ConsistencyLevel") == "eventual" {
					sent = true
				}
				if strings.Contains(r.Path, "+") {
					t.Errorf("%s: a space encoded as '+'", r.Path)
				}
				if strings.Contains(r.Path, "$top=") && !strings.Contains(r.Path, "$top=999") {
					t.Errorf("%s: page size is not 999", r.Path)
				}
			}
			if sent != tt.consistency {
				t.Errorf("ConsistencyLevel sent = %v, want %v", sent, tt.consistency)
			}
		})
	}
}

func TestPhotos(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	f.PutUser(fakegraph.User{DisplayName: "Jane", Mail: "jane@contoso.com", Photo: []byte{0xff, 0xd8, 0xff}})
	f.PutUser(fakegraph.User{DisplayName: "Bob", Mail: "bob@contoso.com"})
	c := cfgFor(f)
	yes := true
	c.User.LoadPhotos = &yes
	r := newReader(t, c, nil)
	snap, err := r.Read(context.Background())
	must(t, err)
	if p := snap.User(org.UserRef("", "jane_contoso.com")).Spec.Profile.Picture; p != "data:image/jpeg;base64,/9j/" {
		t.Errorf("picture = %q", p)
	}
	if p := snap.User(org.UserRef("", "bob_contoso.com")).Spec.Profile.Picture; p != "" {
		t.Errorf("bob's picture = %q", p)
	}
	// The second, incremental read keeps the photos of unchanged users.
	f.ResetStats()
	again, err := r.Read(context.Background())
	must(t, err)
	if readertest.YAML(t, again) != readertest.YAML(t, snap) {
		t.Error("the second read differs")
	}
	for _, req := range f.Requests() {
		if strings.Contains(req.Path, "/photos/") {
			t.Errorf("photo fetched again: %s", req.Path)
		}
	}
}

// foreignLinks rewrites Graph's nextLinks to another host.
var foreignLinks = readertest.Rewrite{Edit: func(resp *http.Response, b []byte) []byte {
	return bytes.ReplaceAll(b, []byte(`"@odata.nextLink":"http://`+resp.Request.URL.Host), []byte(`"@odata.nextLink":"http://evil.example`))
}}

func TestNextLinkToAnotherHostIsRefused(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	for i := range 1200 {
		f.PutUser(fakegraph.User{DisplayName: fmt.Sprint("u", i), Mail: fmt.Sprintf("u%d@contoso.com", i)})
	}
	_, err := newReader(t, cfgFor(f), func(o *msgraph.Options) { o.Transport = foreignLinks }).Read(context.Background())
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v", err)
	}
	for _, r := range f.Requests() {
		if strings.Contains(r.Path, "evil") {
			t.Error("a request followed the foreign link")
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	tests := []func(*msgraph.Config){
		func(c *msgraph.Config) { c.TenantID = "" },
		func(c *msgraph.Config) { c.TenantID = "a/b" },
		func(c *msgraph.Config) { c.ClientSecret = integrations.Secret{} },
		func(c *msgraph.Config) { c.Target = "http://graph.example.com/v1.0" },
		func(c *msgraph.Config) { c.Authority = "ftp://x" },
		func(c *msgraph.Config) { c.QueryMode = "fast" },
		func(c *msgraph.Config) { c.User.Filter = "a eq 'b'"; c.UserGroupMember.Search = `"displayName:x"` },
	}
	for i, mod := range tests {
		c := cfgFor(f)
		mod(&c)
		if _, err := msgraph.New(c, nil); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("case %d: err = %v, want InvalidArgument", i, err)
		}
	}
}

func TestDecodeConfig(t *testing.T) {
	single := "catalog:\n  providers:\n    microsoftGraphOrg:\n      tenantId: t1\n      clientId: c\n      clientSecret: s3cr3t-value\n      user:\n        filter: accountEnabled eq true\n        loadPhotos: false\n      queryMode: advanced\n"
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(single))
	must(t, err)
	got, err := msgraph.DecodeConfig(cfg)
	must(t, err)
	if len(got) != 1 || got[0].ID != "default" || got[0].TenantID != "t1" || got[0].ClientSecret.Reveal() != "s3cr3t-value" ||
		got[0].User.Filter != "accountEnabled eq true" || got[0].User.LoadPhotos == nil || *got[0].User.LoadPhotos || got[0].QueryMode != "advanced" {
		t.Errorf("single = %+v", got)
	}
	if strings.Contains(fmt.Sprintf("%v %+v", got, got), "s3cr3t-value") {
		t.Error("the secret shows when the config is printed")
	}
	multi := "catalog:\n  providers:\n    microsoftGraphOrg:\n      prod:\n        tenantId: t1\n      dev:\n        tenantId: t2\n        group:\n          search: '\"displayName:x\"'\n"
	cfg, err = config.LoadBytes(context.Background(), nil, []byte(multi))
	must(t, err)
	got, err = msgraph.DecodeConfig(cfg)
	must(t, err)
	if len(got) != 2 || got[0].ID != "dev" || got[1].ID != "prod" || got[0].Group.Search != `"displayName:x"` {
		t.Errorf("multi = %+v", got)
	}
}

func seedBig(f *fakegraph.Server, users, groups int) {
	uids := make([]string, users)
	for i := range users {
		uids[i] = f.PutUser(fakegraph.User{DisplayName: fmt.Sprint("User ", i), Mail: fmt.Sprintf("user%d@contoso.com", i), AccountEnabled: true})
	}
	gids := make([]string, groups)
	for i := range groups {
		gids[i] = f.NewID()
	}
	for i := range groups {
		var members []string
		for j := range 10 {
			members = append(members, uids[(i*10+j)%users])
		}
		for c := i*10 + 1; c <= i*10+10 && c < groups; c++ {
			members = append(members, gids[c])
		}
		f.PutGroup(fakegraph.Group{ID: gids[i], DisplayName: fmt.Sprint("Team ", i), MailNickname: fmt.Sprint("team-", i), Members: members})
	}
}

// BenchmarkReadBudget proves the budgets for 10,000 users and 1,000 groups:
// at most 40 Graph requests on the first run (Backstage, photos off: about
// 1,100) and at most 4 on an unchanged second run, plus one token request
// for both.
func BenchmarkReadBudget(b *testing.B) {
	f := fakegraph.New(nil)
	defer f.Close()
	seedBig(f, 10000, 1000)
	var first, second, tokens int
	for b.Loop() {
		r := newReader(b, cfgFor(f), nil)
		f.ResetStats()
		s1, err := r.Read(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		first, tokens = f.Stats().Graph, f.Stats().Token
		f.ResetStats()
		s2, err := r.Read(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		second, tokens = f.Stats().Graph, tokens+f.Stats().Token
		if len(s1.Users) != 10000 || len(s1.Groups) != 1001 || len(s2.Users) != 10000 {
			b.Fatalf("users %d groups %d", len(s1.Users), len(s1.Groups))
		}
	}
	b.ReportMetric(float64(first), "requests/op")
	b.ReportMetric(float64(second), "second-run-requests/op")
	b.ReportMetric(float64(tokens), "token-requests/op") // both runs: the token is cached between them
	if first > 40 || second > 4 || tokens != 1 {
		b.Errorf("requests: first %d (budget 40), second %d (budget 4), token %d (budget 1)", first, second, tokens)
	}
}

func TestNoSecretShows(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	r := newReader(t, cfgFor(f), nil)
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("reader", "r", r, "cfg", cfgFor(f))
	cfgJSON, err := json.Marshal(cfgFor(f))
	must(t, err)
	for _, s := range []string{fmt.Sprintf("%v", r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r), fmt.Sprintf("%s", r), fmt.Sprintf("%q", r),
		fmt.Sprintf("%+v", cfgFor(f)), fmt.Sprintf("%#v", cfgFor(f)), buf.String(), string(cfgJSON)} {
		if strings.Contains(s, f.ClientSecret()) {
			t.Errorf("the client secret shows: %s", s)
		}
	}
	if !strings.Contains(r.String(), f.TenantID()) {
		t.Errorf("String = %q", r.String())
	}
}

func TestStateAcrossProcesses(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	seed(f)
	first := newReader(t, cfgFor(f), nil)
	if st, err := first.State(); st != nil || err != nil {
		t.Fatalf("State before a read = %q, %v", st, err)
	}
	want, err := first.Read(context.Background())
	must(t, err)
	state, err := first.State()
	must(t, err)
	if bytes.Contains(state, []byte(f.ClientSecret())) {
		t.Error("the state holds the client secret")
	}
	usedDelta := func() bool {
		for _, r := range f.Requests() {
			if strings.Contains(r.Path, "$deltatoken=") {
				return true
			}
		}
		return false
	}
	other := cfgFor(f)
	other.TenantID = "contoso.onmicrosoft.com"
	for _, tt := range []struct {
		name  string
		cfg   msgraph.Config
		state []byte
		delta bool
	}{
		{"saved state", cfgFor(f), state, true},
		{"corrupt state", cfgFor(f), []byte(`{"v":1,`), false},
		{"another tenant's state", other, state, false},
		{"links to another host", cfgFor(f), bytes.ReplaceAll(state, []byte(f.URL()), []byte("http://evil.example")), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f.ResetStats()
			var logs bytes.Buffer
			r := newReader(t, tt.cfg, func(o *msgraph.Options) {
				o.State = tt.state
				o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			if ignored := strings.Contains(logs.String(), "ignoring the saved state"); ignored == tt.delta {
				t.Errorf("state ignored = %v, want %v (log: %s)", ignored, !tt.delta, logs.String())
			}
			got, err := r.Read(context.Background())
			if tt.cfg.TenantID != f.TenantID() {
				if err == nil { // the fake knows one tenant
					t.Fatal("read of an unknown tenant succeeded")
				}
				return
			}
			must(t, err)
			if usedDelta() != tt.delta {
				t.Errorf("delta used = %v, want %v", usedDelta(), tt.delta)
			}
			if readertest.YAML(t, got) != readertest.YAML(t, want) {
				t.Error("the snapshot differs")
			}
		})
	}
}
