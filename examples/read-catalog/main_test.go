package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/examples/internal/testenv"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// The tests set an environment variable (the config's token), so they
// are not parallel.

func entity(kind, name string) string {
	return fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: %s\nmetadata:\n  name: %s\n", kind, name)
}

// squeeze collapses the runs of blanks of a table, so that tests need not
// depend on column widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestReadOneFile(t *testing.T) {
	g := testenv.NewGitHub(t)
	g.AddRepo(t, "acme", "svc", "catalog-info.yaml",
		entity("Component", "svc")+"---\n"+
			"apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: svc-api\n  namespace: payments\n")
	u := g.WebURL("acme/svc/blob/main/catalog-info.yaml")

	o := testenv.Exec(t, run, "-config", g.Config, u)
	if o.Err != nil {
		t.Fatalf("run: %v\nstderr: %s", o.Err, o.Stderr)
	}
	for _, want := range []string{
		"Component default svc " + u,
		"API payments svc-api " + u,
		"2 entities in 1 file; 1 HTTP request (" + g.Host() + " 1)",
	} {
		if !strings.Contains(squeeze(o.Stdout), want) {
			t.Errorf("stdout lacks %q; got:\n%s", want, o.Stdout)
		}
	}
	if got := g.Stats().API; got != 1 {
		t.Errorf("API requests: got %d; want 1", got)
	}
}

func TestDiscoverOwner(t *testing.T) {
	g := testenv.NewGitHub(t)
	for i := range 5 {
		name := fmt.Sprintf("svc%d", i)
		g.AddRepo(t, "acme", name, "catalog-info.yaml", entity("Component", name), "README.md", "# "+name)
	}
	g.AddRepo(t, "acme", "docs", "README.md", "no catalog file here")
	for _, r := range []fakegithub.Repo{
		{Owner: "acme", Name: "old", Archived: true, Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte(entity("Component", "old"))}}},
		{Owner: "acme", Name: "forked", Fork: true, Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte(entity("Component", "forked"))}}},
	} {
		if _, err := g.Server.AddRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	g.AddRepo(t, "other", "svc", "catalog-info.yaml", entity("Component", "not-acme"))

	tests := []struct {
		name       string
		flags      []string
		want, skip []string
	}{
		{name: "all", want: []string{"svc0", "svc1", "svc2", "svc3", "svc4", "old", "forked"}, skip: []string{"not-acme"}},
		{name: "skip archived and forks", flags: []string{"-skip-archived", "-skip-forks"},
			want: []string{"svc0", "svc1", "svc2", "svc3", "svc4"}, skip: []string{"old", "forked", "not-acme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.ResetStats()
			args := append([]string{"-config", g.Config, g.WebURL("acme")}, tt.flags...) // flags after the URL work too
			o := testenv.Exec(t, run, args...)
			if o.Err != nil {
				t.Fatalf("run: %v\nstderr: %s", o.Err, o.Stderr)
			}
			for _, name := range tt.want {
				line := fmt.Sprintf("Component default %s %s", name, g.WebURL("acme/"+name+"/blob/main/catalog-info.yaml"))
				if !strings.Contains(squeeze(o.Stdout), line) {
					t.Errorf("stdout lacks %q; got:\n%s", line, o.Stdout)
				}
			}
			for _, name := range tt.skip {
				if strings.Contains(o.Stdout, " "+name+" ") {
					t.Errorf("stdout shows %s; got:\n%s", name, o.Stdout)
				}
			}
			summary := fmt.Sprintf("%d entities in %d files", len(tt.want), len(tt.want))
			if !strings.Contains(o.Stdout, summary) {
				t.Errorf("stdout lacks %q; got:\n%s", summary, o.Stdout)
			}
			// One GraphQL query finds the files; one read per file.
			if got, want := g.Stats().API, 1+len(tt.want); got != want {
				t.Errorf("API requests: got %d; want %d", got, want)
			}
		})
	}
}

func TestDirectoryURL(t *testing.T) {
	g := testenv.NewGitHub(t)
	g.AddRepo(t, "acme", "mono", "services/api/catalog.yaml", entity("Component", "api"))
	o := testenv.Exec(t, run, "-config", g.Config, "-path", "catalog.yaml", g.WebURL("acme/mono/tree/main/services/api"))
	if o.Err != nil {
		t.Fatalf("run: %v\nstderr: %s", o.Err, o.Stderr)
	}
	if want := "Component default api " + g.WebURL("acme/mono/blob/main/services/api/catalog.yaml"); !strings.Contains(squeeze(o.Stdout), want) {
		t.Errorf("stdout lacks %q; got:\n%s", want, o.Stdout)
	}
}

func TestErrors(t *testing.T) {
	g := testenv.NewGitHub(t)
	g.AddRepo(t, "acme", "svc", "catalog-info.yaml", entity("Component", "svc"),
		"bad.yaml", "kind: Component\nmetadata:\n  name: x\n")
	tests := []struct {
		name     string
		args     []string
		setup    func(t *testing.T)
		wantCode scm.ErrorCode
		wantMsg  string
	}{
		{name: "missing file", args: []string{g.WebURL("acme/svc/blob/main/nope.yaml")}, wantCode: scm.NotFound},
		{name: "invalid entity", args: []string{g.WebURL("acme/svc/blob/main/bad.yaml")}, wantCode: scm.InvalidArgument,
			wantMsg: "apiVersion: required"},
		{name: "bad token", args: []string{g.WebURL("acme/svc/blob/main/catalog-info.yaml")}, wantCode: scm.Unauthorized,
			setup: func(t *testing.T) { t.Setenv(testenv.TokenEnv, "ghp_wrong") }},
		{name: "host without integration", args: []string{"https://unknown.example.net/acme/svc/blob/main/catalog-info.yaml"},
			wantCode: scm.PermissionDenied},
		{name: "repository without branch", args: []string{g.WebURL("acme/svc")}, wantMsg: "names a repository without a branch"},
		{name: "no URL", args: nil, wantMsg: "want exactly one URL"},
		{name: "missing config", args: []string{"-config", "/nonexistent/app-config.yaml", g.WebURL("acme")}, wantCode: scm.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup(t)
			}
			args := tt.args
			if len(args) == 0 || args[0] != "-config" {
				args = append([]string{"-config", g.Config}, args...)
			}
			o := testenv.Exec(t, run, args...)
			t.Logf("error: %v", o.Err)
			if o.Err == nil {
				t.Fatalf("run succeeded; want an error\nstdout: %s", o.Stdout)
			}
			if tt.wantCode != scm.OK {
				if got := scm.Code(o.Err); got != tt.wantCode {
					t.Errorf("code: got %v; want %v (%v)", got, tt.wantCode, o.Err)
				}
			}
			if !strings.Contains(o.Err.Error(), tt.wantMsg) {
				t.Errorf("error %q lacks %q", o.Err, tt.wantMsg)
			}
		})
	}
}

// TestMalformedURL: a malformed URL fails before anything is printed (not
// even the config's warnings), and the error shows it as typed.
func TestMalformedURL(t *testing.T) {
	g := testenv.NewGitHub(t)
	t.Setenv(testenv.TokenEnv, "") // an unset token would draw a warning
	for _, tt := range []struct{ arg, want string }{
		{"htps://github.com/acme", `"htps://github.com/acme" is not a URL`},
		{"github.com/acme/svc", `"github.com/acme/svc" is not a URL`},
		{"https://github.com/acme/%zz", `"https://github.com/acme/%zz" is not a URL`},
		{"https//github.com/acme", `"https//github.com/acme" is not a URL`},
		{"https://user:s3cr3t@exa mple.com/x", `"https://***@exa mple.com/x" is not a URL`},
	} {
		o := testenv.Exec(t, run, "-config", g.Config, tt.arg)
		if o.Err == nil || !strings.Contains(o.Err.Error(), tt.want) {
			t.Errorf("run(%q) = %v; want an error containing %s", tt.arg, o.Err, tt.want)
		}
		if o.Stdout != "" || o.Stderr != "" {
			t.Errorf("run(%q) printed before failing:\nstdout: %q\nstderr: %q", tt.arg, o.Stdout, o.Stderr)
		}
	}
}

func TestPartialFailure(t *testing.T) {
	g := testenv.NewGitHub(t)
	g.AddRepo(t, "acme", "good", "catalog-info.yaml", entity("Component", "good"))
	g.AddRepo(t, "acme", "bad", "catalog-info.yaml", "apiVersion: v1\nkind: [\n")
	o := testenv.Exec(t, run, "-config", g.Config, g.WebURL("acme"))
	if scm.Code(o.Err) != scm.InvalidArgument {
		t.Fatalf("run: got %v; want an InvalidArgument error", o.Err)
	}
	if !strings.Contains(o.Err.Error(), "1 of 2 files") {
		t.Errorf("error %q does not count the failed files", o.Err)
	}
	if !strings.Contains(squeeze(o.Stdout), "Component default good") {
		t.Errorf("stdout lacks the good entity; got:\n%s", o.Stdout)
	}
	if want := g.WebURL("acme/bad/blob/main/catalog-info.yaml") + ": "; !strings.Contains(o.Stderr, want) {
		t.Errorf("stderr lacks %q; got:\n%s", want, o.Stderr)
	}
}

func TestStopsOnCancel(t *testing.T) {
	g := testenv.NewGitHub(t)
	g.AddRepo(t, "acme", "svc", "catalog-info.yaml", entity("Component", "svc"))
	g.Inject(fake.Fault{Kind: fake.FaultSlow, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond) // as Ctrl-C would
	defer cancel()
	start := time.Now()
	o := testenv.ExecContext(t, ctx, run, "-config", g.Config, g.WebURL("acme"))
	if got := scm.Code(o.Err); got != scm.DeadlineExceeded {
		t.Errorf("run: got %v (%v); want DeadlineExceeded", got, o.Err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("run took %v after its context ended", d)
	}
}

func TestRateLimited(t *testing.T) {
	g := testenv.NewGitHub(t)
	g.AddRepo(t, "acme", "svc", "catalog-info.yaml", entity("Component", "svc"))
	g.Inject(fake.Fault{Kind: fake.FaultRateLimit, RetryAfter: time.Hour})
	o := testenv.Exec(t, run, "-config", g.Config, g.WebURL("acme/svc/blob/main/catalog-info.yaml"))
	if got := scm.Code(o.Err); got != scm.RateLimited {
		t.Fatalf("run: got %v (%v); want RateLimited", got, o.Err)
	}
	if at, ok := scm.RetryAt(o.Err); !ok || time.Until(at) < 30*time.Minute {
		t.Errorf("RetryAt: got %v, %v; want about an hour from now", at, ok)
	}
}

func TestGitLabGroup(t *testing.T) {
	g := testenv.NewGitLab(t)
	g.AddProject(t, "acme", "web", "catalog-info.yaml", entity("Component", "web"))
	g.AddProject(t, "acme/platform", "api", "catalog-info.yaml", entity("API", "api"))
	g.AddProject(t, "acme", "notes", "README.md", "no catalog file")
	o := testenv.Exec(t, run, "-config", g.Config, g.WebURL("groups/acme"))
	if o.Err != nil {
		t.Fatalf("run: %v\nstderr: %s", o.Err, o.Stderr)
	}
	for _, want := range []string{
		"Component default web " + g.WebURL("acme/web/-/blob/main/catalog-info.yaml"),
		"API default api " + g.WebURL("acme/platform/api/-/blob/main/catalog-info.yaml"),
		"2 entities in 2 files",
	} {
		if !strings.Contains(squeeze(o.Stdout), want) {
			t.Errorf("stdout lacks %q; got:\n%s", want, o.Stdout)
		}
	}
}
