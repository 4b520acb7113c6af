package webhook

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// A GitHub App's webhook secret signs the events of every installation,
// and anyone may install a public app on their own organisation: when
// the app's allowedInstallationOwners names the owners it serves, a
// genuinely signed event for another owner is refused, as its
// credentials would be. An app without the list, or a hook secret given
// in Options.Secrets, serves every owner.
func TestGitHubAppServesOnlyItsAllowedOwners(t *testing.T) {
	newReg := func(owners []string) *integrations.Registry {
		reg, err := integrations.NewRegistry(integrations.Config{
			GitHub: []integrations.GitHubConfig{{Host: "github.com", Apps: []integrations.GitHubAppConfig{{
				AppID: 1, ClientID: "Iv1.x", ClientSecret: integrations.NewSecret("cs"), PrivateKey: integrations.NewSecret(testKey),
				WebhookSecret: integrations.NewSecret(secret), AllowedInstallationOwners: owners,
			}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return reg
	}
	body := load(t, "github-push.json") // acme/service
	evil := bytes.ReplaceAll(body, []byte("acme/service"), []byte("evil-org/service"))
	evil = bytes.ReplaceAll(evil, []byte(`"login": "acme"`), []byte(`"login": "evil-org"`))

	store := NewMemoryDeliveries(0, nil)
	r, err := New(newReg([]string{"Acme"}), "github.com", &Options{Deliveries: store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Parse(t.Context(), githubHeaders(body, "o1"), body); err != nil {
		t.Errorf("an allowed owner (compared case-insensitively): %v", err)
	}
	ev, err := r.Parse(t.Context(), githubHeaders(evil, "o2"), evil)
	if errcode.CodeOf(err) != errcode.InvalidArgument || ev != nil {
		t.Errorf("evil-org's signed event: %+v, %v; want InvalidArgument", ev, err)
	}
	// A refused event records nothing: a receiver serving every owner,
	// on the same store, still handles it.
	all, err := New(newReg(nil), "github.com", &Options{Deliveries: store})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := all.Parse(t.Context(), githubHeaders(evil, "o2"), evil); err != nil {
		t.Errorf("the refused event was recorded: %v", err)
	}

	for _, tt := range []struct {
		name   string
		owners []string
		opts   *Options
	}{
		{"no allowedInstallationOwners", nil, nil},
		{"an empty allowedInstallationOwners (no limit, as for the app's tokens)", []string{}, nil},
		{"a hook secret", []string{"acme"}, &Options{Secrets: []integrations.Secret{integrations.NewSecret(secret)}}},
	} {
		name := tt.name
		r, err := New(newReg(tt.owners), "github.com", tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Parse(t.Context(), githubHeaders(evil, "o3"), evil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// GitLab's X-Gitlab-Event-UUID is shared by recursive webhooks (an event
// caused by a hook's own handler calling GitLab): two different pushes may
// carry it. The delivery is GitLab's Idempotency-Key, the same across
// retries of one event only; X-Gitlab-Event-UUID only when GitLab sends
// no Idempotency-Key (before 17.4).
func TestGitLabDeliveryIsTheIdempotencyKey(t *testing.T) {
	r := newReceiver(t, "gitlab.example.com", nil)
	body := load(t, "gitlab-push.json")
	second := bytes.Replace(body, []byte(`"total_commits_count": 2`), []byte(`"total_commits_count": 3`), 1)
	h := func(key string) http.Header {
		return http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {secret},
			"X-Gitlab-Event-Uuid": {"shared-by-recursion"}, "Idempotency-Key": {key}}
	}
	ev, err := r.Parse(t.Context(), h("k1"), body)
	if err != nil || ev.Delivery != "k1" {
		t.Fatalf("first push: %+v, %v", ev, err)
	}
	if ev, err := r.Parse(t.Context(), h("k2"), second); err != nil {
		t.Errorf("a second push under the same X-Gitlab-Event-UUID was refused: %+v, %v", ev, err)
	}
	if _, err := r.Parse(t.Context(), h("k1"), body); errcode.CodeOf(err) != errcode.AlreadyExists {
		t.Errorf("a retry (same Idempotency-Key): %v, want AlreadyExists", err)
	}
	old := http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {secret}, "X-Gitlab-Event-Uuid": {"u9"}}
	third := bytes.Replace(body, []byte(`"total_commits_count": 2`), []byte(`"total_commits_count": 4`), 1)
	if ev, err := r.Parse(t.Context(), old, third); err != nil || ev.Delivery != "u9" {
		t.Errorf("without Idempotency-Key: %+v, %v; want delivery u9", ev, err)
	}
}

// A changed path that is not a path in the repository ("..", absolute,
// empty segments) is not reported as a change with no URL, which a caller
// refreshing c.URL would trip on: it is left out, and the event says it
// is incomplete so that the caller re-reads the repository.
func TestBadChangedPathsLeftOut(t *testing.T) {
	r := newReceiver(t, "gitlab.example.com", nil)
	body := load(t, "gitlab-push.json")
	for i, p := range []string{"../../../other/proj/-/blob/master/catalog-info.yaml", "x/../../catalog-info.yaml", "/abs/catalog-info.yaml", "a//catalog-info.yaml"} {
		b := bytes.Replace(body, []byte(`"docs/catalog-info.yaml"`), []byte(`"`+p+`"`), 1)
		h := http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {secret}, "Idempotency-Key": {"bad-" + string(rune('a'+i))}}
		ev, err := r.Parse(t.Context(), h, b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, c := range ev.Changes {
			if c.URL == "" || c.Path == p {
				t.Errorf("%s: change %+v reported", p, c)
			}
		}
		if len(ev.Changes) != 1 || ev.Complete || ev.Incomplete == "" {
			t.Errorf("%s: %d changes, complete %v (%q); want the good one only, incomplete", p, len(ev.Changes), ev.Complete, ev.Incomplete)
		}
	}
}
