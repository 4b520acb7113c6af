package msgraph_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/org/msgraph"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
)

// TestSavedStateWithLinksElsewhereIsIgnored: a saved state whose delta
// links name another host, or the target's host under another scheme, is
// not the target's, even when its scope is: it is ignored and the tenant
// read in full.
func TestSavedStateWithLinksElsewhereIsIgnored(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	seed(f)
	first := newReader(t, cfgFor(f), nil)
	_, err := first.Read(context.Background())
	must(t, err)
	state, err := first.State()
	must(t, err)
	u := f.URL()
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		t.Fatalf("fake URL %q", u)
	}
	otherScheme := "https://" + rest
	if scheme == "https" {
		otherScheme = "http://" + rest
	}
	for _, other := range []string{otherScheme, scheme + "://evil.example"} {
		// Only the links change: the state's scope (which names the
		// target) stays the target's.
		changed := bytes.ReplaceAll(state, []byte(`Link":"`+u), []byte(`Link":"`+other))
		if bytes.Equal(changed, state) {
			t.Fatal("the state names no link on the fake's URL")
		}
		var logs bytes.Buffer
		newReader(t, cfgFor(f), func(o *msgraph.Options) {
			o.State = changed
			o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		})
		if !strings.Contains(logs.String(), "ignoring the saved state") {
			t.Errorf("a state with links on %s for the target %s was not ignored (log: %s)", other, u, logs.String())
		}
	}
}
