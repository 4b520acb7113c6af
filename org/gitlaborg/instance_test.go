package gitlaborg_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// The instance mode: no group, every group the credential sees and every
// active user of a self-managed instance, as Backstage reads them.

func groupLines(snap *org.Snapshot) []string {
	var out []string
	for _, g := range snap.Groups {
		out = append(out, g.Metadata.Name+"<"+g.Spec.Parent+":"+strings.Join(g.Spec.Members, ","))
	}
	return out
}

func userLines(snap *org.Snapshot) []string {
	var out []string
	for _, u := range snap.Users {
		out = append(out, u.Metadata.Name+":"+strings.Join(u.Spec.MemberOf, ","))
	}
	return out
}

func TestInstanceGroupsAndUsers(t *testing.T) {
	tests := []struct {
		name     string
		cfg      gitlaborg.Config
		groups   []string
		users    []string
		requests int
	}{
		{
			name: "every active user",
			cfg:  gitlaborg.Config{},
			// Backstage's names: the full path, '/' -> '-', no prefix.
			groups: []string{"acme<:carol", "acme-platform<acme:bob", "acme-platform-sre<acme-platform:jane", "acme-web<acme:", "other<:eve"},
			// dave is on the instance only; the bot and the blocked
			// user never appear.
			users:    []string{"bob:acme-platform", "carol:acme", "dave:", "eve:other", "jane:acme-platform-sre"},
			requests: 2, // one GraphQL query, one page of users
		},
		{
			name:     "restrictUsersToGroup: the members of the groups read",
			cfg:      gitlaborg.Config{RestrictUsersToGroup: true},
			groups:   []string{"acme<:carol", "acme-platform<acme:bob", "acme-platform-sre<acme-platform:jane", "acme-web<acme:", "other<:eve"},
			users:    []string{"bob:acme-platform", "carol:acme", "eve:other", "jane:acme-platform-sre"},
			requests: 1,
		},
		{
			name: "allowInherited",
			cfg:  gitlaborg.Config{AllowInherited: true, RestrictUsersToGroup: true},
			groups: []string{"acme<:carol", "acme-platform<acme:bob,carol", "acme-platform-sre<acme-platform:bob,carol,jane",
				"acme-web<acme:carol", "other<:eve"},
			users:    []string{"bob:acme-platform,acme-platform-sre", "carol:acme,acme-platform,acme-platform-sre,acme-web", "eve:other", "jane:acme-platform-sre"},
			requests: 1,
		},
		{
			name:     "relations INHERITED only",
			cfg:      gitlaborg.Config{Relations: []string{"inherited"}, RestrictUsersToGroup: true},
			groups:   []string{"acme<:", "acme-platform<acme:carol", "acme-platform-sre<acme-platform:bob,carol", "acme-web<acme:carol", "other<:"},
			users:    []string{"bob:acme-platform-sre", "carol:acme-platform,acme-platform-sre,acme-web"},
			requests: 1,
		},
		{
			name:     "groupPattern",
			cfg:      gitlaborg.Config{GroupPattern: "^acme/platform", RestrictUsersToGroup: true},
			groups:   []string{"acme-platform<:bob", "acme-platform-sre<acme-platform:jane"},
			users:    []string{"bob:acme-platform", "jane:acme-platform-sre"},
			requests: 1,
		},
	}
	for _, sub := range []string{"", "/gitlab"} {
		for _, tt := range tests {
			t.Run(tt.name+" "+sub, func(t *testing.T) {
				w := newWorld(t, &fakegitlab.Options{RelativePath: sub})
				seed(t, w.fake)
				tt.cfg.ID = "instance"
				snap, err := w.reader(t, tt.cfg, nil).Read(context.Background())
				must(t, err)
				must(t, snap.Validate())
				if got := groupLines(snap); !slices.Equal(got, tt.groups) {
					t.Errorf("groups = %v\nwant     %v", got, tt.groups)
				}
				if got := userLines(snap); !slices.Equal(got, tt.users) {
					t.Errorf("users = %v\nwant    %v", got, tt.users)
				}
				if got := w.fake.Stats().Total; got != tt.requests {
					t.Errorf("requests = %d, want %d", got, tt.requests)
				}
			})
		}
	}
}

func TestInstanceEntities(t *testing.T) {
	w := newWorld(t, nil)
	seed(t, w.fake)
	snap, err := w.reader(t, gitlaborg.Config{}, nil).Read(context.Background())
	must(t, err)
	p := snap.Group(org.GroupRef("", "acme-platform"))
	if p == nil {
		t.Fatal("no group acme-platform")
	}
	if p.Metadata.Description != "Runs the platform" || p.Metadata.Annotations[w.fake.Host()+"/team-path"] != "acme/platform" ||
		p.Spec.Type != "team" || !slices.Equal(p.Spec.Children, []string{"acme-platform-sre"}) {
		t.Errorf("acme-platform = %+v", p)
	}
	if !org.NewIndex(snap).IsMember(org.UserRef("", "jane"), org.GroupRef("", "acme")) {
		t.Error("jane not in acme through the tree")
	}
	carol := snap.User(org.UserRef("", "carol"))
	if carol == nil || carol.Spec.Profile.Email != "carol@acme.example" || carol.Spec.Profile.DisplayName != "Carol" {
		t.Errorf("carol = %+v", carol)
	}
	var buf bytes.Buffer
	must(t, snap.WriteYAML(&buf))
	back, err := org.ParseYAML(buf.Bytes())
	must(t, err)
	if len(back.Groups) != len(snap.Groups) || len(back.Users) != len(snap.Users) {
		t.Errorf("read back %d groups, %d users", len(back.Groups), len(back.Users))
	}
}

// TestInstanceGitLabComNeedsGroup: gitlab.com without group is refused,
// naming the block and why, as in Backstage.
func TestInstanceGitLabComNeedsGroup(t *testing.T) {
	reg, err := integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: "gitlab.com", Token: integrations.NewSecret(token)}}})
	must(t, err)
	res, err := credentials.NewResolver(reg, nil)
	must(t, err)
	for _, host := range []string{"", "gitlab.com", "GitLab.com"} {
		_, err = gitlaborg.New(gitlaborg.Config{ID: "saas", Host: host, OrgEnabled: true}, &gitlaborg.Options{Registry: reg, Resolver: res})
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "catalog.providers.gitlab.saas") ||
			!strings.Contains(err.Error(), "group is required on gitlab.com") {
			t.Errorf("host %q: err = %v", host, err)
		}
	}
	// A group on gitlab.com is fine.
	if _, err := gitlaborg.New(gitlaborg.Config{ID: "saas", Group: "acme", OrgEnabled: true}, &gitlaborg.Options{Registry: reg, Resolver: res}); err != nil {
		t.Errorf("with a group: %v", err)
	}
}

// faultOnNth injects a fault into the fake just before the n-th request
// whose path ends with suffix.
type faultOnNth struct {
	base   http.RoundTripper
	fake   *fakegitlab.Server
	suffix string
	n      int64
	fault  fake.Fault
	seen   *atomic.Int64
}

func (f faultOnNth) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, f.suffix) && f.seen.Add(1) == f.n {
		f.fake.Inject(f.fault)
	}
	return f.base.RoundTrip(req)
}

// TestInstanceFaultOnPageN: a fault on any page (of groups, of users, of a
// big group's members) ends the read with an error and no snapshot.
func TestInstanceFaultOnPageN(t *testing.T) {
	faults := []struct {
		name  string
		fault fake.Fault
		code  errcode.Code
	}{
		{"server error", fake.Fault{Kind: fake.FaultServerError, Times: 1}, errcode.Unavailable},
		{"rate limited for long", fake.Fault{Kind: fake.FaultRateLimit, RetryAfter: time.Hour, Times: 1}, errcode.RateLimited},
		{"truncated", fake.Fault{Kind: fake.FaultTruncatedBody, Times: 1}, errcode.Unavailable},
	}
	pages := []struct {
		name   string
		suffix string
		n      int64
	}{
		{"users page 3", "/users", 3},
		{"groups page 2", "/graphql", 2},
		{"members page 2", "/graphql", 4}, // groups 1-3, then the members batch
	}
	for _, p := range pages {
		for _, ft := range faults {
			t.Run(p.name+" "+ft.name, func(t *testing.T) {
				w := newWorld(t, nil)
				seed(t, w.fake)
				for i := range 250 {
					must(t, w.fake.AddGroup(fmt.Sprintf("many/g%03d", i)))
					w.fake.AddOrgUser(fakegitlab.Member{Username: fmt.Sprintf("user%d", i)})
				}
				for i := range 150 {
					must(t, w.fake.AddGroupMember("acme/web", fakegitlab.Member{Username: fmt.Sprintf("user%d", i)}))
				}
				var seen atomic.Int64
				r := w.reader(t, gitlaborg.Config{}, func(o *gitlaborg.Options) {
					o.MaxRetries = -1
					o.Transport = faultOnNth{http.DefaultTransport, w.fake, p.suffix, p.n, ft.fault, &seen}
				})
				snap, err := r.Read(context.Background())
				if snap != nil || errcode.CodeOf(err) != ft.code {
					t.Fatalf("Read = %v, %v; want no snapshot and %v", snap != nil, err, ft.code)
				}
				if seen.Load() < p.n {
					t.Fatalf("only %d requests to %s: the fault was never armed", seen.Load(), p.suffix)
				}
				if strings.Contains(fmt.Sprintf("%v %+v", err, err), token) {
					t.Errorf("the token appears in the error: %v", err)
				}
				// Unfaulted, the same world reads completely.
				w.fake.ClearFaults()
				snap, err = w.reader(t, gitlaborg.Config{}, nil).Read(context.Background())
				must(t, err)
				if len(snap.Groups) != 5+251 || len(snap.Users) != 5+250 || len(snap.Group(org.GroupRef("", "acme-web")).Spec.Members) != 150 {
					t.Errorf("read %d groups, %d users", len(snap.Groups), len(snap.Users))
				}
			})
		}
	}
}

// parentRewrite rewrites the GraphQL answers: the groups named in parents
// (full path -> parent's full path) get the given parent, as a buggy or
// hostile server could answer.
func parentRewrite(parents map[string]string) readertest.Rewrite {
	return readertest.Rewrite{Path: "/graphql", Edit: func(_ *http.Response, b []byte) []byte {
		for child, parent := range parents {
			re := regexp.MustCompile(`("fullPath":"` + regexp.QuoteMeta(child) + `",[^{}]*"parent":)(null|\{"fullPath":"[^"]*"\})`)
			b = re.ReplaceAll(b, []byte(`${1}{"fullPath":"`+parent+`"}`))
		}
		return b
	}}
}

// TestInstanceGroupCycleImpossible: a parent is taken only when the
// child's path is under it, so an answer that would make a cycle (acme's
// parent acme/platform) or hang a group elsewhere cannot; both are
// reported.
func TestInstanceGroupCycleImpossible(t *testing.T) {
	for _, cfg := range []gitlaborg.Config{{}, {Group: "acme"}} {
		t.Run("group "+cfg.Group, func(t *testing.T) {
			w := newWorld(t, nil)
			seed(t, w.fake)
			cfg.RestrictUsersToGroup = true
			snap, err := w.reader(t, cfg, func(o *gitlaborg.Options) {
				o.Transport = parentRewrite(map[string]string{"acme": "acme/platform", "acme/web": "other"})
			}).Read(context.Background())
			must(t, err)
			must(t, snap.Validate())
			for _, g := range snap.Groups {
				if strings.HasSuffix(g.Metadata.Name, "acme") && g.Spec.Parent != "" || strings.HasSuffix(g.Metadata.Name, "web") && g.Spec.Parent != "acme" && g.Spec.Parent != "" {
					t.Errorf("group %s has parent %q", g.Metadata.Name, g.Spec.Parent)
				}
			}
			want := []string{"group acme: parent acme/platform left out", "group acme/web: parent other left out"}
			for _, wnt := range want {
				if !slices.ContainsFunc(snap.Warnings, func(s string) bool { return strings.HasPrefix(s, wnt) }) {
					t.Errorf("warnings %q lack %q", snap.Warnings, wnt)
				}
			}
			if !org.NewIndex(snap).IsMember(org.UserRef("", "jane"), org.GroupRef("", groupName(cfg, "acme/platform"))) {
				t.Error("jane not in acme/platform through the tree")
			}
		})
	}
}

func groupName(cfg gitlaborg.Config, path string) string {
	if cfg.Group != "" {
		path = strings.TrimPrefix(path, cfg.Group+"/")
	}
	return strings.ReplaceAll(path, "/", "-")
}

// TestInstanceUserWithoutUsableName: a username Backstage cannot name an
// entity by (GitLab allows 255 characters, entity names 63) is skipped,
// as a user and as a member, with a warning naming it.
func TestInstanceUserWithoutUsableName(t *testing.T) {
	w := newWorld(t, nil)
	seed(t, w.fake)
	long := "a" + strings.Repeat("b", 69)
	must(t, w.fake.AddGroupMember("acme/web", fakegitlab.Member{Username: long}))
	snap, err := w.reader(t, gitlaborg.Config{}, nil).Read(context.Background())
	must(t, err)
	must(t, snap.Validate())
	if snap.User(org.UserRef("", long)) != nil || len(snap.Group(org.GroupRef("", "acme-web")).Spec.Members) != 0 {
		t.Error("the user without a usable name was kept")
	}
	n := 0
	for _, s := range snap.Warnings {
		if strings.Contains(s, long) && strings.Contains(s, "skipped") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d warnings name %s: %q", n, long, snap.Warnings)
	}
	if len(snap.Users) != 5 {
		t.Errorf("users = %v", userLines(snap))
	}
}

// TestInstanceRepeatedCursor: an instance whose group listing repeats its
// cursor ends the read.
func TestInstanceRepeatedCursor(t *testing.T) {
	w := newWorld(t, nil)
	seed(t, w.fake)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := w.reader(t, gitlaborg.Config{}, func(o *gitlaborg.Options) {
		o.Transport = endlessGraphQL
	}).Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "repeated a page cursor") {
		t.Fatalf("snap = %v, err = %v", snap != nil, err)
	}
}

// BenchmarkReadInstanceBudget proves the budget of the instance mode: 200
// groups in 3 levels and 5,000 users cost at most ceil(5000/100) +
// ceil(200/100) + 1 = 53 requests.
func BenchmarkReadInstanceBudget(b *testing.B) {
	w := newWorld(b, nil)
	// 2 top-level groups, 18 second-level, 180 third-level: 200 groups.
	seedTree(b, w.fake, []string{"org0", "org1"}, 18, 180, 5000)
	readertest.Budget(b, w.reader(b, gitlaborg.Config{}, nil), w.counter(), 5000, 200, 53)
}

// renameQueryField makes the GraphQL queries ask for Query.groupz, a
// field the fake's schema lacks, as an instance older than Query.groups
// lacks groups.
type renameQueryField struct{ base http.RoundTripper }

func (r renameQueryField) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && strings.HasSuffix(req.URL.Path, "/graphql") {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		b = bytes.ReplaceAll(b, []byte("{ groups(first:"), []byte("{ groupz(first:"))
		req = req.Clone(req.Context())
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}
	return r.base.RoundTrip(req)
}

func TestInstanceWithoutQueryGroups(t *testing.T) {
	w := newWorld(t, nil)
	seed(t, w.fake)
	snap, err := w.reader(t, gitlaborg.Config{ID: "old"}, func(o *gitlaborg.Options) {
		o.Transport = renameQueryField{http.DefaultTransport}
	}).Read(context.Background())
	if snap != nil || errcode.CodeOf(err) != errcode.Unimplemented || !strings.Contains(err.Error(), "set group in catalog.providers.gitlab.old") {
		t.Fatalf("snap = %v, err = %v", snap != nil, err)
	}
}

// keysetAnswers turns the fake's offset-paged answers to GET /users into
// what GitLab sends with keyset pagination: no X-*-Page headers, only a
// Link rel="next", here pointing at another host (the reader must take
// only its query), and records the query of every users request.
type keysetAnswers struct {
	base    http.RoundTripper
	queries *[]string
	refuse  bool // answer a keyset request 405, as GitLab before 16.5
}

func (k keysetAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/users") {
		return k.base.RoundTrip(req)
	}
	*k.queries = append(*k.queries, req.URL.Host+" "+req.URL.RawQuery)
	if k.refuse && req.URL.Query().Get("pagination") == "keyset" {
		body := `{"message":"405 Method Not Allowed"}`
		return &http.Response{StatusCode: http.StatusMethodNotAllowed, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
	}
	resp, err := k.base.RoundTrip(req)
	if err != nil || k.refuse {
		return resp, err
	}
	for _, h := range []string{"X-Page", "X-Per-Page", "X-Total", "X-Total-Pages", "X-Next-Page", "X-Prev-Page"} {
		resp.Header.Del(h)
	}
	resp.Header.Set("Link", strings.ReplaceAll(resp.Header.Get("Link"), "http://"+req.URL.Host, "https://evil.example"))
	return resp, nil
}

// TestInstanceUsersKeysetPages: the instance's users are listed with
// keyset pagination (GitLab's offset pagination of /users stops at its
// offset limit, 50,000 by default): the pages GitLab links with only a
// Link header are all read, on the API's own host whatever host the link
// names; a GitLab that refuses keyset pagination for users (405, before
// 16.5) is read with offsets.
func TestInstanceUsersKeysetPages(t *testing.T) {
	want := []string{"bob:acme-platform", "carol:acme", "dave:", "eve:other", "jane:acme-platform-sre"}
	for _, refuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("refused %v", refuse), func(t *testing.T) {
			w := newWorld(t, &fakegitlab.Options{MaxPerPage: 2})
			seed(t, w.fake)
			var queries []string
			snap, err := w.reader(t, gitlaborg.Config{}, func(o *gitlaborg.Options) {
				o.Transport = keysetAnswers{http.DefaultTransport, &queries, refuse}
			}).Read(context.Background())
			must(t, err)
			if got := userLines(snap); !slices.Equal(got, want) {
				t.Errorf("users = %v, want %v", got, want)
			}
			wantReqs := 3 // 5 users, 2 a page
			if refuse {
				wantReqs = 4 // the refusal, then 3 offset pages
			}
			if len(queries) != wantReqs || !strings.Contains(queries[0], "pagination=keyset") {
				t.Errorf("users requests = %q, want %d, the first asking for keyset pagination", queries, wantReqs)
			}
			for _, q := range queries {
				if !strings.HasPrefix(q, w.fake.Host()+" ") {
					t.Errorf("a users request went to %q", q)
				}
			}
		})
	}
}
