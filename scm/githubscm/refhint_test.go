package githubscm_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestSlashBranchHint: a web URL naming a branch with a '/' without
// ?at= is read with the first segment as the ref; GitHub does not know
// that ref, and the NotFound says how to name the branch. A file missing
// on a branch GitHub knows gets no such hint.
func TestSlashBranchHint(t *testing.T) {
	e := newEnv(t, false, nil)
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{{Path: "README.md", Content: []byte("x")}}})
	if _, err := e.s.CreateBranch("acme", "svc", "feature/x", "main"); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.ReadFile(t.Context(), e.web("acme/svc/blob/feature/x/README.md"), nil)
	if scm.Code(err) != scm.NotFound || !strings.Contains(err.Error(), "?at=<branch>") || !strings.Contains(err.Error(), `"feature"`) {
		t.Errorf("a slash branch without ?at=: %v; want NotFound with the hint", err)
	}
	if _, err := e.c.ReadFile(t.Context(), e.web("acme/svc/blob/feature/x/README.md?at=feature/x"), nil); err != nil {
		t.Errorf("with ?at=feature/x: %v", err)
	}
	_, err = e.c.ReadFile(t.Context(), e.web("acme/svc/blob/main/missing.yaml"), nil)
	if scm.Code(err) != scm.NotFound || strings.Contains(err.Error(), "?at=") {
		t.Errorf("a missing file on main: %v; want NotFound without the hint", err)
	}
}

// TestSlashBranchHintNotForNames: a missing file whose repository or path
// holds "ref" or "commit" (prefect-flows, docs/reference.md) gets no hint.
func TestSlashBranchHintNotForNames(t *testing.T) {
	e := newEnv(t, false, nil)
	e.addRepo(t, fakegithub.Repo{Owner: "acme", Name: "prefect-flows", Files: []fakegithub.File{{Path: "README.md", Content: []byte("x")}}})
	for _, u := range []string{"acme/prefect-flows/blob/main/missing.yaml", "acme/prefect-flows/blob/main/docs/reference.md", "acme/prefect-flows/blob/main/commit/x.yaml"} {
		_, err := e.c.ReadFile(t.Context(), e.web(u), nil)
		if scm.Code(err) != scm.NotFound || strings.Contains(err.Error(), "?at=") {
			t.Errorf("%s: %v; want NotFound without the hint", u, err)
		}
	}
}
