package scmtest

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
)

// env is a harness as the subtests use it: the harness, its world, its
// two clients, and the URLs of that world written with the registry.
type env struct {
	Harness
	WorldInfo
	good, bad *scm.Client
	t         *testing.T
}

// newEnv makes a harness with newHarness, closed when t ends.
func newEnv(t *testing.T, newHarness HarnessMaker) *env {
	t.Helper()
	h, err := newHarness(t.Context(), t)
	if err != nil {
		t.Fatalf("making the harness: %v", err)
	}
	t.Cleanup(h.Close)
	w := h.World()
	if w.Registry == nil || w.Owner.Host == "" || w.Owner.Owner == "" {
		t.Fatalf("the harness's World has no registry or owner: %+v", w)
	}
	return &env{Harness: h, WorldInfo: w, good: h.Client(false), bad: h.Client(true), t: t}
}

// url writes loc (on the world's owner) with the registry.
func (h *env) url(loc integrations.Location) string {
	h.t.Helper()
	loc.Kind, loc.Host, loc.Owner = h.Owner.Kind, h.Owner.Host, h.Owner.Owner
	u, err := h.Registry.URL(loc)
	if err != nil {
		h.t.Fatalf("Registry.URL(%+v): %v", loc, err)
	}
	return u
}

// OwnerURL returns the web URL of the owner.
func (h *env) OwnerURL() string { return h.url(integrations.Location{}) }

// RepoURL returns the web URL of repo under the owner.
func (h *env) RepoURL(repo string) string { return h.url(integrations.Location{Repo: repo}) }

// FileURL returns the web URL of the file p of repo at ref ("" is the
// default branch).
func (h *env) FileURL(repo, ref, p string) string {
	return h.url(integrations.Location{Repo: repo, Ref: cmp.Or(ref, DefaultBranch), Path: p})
}

// TreeURL returns the web URL of the directory dir ("" is the root) of
// repo at ref ("" is the default branch).
func (h *env) TreeURL(repo, ref, dir string) string {
	return h.url(integrations.Location{Repo: repo, Ref: cmp.Or(ref, DefaultBranch), Path: strings.Trim(dir, "/"), Tree: true})
}

// spent fails if more than max requests reached the fake since it had
// received before.
func (h *env) spent(t *testing.T, before, max int, what string) {
	t.Helper()
	if n := h.Requests() - before; n > max {
		t.Errorf("%s made %d requests; want at most %d", what, n, max)
	}
}

// do runs the client operation op on the world's [BasicRepo] with c, for
// the subtests that try every kind of operation the same way: ReadFile
// (README.md), ReadTree (templates), Search ("**/*.yaml"),
// ListRepositories (on the owner, to its first error) or OpenPullRequest
// (a valid spec).
func (h *env) do(ctx context.Context, c *scm.Client, op string) (err error) {
	switch op {
	case "ReadFile":
		_, err = c.ReadFile(ctx, h.FileURL(BasicRepo, "", "README.md"), nil)
	case "ReadTree":
		_, err = c.ReadTree(ctx, h.TreeURL(BasicRepo, "", "templates"), nil)
	case "Search":
		_, err = c.Search(ctx, h.FileURL(BasicRepo, "", "**/*.yaml"), nil)
	case "ListRepositories":
		for _, e := range c.ListRepositories(ctx, h.OwnerURL(), nil) {
			if e != nil {
				return e
			}
		}
	case "OpenPullRequest":
		_, err = c.OpenPullRequest(ctx, validSpec(h, "scmtest-op"))
	default:
		panic("scmtest: no operation " + op)
	}
	return err
}

// ctx returns a context for one subtest step, bounded so that a driver
// that sleeps through a rate limit fails instead of hanging the suite.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantCode fails unless err has code want, and checks that err shows no
// secret.
func wantCode(t *testing.T, h *env, what string, err error, want scm.ErrorCode) {
	t.Helper()
	if got := scm.Code(err); got != want {
		t.Errorf("%s: code %v (error %v); want %v", what, got, err, want)
	}
	noSecret(t, h, what, err)
}

// wantCodeFree is wantCode for the error of do, which must make no
// request.
func wantCodeFree(t *testing.T, h *env, what string, want scm.ErrorCode, do func() error) {
	t.Helper()
	before := h.Requests()
	wantCode(t, h, what, do(), want)
	h.spent(t, before, 0, what)
}

// noSecret fails if err's message shows one of the harness's secrets, as
// it is or base64-encoded (a Basic header's user:secret).
func noSecret(t *testing.T, h *env, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msgs := []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%s", err), fmt.Sprintf("%q", err)}
	for _, m := range msgs {
		if s, ok := ShowsSecret(m, h.Secrets); ok {
			t.Errorf("%s: error message shows the secret %.4s…: %s", what, s, m)
			return
		}
	}
}

// base64Run matches what may be a base64-encoded value in a text.
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{8,}={0,2}`)

// ShowsSecret reports whether text shows one of secrets (empty ones are
// ignored): as it is, or inside a base64-encoded run of text (standard or
// URL alphabet, padded or not), as the value of a Basic Authorization
// header holds "user:secret". It returns the secret found.
func ShowsSecret(text string, secrets []string) (string, bool) {
	texts := []string{text}
	for _, run := range base64Run.FindAllString(text, -1) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if dec, err := enc.DecodeString(run); err == nil {
				texts = append(texts, string(dec))
			}
		}
	}
	for _, s := range secrets {
		for _, x := range texts {
			if s != "" && strings.Contains(x, s) {
				return s, true
			}
		}
	}
	return "", false
}
