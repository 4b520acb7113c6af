package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// testKey is the AES key of every test store.
var testKey = bytes.Repeat([]byte{7}, 32)

func newClock() *testclock.Clock { return testclock.New(time.Now().Truncate(time.Second)) }

// openStore opens a Store on r with the test key.
func openStore(t testing.TB, r *testsvc.Redis, o *redisstore.Options) *redisstore.Store {
	t.Helper()
	var opts redisstore.Options
	if o != nil {
		opts = *o
	}
	if opts.EncryptionKey == nil {
		opts.EncryptionKey = testKey
	}
	if opts.Timeout == 0 {
		// Generous: the race detector on two cores slows the first
		// connections of a thousand goroutines far beyond a real Redis.
		opts.Timeout = 3 * time.Second
	}
	s, err := redisstore.Open(r.URL(0), &opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawClient is a plain client for inspecting and flushing the server.
func rawClient(t testing.TB, r *testsvc.Redis) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

var (
	appKeyOnce sync.Once
	appKey     *rsa.PrivateKey
	appKeyPEM  string
)

const appID = 4242

// appKeyPair returns one RSA key for every test's GitHub App.
func appKeyPair(t testing.TB) (*rsa.PrivateKey, string) {
	appKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		appKey = k
		appKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	return appKey, appKeyPEM
}

// fakeWithApp starts a fake GitHub with one app installed on acme (which
// has repository widgets).
func fakeWithApp(t testing.TB, now func() time.Time) *fakegithub.Server {
	t.Helper()
	key, _ := appKeyPair(t)
	fake := fakegithub.New(&fakegithub.Options{Now: now})
	t.Cleanup(fake.Close)
	if _, err := fake.AddRepo(fakegithub.Repo{Owner: "acme", Name: "widgets", Private: true,
		Files: []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
		t.Fatal(err)
	}
	if err := fake.AddApp(fakegithub.App{ID: appID, PublicKey: &key.PublicKey}); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.AddInstallation(fakegithub.Installation{AppID: appID, Account: "acme"}); err != nil {
		t.Fatal(err)
	}
	return fake
}

// appRoutes counts the requests to the app endpoints.
func appRequests(fake *fakegithub.Server) (lookups, mints int) {
	st := fake.Stats()
	lookups = st.Routes[fakegithub.RouteRepoInstallation] + st.Routes[fakegithub.RouteOrgInstallation] + st.Routes[fakegithub.RouteUserInstallation]
	return lookups, st.Routes[fakegithub.RouteCreateInstallToken]
}

// replicaApps makes n replicas' Apps, each with its own caches, sharing st
// (which may differ per replica: pass a func).
func replicaApps(t testing.TB, fake *fakegithub.Server, n int, store func(i int) githubapp.SharedStore, now func() time.Time, lease time.Duration) []*githubapp.App {
	t.Helper()
	_, pemKey := appKeyPair(t)
	apps := make([]*githubapp.App, n)
	for i := range apps {
		var st githubapp.SharedStore
		if store != nil {
			st = store(i)
		}
		a, err := githubapp.New(fake.APIBaseURL(), integrations.GitHubAppConfig{AppID: appID, PrivateKey: integrations.NewSecret(pemKey)},
			&githubapp.Options{Now: now, Shared: st, SharedLease: lease, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		apps[i] = a
	}
	return apps
}

// callAll asks every app for acme's token from callers goroutines in all,
// spread over the apps, and returns the distinct tokens and the errors.
func callAll(ctx context.Context, apps []*githubapp.App, callers int) (map[string]int, []error) {
	var mu sync.Mutex
	tokens := map[string]int{}
	var errs []error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		a := apps[i%len(apps)]
		wg.Go(func() {
			<-start
			tok, err := a.Token(ctx, "acme", "widgets")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			tokens[tok.Token]++
		})
	}
	close(start)
	wg.Wait()
	return tokens, errs
}
