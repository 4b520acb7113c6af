// Package testenv starts the in-process fake GitHub or GitLab for the
// example programs' tests and writes an app-config.yaml pointing at it,
// the way a user would configure a self-hosted instance, with the token
// taken from an environment variable.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/examples/internal/cli"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// Token is the token the fake accepts; tests put it in TokenEnv.
const Token = "ghp_examplesTestToken000000000000000000"

// TokenEnv is the environment variable the written config reads the
// token from.
const TokenEnv = "SCMKIT_EXAMPLES_TEST_TOKEN"

// GitHub is a fake GitHub with a config file pointing at it.
type GitHub struct {
	*fakegithub.Server
	// Config is the path of the app-config.yaml written for the fake.
	Config string
}

// NewGitHub starts a fake GitHub accepting Token and the extra tokens,
// writes an app-config.yaml whose github integration's token is
// ${TokenEnv}, and sets TokenEnv to Token for the test (so the test must
// not be parallel). The server is closed when the test ends.
func NewGitHub(t testing.TB, extraTokens ...string) *GitHub {
	t.Helper()
	s := fakegithub.New(&fakegithub.Options{Tokens: append([]string{Token}, extraTokens...)})
	t.Cleanup(s.Close)
	cfg := fmt.Sprintf(`app:
  title: test
integrations:
  github:
    - host: %s
      apiBaseUrl: %s
      token: ${%s}
`, s.Host(), s.APIBaseURL(), TokenEnv)
	return &GitHub{Server: s, Config: writeConfig(t, cfg)}
}

// writeConfig writes an app-config.yaml and sets TokenEnv to Token.
func writeConfig(t testing.TB, cfg string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "app-config.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(TokenEnv, Token)
	return p
}

// GitLab is a fake GitLab with a config file pointing at it.
type GitLab struct {
	*fakegitlab.Server
	// Config is the path of the app-config.yaml written for the fake.
	Config string
}

// NewGitLab is NewGitHub for a fake GitLab.
func NewGitLab(t testing.TB) *GitLab {
	t.Helper()
	s := fakegitlab.New(&fakegitlab.Options{Tokens: []string{Token}})
	t.Cleanup(s.Close)
	cfg := fmt.Sprintf(`integrations:
  gitlab:
    - host: %s
      baseUrl: %s
      apiBaseUrl: %s
      token: ${%s}
`, s.Host(), s.URL(), s.APIBaseURL(), TokenEnv)
	return &GitLab{Server: s, Config: writeConfig(t, cfg)}
}

// WebURL returns the web URL of p on the fake, e.g. WebURL("groups/acme").
func (g *GitLab) WebURL(p string) string {
	return g.URL() + "/" + strings.TrimPrefix(p, "/")
}

// AddProject seeds project namespace/name on branch main with files given
// as path, content pairs.
func (g *GitLab) AddProject(t testing.TB, namespace, name string, files ...string) {
	t.Helper()
	if len(files)%2 != 0 {
		t.Fatal("testenv: AddProject wants path, content pairs")
	}
	p := fakegitlab.Project{Namespace: namespace, Path: name}
	for i := 0; i < len(files); i += 2 {
		p.Files = append(p.Files, fakegitlab.File{Path: files[i], Content: []byte(files[i+1])})
	}
	if _, _, err := g.Server.AddProject(p); err != nil {
		t.Fatal(err)
	}
}

// WebURL returns the web URL of p on the fake, e.g. WebURL("acme/svc") is
// "http://HOST/acme/svc" (the fake serves plain HTTP).
func (g *GitHub) WebURL(p string) string {
	return "http://" + g.Host() + "/" + strings.TrimPrefix(p, "/")
}

// AddRepo seeds a repository on branch main with files given as path,
// content pairs.
func (g *GitHub) AddRepo(t testing.TB, owner, name string, files ...string) {
	t.Helper()
	if len(files)%2 != 0 {
		t.Fatal("testenv: AddRepo wants path, content pairs")
	}
	r := fakegithub.Repo{Owner: owner, Name: name}
	for i := 0; i < len(files); i += 2 {
		r.Files = append(r.Files, fakegithub.File{Path: files[i], Content: []byte(files[i+1])})
	}
	if _, err := g.Server.AddRepo(r); err != nil {
		t.Fatal(err)
	}
}

// Output is what one run of a program printed and returned.
type Output struct {
	Stdout, Stderr string
	Err            error
}

// Exec runs run with args and captures its output. It fails the test if
// the output shows Token.
func Exec(t testing.TB, run cli.RunFunc, args ...string) Output {
	t.Helper()
	return ExecContext(t, t.Context(), run, args...)
}

// ExecContext is Exec with a context, e.g. one the test cancels.
func ExecContext(t testing.TB, ctx context.Context, run cli.RunFunc, args ...string) Output {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(ctx, args, &out, &errOut)
	o := Output{Stdout: out.String(), Stderr: errOut.String(), Err: err}
	if all := o.Stdout + o.Stderr + fmt.Sprint(err); strings.Contains(all, Token) {
		t.Errorf("the output shows the token:\n%s", all)
	}
	return o
}
