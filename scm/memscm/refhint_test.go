package memscm_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/memscm"
)

// TestSlashBranchHintNotForNames is a regression test: the slash-branch
// hint (?at=<branch>) was added to a missing file whose name, owner or
// host holds "ref", "branch" or "commit" as a word of its own
// (branch-notes.md, an owner "ref"), which names no ref at all.
func TestSlashBranchHintNotForNames(t *testing.T) {
	w := memscm.New()
	for _, owner := range []string{"acme", "ref"} {
		if err := w.AddRepo(owner, "service", "main", memscm.Files(map[string]string{"README.md": "x"})); err != nil {
			t.Fatal(err)
		}
	}
	c, err := scm.NewClient(nil, nil, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: w.Opener(nil)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://github.com/acme/service/blob/main/branch-notes.md", "https://github.com/ref/service/blob/main/x.md",
		"https://github.com/acme/service/blob/main/docs/commit.md"} {
		_, err := c.ReadFile(t.Context(), u, nil)
		if scm.Code(err) != scm.NotFound || strings.Contains(err.Error(), "?at=") {
			t.Errorf("%s: %v; want NotFound without the hint", u, err)
		}
	}
}
