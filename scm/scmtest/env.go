package scmtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
)

// env is a harness as the subtests use it: its two clients, its world, and
// the URLs of that world written with the registry.
type env struct {
	h         Harness
	w         WorldInfo
	good, bad *scm.Client
	t         *testing.T
	foreign   func() []http.Header
}

func newEnv(t *testing.T, h Harness) *env {
	w := h.World()
	if w.Registry == nil || w.Owner.Host == "" || w.Owner.Owner == "" {
		t.Fatalf("the harness's World has no registry or owner: %+v", w)
	}
	return &env{h: h, w: w, good: h.Client(false), bad: h.Client(true), t: t}
}

func (e *env) Client() *scm.Client        { return e.good }
func (e *env) BadClient() *scm.Client     { return e.bad }
func (e *env) Inject(f Fault) bool        { return e.h.Inject(f) }
func (e *env) ClearFaults()               { e.h.ClearFaults() }
func (e *env) Requests() int              { return e.h.Requests() }
func (e *env) Secrets() []string          { return e.w.Secrets }
func (e *env) Capabilities() Capabilities { return e.w.Capabilities }

// RedirectToForeign turns the harness's downloads to a foreign host, and
// reports false when it cannot.
func (e *env) RedirectToForeign() bool {
	if r, ok := e.h.(ForeignRedirector); ok {
		e.foreign = r.RedirectToForeign()
	}
	return e.foreign != nil
}

// ForeignRequests returns the headers the foreign host received.
func (e *env) ForeignRequests() []http.Header { return e.foreign() }

// url writes loc (on the world's owner) with the registry.
func (e *env) url(loc integrations.Location) string {
	e.t.Helper()
	loc.Kind, loc.Host, loc.Owner = e.w.Owner.Kind, e.w.Owner.Host, e.w.Owner.Owner
	u, err := e.w.Registry.URL(loc)
	if err != nil {
		e.t.Fatalf("Registry.URL(%+v): %v", loc, err)
	}
	return u
}

func refOr(ref string) string {
	if ref == "" {
		return DefaultBranch
	}
	return ref
}

// OwnerURL returns the web URL of the owner.
func (e *env) OwnerURL() string { return e.url(integrations.Location{}) }

// RepoURL returns the web URL of repo under the owner.
func (e *env) RepoURL(repo string) string { return e.url(integrations.Location{Repo: repo}) }

// FileURL returns the web URL of the file p of repo at ref ("" is the
// default branch).
func (e *env) FileURL(repo, ref, p string) string {
	return e.url(integrations.Location{Repo: repo, Ref: refOr(ref), Path: p})
}

// TreeURL returns the web URL of the directory dir ("" is the root) of
// repo at ref ("" is the default branch).
func (e *env) TreeURL(repo, ref, dir string) string {
	return e.url(integrations.Location{Repo: repo, Ref: refOr(ref), Path: strings.Trim(dir, "/"), Tree: true})
}
