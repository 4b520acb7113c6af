package scm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/scm"
)

// serviceOrUser answers with the user's credential when the request
// carries one, else with the service credential (nil: anonymous).
type serviceOrUser struct{ service *credentials.Credential }

func (r serviceOrUser) Resolve(ctx context.Context, req credentials.Request) (*credentials.Credential, error) {
	if req.User != nil {
		return req.User.Credential(ctx)
	}
	return r.service, nil
}

// auditSink collects events.
type auditSink struct {
	mu     sync.Mutex
	events []scm.AuditEvent
}

func (s *auditSink) record(_ context.Context, e scm.AuditEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

func (s *auditSink) take() []scm.AuditEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.events
	s.events = nil
	return out
}

const (
	appSecret   = "ghs_APPSECRET0001"
	tokenSecret = "ghp_TOKENSECRET002"
	userSecret  = "gho_USERSECRET0003"
)

// TestAuditEveryOperation: each operation emits one event naming the
// actor: anonymous, an app, a configured token, the user with her token,
// and the service acting on behalf of a user.
func TestAuditEveryOperation(t *testing.T) {
	app := &credentials.Credential{Kind: credentials.KindApp, Token: appSecret, Source: "github app 1 installation 2"}
	tok := &credentials.Credential{Kind: credentials.KindToken, Token: tokenSecret, Source: "integrations.github[0].token"}
	userCred := credentials.Static(credentials.Credential{Kind: credentials.KindUser, Token: userSecret, Source: "user github alice"})
	type actor struct {
		name     string
		res      scm.Resolver
		users    scm.UserCredentials
		opts     *scm.UserOptions
		wantKind credentials.Kind
		wantSrc  string
		wantUser string
		actor    string
	}
	actors := []actor{
		{name: "anonymous", res: nil, wantKind: credentials.KindAnonymous, actor: "anonymous"},
		{name: "app", res: serviceOrUser{app}, wantKind: credentials.KindApp, wantSrc: app.Source,
			actor: "service (app github app 1 installation 2)"},
		{name: "token", res: serviceOrUser{tok}, wantKind: credentials.KindToken, wantSrc: tok.Source,
			actor: "service (token integrations.github[0].token)"},
		{name: "user", res: serviceOrUser{app}, users: scm.UserCredentials{"github.com": userCred},
			opts:     &scm.UserOptions{User: "user:default/alice", UserDisplay: "github alice"},
			wantKind: credentials.KindUser, wantSrc: "user github alice", wantUser: "user:default/alice",
			actor: "user:default/alice with her own credential (user github alice)"},
		{name: "service on behalf of user", res: serviceOrUser{app},
			opts:     &scm.UserOptions{User: "user:default/bob", UserDisplay: "ldap bob"},
			wantKind: credentials.KindApp, wantSrc: app.Source, wantUser: "user:default/bob",
			actor: "service (app github app 1 installation 2) on behalf of user:default/bob"},
	}
	type opCase struct {
		op    string
		write bool
		repo  string
		run   func(ctx context.Context, c *scm.Client) error
	}
	ops := []opCase{
		{"scm.ReadFile", false, "basic", func(ctx context.Context, c *scm.Client) error {
			_, err := c.ReadFile(ctx, ghBase+"basic/blob/main/README.md", nil)
			return err
		}},
		{"scm.ReadTree", false, "basic", func(ctx context.Context, c *scm.Client) error {
			_, err := c.ReadTree(ctx, ghBase+"basic/tree/main/templates", nil)
			return err
		}},
		{"scm.Search", false, "basic", func(ctx context.Context, c *scm.Client) error {
			_, err := c.Search(ctx, ghBase+"basic/blob/main/**/*.yaml", nil)
			return err
		}},
		{"scm.ListRepositories", false, "", func(ctx context.Context, c *scm.Client) error {
			for _, err := range c.ListRepositories(ctx, "https://github.com/acme", nil) {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"scm.FindFiles", false, "", func(ctx context.Context, c *scm.Client) error {
			for _, err := range c.FindFiles(ctx, "https://github.com/acme", "README.md") {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{"scm.OpenPullRequest", true, "basic", func(ctx context.Context, c *scm.Client) error {
			_, err := c.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: ghBase + "basic", Branch: "audit-" + strings.ReplaceAll(fmt.Sprint(ctx.Value(branchKey{})), " ", "-"),
				Title: "t", Changes: []scm.Change{{Path: "x.txt", Content: []byte("x")}}})
			return err
		}},
		{"scm.CreateRepository", true, "", func(ctx context.Context, c *scm.Client) error {
			_, err := c.CreateRepository(ctx, "https://github.com/acme", &scm.RepositorySpec{Name: "created-" + strings.ReplaceAll(fmt.Sprint(ctx.Value(branchKey{})), " ", "-")},
				fstest.MapFS{"README.md": {Data: []byte("# new\n")}})
			return err
		}},
	}
	for _, a := range actors {
		for _, o := range ops {
			t.Run(a.name+"/"+o.op, func(t *testing.T) {
				sink := &auditSink{}
				c := newClient(t, newWorld(t).Opener(nil), a.res, &scm.Options{Audit: sink.record})
				if a.users != nil || a.opts != nil {
					c = c.ForUser(a.users, a.opts)
				}
				ctx := context.WithValue(t.Context(), branchKey{}, a.name)
				if err := o.run(ctx, c); err != nil {
					t.Fatal(err)
				}
				got := sink.take()
				if len(got) != 1 {
					t.Fatalf("%d events; want 1: %v", len(got), got)
				}
				e := got[0]
				type view struct {
					Op, Host, Owner, Repo, User, Src, Actor string
					Write                                   bool
					Kind                                    credentials.Kind
					Code                                    scm.ErrorCode
				}
				want := view{o.op, "github.com", "acme", o.repo, a.wantUser, a.wantSrc, a.actor, o.write, a.wantKind, scm.OK}
				if diff := cmp.Diff(want, view{e.Op, e.Host, e.Owner, e.Repo, e.User, e.CredentialSource, e.Actor(), e.Write, e.Credential, e.Code}); diff != "" {
					t.Errorf("event (-want +got):\n%s", diff)
				}
				if a.name == "service on behalf of user" && o.write && !e.OnBehalf() {
					t.Errorf("a write as the app for bob: OnBehalf() = false")
				}
				line := e.String()
				if o.write && a.wantUser != "" && (!strings.Contains(line, a.wantUser) || !strings.Contains(line, string(a.wantKind))) {
					t.Errorf("one line does not name both who and as whom: %s", line)
				}
				assertNoSecret(t, e, appSecret, tokenSecret, userSecret)
			})
		}
	}
}

type branchKey struct{}

// TestAuditFailures: a failed operation reports its code, and a URL's
// user information and query never reach the event.
func TestAuditFailures(t *testing.T) {
	sink := &auditSink{}
	app := &credentials.Credential{Kind: credentials.KindApp, Token: appSecret, Source: "github app 1 installation 2"}
	c := newClient(t, newWorld(t).Opener(nil), serviceOrUser{app}, &scm.Options{Audit: sink.record})
	cases := []struct {
		name, url string
		code      scm.ErrorCode
		kind      credentials.Kind
	}{
		{"missing file", ghBase + "basic/blob/main/nope.md", scm.NotFound, credentials.KindApp},
		{"secret in query", ghBase + "basic/blob/main/README.md?access_token=qsecretvalue", scm.OK, credentials.KindApp},
		{"secret in user info", "https://x:pwsecretvalue@github.com/acme/basic/blob/main/README.md", scm.InvalidArgument, ""},
		{"no integration", "https://elsewhere.example/acme/basic/blob/main/README.md", scm.PermissionDenied, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ReadFile(t.Context(), tc.url, nil)
			got := sink.take()
			if len(got) != 1 {
				t.Fatalf("%d events; want 1", len(got))
			}
			e := got[0]
			if e.Code != scm.Code(err) || e.Code != tc.code {
				t.Errorf("event code %v, error %v; want %v", e.Code, err, tc.code)
			}
			if e.Credential != tc.kind {
				t.Errorf("credential kind %q; want %q", e.Credential, tc.kind)
			}
			assertNoSecret(t, e, appSecret, "qsecretvalue", "pwsecretvalue")
		})
	}
	// Breaking out of a sequence early is a success.
	for range c.ListRepositories(t.Context(), "https://github.com/acme", nil) {
		break
	}
	if got := sink.take(); len(got) != 1 || got[0].Code != scm.OK {
		t.Errorf("events after an early break: %v; want one OK", got)
	}
}

// TestAuditLog: AuditLog writes one record holding the event.
func TestAuditLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	app := &credentials.Credential{Kind: credentials.KindApp, Token: appSecret, Source: "github app 1 installation 2"}
	c := newClient(t, newWorld(t).Opener(nil), serviceOrUser{app}, &scm.Options{Audit: scm.AuditLog(log)})
	v := c.ForUser(nil, &scm.UserOptions{User: "user:default/bob"})
	if _, err := v.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: ghBase + "basic", Branch: "b", Title: "t",
		Changes: []scm.Change{{Path: "x.txt", Content: []byte("x")}}}); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Msg   string `json:"msg"`
		Audit map[string]any
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if rec.Msg != "scm audit" || rec.Audit["op"] != "scm.OpenPullRequest" || rec.Audit["user"] != "user:default/bob" ||
		rec.Audit["credential"] != "app" || rec.Audit["code"] != "OK" {
		t.Errorf("record: %s", buf.String())
	}
	if strings.Contains(buf.String(), appSecret) {
		t.Errorf("record shows the token: %s", buf.String())
	}
}

// assertNoSecret checks the event under every verb, JSON and slog.
func assertNoSecret(t *testing.T, e scm.AuditEvent, secrets ...string) {
	t.Helper()
	var out []string
	for _, verb := range []string{"%s", "%q", "%v", "%+v", "%#v", "%x", "%X"} {
		out = append(out, fmt.Sprintf(verb, e), fmt.Sprintf(verb, &e))
	}
	js, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(js))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "e", e)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "e", e)
	out = append(out, buf.String())
	for _, o := range out {
		for _, s := range secrets {
			for _, form := range []string{s, fmt.Sprintf("%x", s), fmt.Sprintf("%X", s)} {
				if strings.Contains(o, form) {
					t.Errorf("event shows %s: %s", s, o)
				}
			}
		}
	}
}

// BenchmarkReadFileAudit measures what the audit hook adds to a ReadFile
// (memscm, one driver call per op): compare its sub-benchmarks' ns/op and
// allocs/op.
func BenchmarkReadFileAudit(b *testing.B) {
	app := &credentials.Credential{Kind: credentials.KindApp, Token: appSecret, Source: "github app 1 installation 2"}
	for _, tc := range []struct {
		name  string
		audit scm.AuditFunc
	}{
		{"none", nil},
		{"hook", func(context.Context, scm.AuditEvent) {}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := newWorld(b)
			c := newClient(b, w.Opener(nil), serviceOrUser{app}, &scm.Options{Audit: tc.audit})
			ctx := context.Background()
			before := w.Requests()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.ReadFile(ctx, ghBase+"basic/blob/main/README.md", nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w.Requests()-before)/float64(b.N), "requests/op")
		})
	}
}
