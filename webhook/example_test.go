package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/webhook"
)

func Example() {
	reg, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		panic(err)
	}
	secret := integrations.NewSecret("hook-secret")
	r, err := webhook.New(reg, "gitlab.com", &webhook.Options{Secrets: []integrations.Secret{secret}})
	if err != nil {
		panic(err)
	}

	// A push as GitLab sends it: one commit that adds a component's
	// catalog file and edits a README.
	body := []byte(`{"object_kind":"push","ref":"refs/heads/main",
	  "before":"95790bf891e76fee5e1747ab589903a6a1f80f22","after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
	  "project":{"web_url":"https://gitlab.com/acme/payments","default_branch":"main"},
	  "commits":[{"id":"da15","timestamp":"2026-12-01T10:00:00Z","added":["billing/catalog-info.yaml"],"modified":["README.md"],"removed":[]}],
	  "total_commits_count":1}`)
	h := http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {"hook-secret"}, "X-Gitlab-Event-Uuid": {"7f0c"}}

	ev, err := r.Parse(context.Background(), h, body)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	for _, c := range ev.Changes {
		fmt.Println(c.Action, c.URL)
	}
	fmt.Println("complete:", ev.Complete)

	// The same delivery again is a duplicate.
	_, err = r.Parse(context.Background(), h, body)
	fmt.Println(err)
	// Output:
	// added https://gitlab.com/acme/payments/-/blob/main/billing/catalog-info.yaml
	// complete: true
	// webhook.Parse gitlab gitlab.com: delivery "7f0c" already handled (AlreadyExists)
}

// signature is how GitHub, Bitbucket Cloud and Bitbucket Server sign a body.
func signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func ExampleReceiver_Parse_github() {
	reg, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		panic(err)
	}
	r, err := webhook.New(reg, "github.com", &webhook.Options{Secrets: []integrations.Secret{integrations.NewSecret("s")}})
	if err != nil {
		panic(err)
	}
	body := []byte(`{"ref":"refs/heads/feature","repository":{"html_url":"https://github.com/acme/api","default_branch":"main"},"commits":[]}`)
	ev, err := r.Parse(context.Background(), http.Header{
		"X-Github-Event":      {"push"},
		"X-Github-Delivery":   {"1"},
		"X-Hub-Signature-256": {signature("s", body)},
	}, body)
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Ignored)
	// Output: push to feature, not the default branch main
}

// Mount one Receiver per integration host; its handler calls back with
// each new push's catalog changes (here a GitHub push that adds a
// component, delivered to a test server).
func ExampleReceiver_Handler() {
	reg, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		log.Fatal(err)
	}
	// With a config file, the GitHub apps' webhookSecret serve and Options
	// may be nil: webhook.New(cfg.Registry, "github.com", nil).
	gh, err := webhook.New(reg, "github.com", &webhook.Options{Secrets: []integrations.Secret{integrations.NewSecret("hook-secret")}})
	if err != nil {
		log.Fatal(err)
	}
	refresh := func(ctx context.Context, url string, action webhook.Action) {
		fmt.Println("refresh", action, url) // one read per changed catalog file
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/github.com", gh.Handler(func(ctx context.Context, ev *webhook.Event) error {
		for _, c := range ev.Changes {
			refresh(ctx, c.URL, c.Action)
		}
		return nil
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// GitHub delivers a push.
	body := []byte(`{"ref":"refs/heads/main","before":"95790bf891e76fee5e1747ab589903a6a1f80f22","after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
	  "repository":{"html_url":"https://github.com/acme/payments","default_branch":"main"},
	  "commits":[{"id":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","added":["catalog-info.yaml"],"modified":["README.md"],"removed":[]}]}`)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/github.com", bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	req.Header = http.Header{"Content-Type": {"application/json"}, "X-Github-Event": {"push"}, "X-Github-Delivery": {"1"},
		"X-Hub-Signature-256": {signature("hook-secret", body)}}
	resp, err := srv.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// refresh added https://github.com/acme/payments/blob/main/catalog-info.yaml
	// 204
}

// A DeliveryBatchStore records several ids in one step, or none of them
// when one is known already: the receiver records a delivery's body digest
// and id with it.
func ExampleMemoryDeliveries_SeenAny() {
	ctx := context.Background()
	var store webhook.DeliveryBatchStore = webhook.NewMemoryDeliveries(0, nil)
	seen, _ := store.SeenAny(ctx, []string{"sha256:1f2e", "delivery-1"}, time.Hour)
	fmt.Println("first delivery seen:", seen)
	// The same body under a fresh id: a duplicate, and delivery-2 is not
	// recorded.
	seen, _ = store.SeenAny(ctx, []string{"sha256:1f2e", "delivery-2"}, time.Hour)
	fmt.Println("replay seen:", seen)
	seen, _ = store.Seen(ctx, "delivery-2", time.Hour)
	fmt.Println("delivery-2 recorded before:", seen)
	// Output:
	// first delivery seen: false
	// replay seen: true
	// delivery-2 recorded before: false
}
