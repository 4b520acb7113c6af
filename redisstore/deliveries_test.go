package redisstore_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/webhook"
)

// pushBody is a GitLab push as GitLab sends it (the fields the receiver
// reads), one commit adding a catalog file.
const pushBody = `{"object_kind":"push","ref":"refs/heads/main",
  "before":"95790bf891e76fee5e1747ab589903a6a1f80f22","after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
  "project":{"web_url":"https://gitlab.com/acme/payments","default_branch":"main"},
  "commits":[{"id":"da15","timestamp":"2026-12-01T10:00:00Z","added":["catalog-info.yaml"],"modified":[],"removed":[]}],
  "total_commits_count":1}`

// replicaReceiver is one replica's GitLab webhook receiver over s's
// shared delivery store.
func replicaReceiver(t *testing.T, s *redisstore.Store, ttl time.Duration) *webhook.Receiver {
	t.Helper()
	reg, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := webhook.New(reg, "gitlab.com", &webhook.Options{Secrets: []integrations.Secret{integrations.NewSecret("hook-secret")},
		Deliveries: s.Deliveries(), DeliveryTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func pushHeader(uuid string) http.Header {
	return http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {"hook-secret"}, "X-Gitlab-Event-Uuid": {uuid}}
}

// A delivery handled by one replica is a duplicate on the other (the
// provider redelivers to whichever replica the load balancer picks); a
// delivery whose handling failed and was forgotten is handled again; the
// ids expire with DeliveryTTL; and with Redis down, a delivery is refused
// as Unavailable (so the provider redelivers), never handled unrecorded.
func TestDeliveriesSharedAcrossReplicas(t *testing.T) {
	r := testsvc.StartRedis(t)
	a := replicaReceiver(t, openStore(t, r, nil), time.Hour)
	b := replicaReceiver(t, openStore(t, r, nil), time.Hour)
	ctx := context.Background()

	ev, err := a.Parse(ctx, pushHeader("d-1"), []byte(pushBody))
	if err != nil || len(ev.Changes) != 1 {
		t.Fatalf("first delivery on replica A: %v %+v", err, ev)
	}
	if _, err := b.Parse(ctx, pushHeader("d-1"), []byte(pushBody)); errcode.CodeOf(err) != errcode.AlreadyExists {
		t.Fatalf("the same delivery on replica B: %v, want AlreadyExists", err)
	}
	// A replay of the signed body under a fresh id is a duplicate too.
	if _, err := b.Parse(ctx, pushHeader("d-2"), []byte(pushBody)); errcode.CodeOf(err) != errcode.AlreadyExists {
		t.Fatalf("the same body under a new id on replica B: %v, want AlreadyExists", err)
	}
	// A's handling failed: it forgets the event, and B handles the
	// provider's redelivery.
	if err := a.Forget(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Parse(ctx, pushHeader("d-1"), []byte(pushBody)); err != nil {
		t.Fatalf("redelivery after A forgot it, on replica B: %v", err)
	}

	// The ids expire with DeliveryTTL (Redis's own expiry).
	short := replicaReceiver(t, openStore(t, r, nil), 50*time.Millisecond)
	body := []byte(pushBody[:len(pushBody)-1] + `,"user_name":"x"}`)
	if _, err := short.Parse(ctx, pushHeader("d-3"), body); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := short.Parse(ctx, pushHeader("d-3"), body); err != nil {
		t.Fatalf("a delivery after its TTL: %v, want handled", err)
	}

	r.Stop()
	body2 := []byte(pushBody[:len(pushBody)-1] + `,"user_name":"y"}`)
	if _, err := a.Parse(ctx, pushHeader("d-4"), body2); errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("a delivery with Redis down: %v, want Unavailable", err)
	}
}
