package redisstore_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// fleet is n replicas of a portal backend, each with its own registry,
// resolver, scm.Client and caches, sharing one Redis, against one fake
// GitHub where a GitHub App is installed on acme.
type fleet struct {
	fake    *fakegithub.Server
	clients []*scm.Client
	fileURL string
}

func newFleet(t testing.TB, r *testsvc.Redis, n int, shareFiles bool) *fleet {
	t.Helper()
	f := &fleet{fake: fakeWithApp(t, nil)}
	f.fileURL = "https://" + f.fake.Host() + "/acme/widgets/blob/main/catalog-info.yaml"
	_, pemKey := appKeyPair(t)
	for range n {
		st := openStore(t, r, nil)
		reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
			Host: f.fake.Host(), APIBaseURL: f.fake.APIBaseURL(),
			Apps: []integrations.GitHubAppConfig{{AppID: appID, PrivateKey: integrations.NewSecret(pemKey)}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := credentials.NewResolver(reg, &credentials.ResolverOptions{Shared: st})
		if err != nil {
			t.Fatal(err)
		}
		o := &scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)}}
		if shareFiles {
			o.FileCache = st.Files(0)
			o.RateBudget = st.Budget() // records only: no RateShare
		}
		c, err := scm.NewClient(reg, res, o)
		if err != nil {
			t.Fatal(err)
		}
		f.clients = append(f.clients, c)
	}
	return f
}

// TestFleetReadsFileOnce: replica 1 reads a file of a private repository
// through the GitHub App, then replicas 2-10 read it: one installation
// lookup and one mint for the fleet, one full read, nine 304s, and every
// replica gets the same content.
func TestFleetReadsFileOnce(t *testing.T) {
	r := testsvc.StartRedis(t)
	f := newFleet(t, r, 10, true)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for i, c := range f.clients {
		file, err := c.ReadFile(ctx, f.fileURL, nil)
		if err != nil {
			t.Fatalf("replica %d: %v", i+1, err)
		}
		if string(file.Content) != "kind: Component\n" || file.ETag == "" {
			t.Fatalf("replica %d read %q (ETag %q)", i+1, file.Content, file.ETag)
		}
	}
	st := f.fake.Stats()
	if l, m := appRequests(f.fake); l != 1 || m != 1 {
		t.Errorf("app requests: %d lookups, %d mints; want 1 and 1", l, m)
	}
	full := st.API + st.Raw - st.NotModified - 2
	if full != 1 || st.NotModified != 9 {
		t.Errorf("file requests: %d full, %d answered 304; want 1 and 9 (stats %+v)", full, st.NotModified, st)
	}
	// The fleet recorded the installation token's rate limit.
	raw := rawClient(t, r)
	budgets, err := raw.Keys(ctx, "scmkit:rl:*").Result()
	if err != nil || len(budgets) != 1 || !strings.Contains(budgets[0], "installation") {
		t.Errorf("rate-limit budgets in Redis: %v, %v; want the installation's", budgets, err)
	} else if l, _ := raw.HGet(ctx, budgets[0], "l").Int(); l <= 0 {
		t.Errorf("recorded limit %d", l)
	}
	// Redis shows neither the repository nor the content.
	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "widgets") || strings.Contains(k, "catalog-info") {
			t.Errorf("Redis key %q names the file", k)
		}
		if typ, _ := raw.Type(ctx, k).Result(); typ == "string" {
			if v, _ := raw.Get(ctx, k).Result(); strings.Contains(v, "kind: Component") {
				t.Errorf("Redis holds the file's content in clear under %q", k)
			}
		}
	}
}

// TestFleetFileChanged: a cached file that changed is read in full, never
// served stale.
func TestFleetFileChanged(t *testing.T) {
	r := testsvc.StartRedis(t)
	f := newFleet(t, r, 2, true)
	ctx := t.Context()
	if _, err := f.clients[0].ReadFile(ctx, f.fileURL, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.fake.Commit("acme", "widgets", "main", fakegithub.Commit{Message: "edit",
		Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: API\n")}}}); err != nil {
		t.Fatal(err)
	}
	file, err := f.clients[1].ReadFile(ctx, f.fileURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(file.Content) != "kind: API\n" {
		t.Fatalf("replica 2 read %q after the change; want the new content", file.Content)
	}
	// A caller's own If-None-Match still gets NotModified, not the cache.
	if _, err := f.clients[0].ReadFile(ctx, f.fileURL, &scm.ReadFileOptions{IfNoneMatch: file.ETag}); scm.Code(err) != scm.NotModified {
		t.Fatalf("conditional read = %v; want NotModified", err)
	}
}

// TestFleetRedisDownReads: with Redis down, every replica reads in full,
// correctly.
func TestFleetRedisDownReads(t *testing.T) {
	r := testsvc.StartRedis(t)
	f := newFleet(t, r, 3, true)
	r.Stop()
	var wg sync.WaitGroup
	for i, c := range f.clients {
		wg.Go(func() {
			file, err := c.ReadFile(t.Context(), f.fileURL, nil)
			if err != nil || string(file.Content) != "kind: Component\n" {
				t.Errorf("replica %d: %q, %v", i+1, file, err)
			}
		})
	}
	wg.Wait()
}
