package redisstore_test

import (
	"context"
	"fmt"
	"strings"
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

// TestFleetListsOnce: three replicas sharing one Redis (the GitHub App's
// installation token and the page cache) list acme's 150 repositories:
// the first reads 2 pages in full, the others get both answered 304 (the
// last page, of 50, has room left, so it is revalidated too) and the same
// list. Redis holds neither the owner's name nor the listing in
// clear.
func TestFleetListsOnce(t *testing.T) {
	r := testsvc.StartRedis(t)
	fake := fakeWithApp(t, nil)
	for i := range 149 {
		if _, err := fake.AddRepo(fakegithub.Repo{Owner: "acme", Name: fmt.Sprintf("svc-%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	_, pemKey := appKeyPair(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var first []string
	for i := range 3 {
		st := openStore(t, r, nil)
		reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
			Host: fake.Host(), APIBaseURL: fake.APIBaseURL(),
			Apps: []integrations.GitHubAppConfig{{AppID: appID, PrivateKey: integrations.NewSecret(pemKey)}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := credentials.NewResolver(reg, &credentials.ResolverOptions{Shared: st})
		if err != nil {
			t.Fatal(err)
		}
		c, err := scm.NewClient(reg, res, &scm.Options{PageCache: st.Pages(0),
			Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)}})
		if err != nil {
			t.Fatal(err)
		}
		before := fake.Stats().NotModified
		var got []string
		for repo, err := range c.ListRepositories(ctx, "https://"+fake.Host()+"/acme", nil) {
			if err != nil {
				t.Fatalf("replica %d: %v", i+1, err)
			}
			got = append(got, repo.Name)
		}
		nm := fake.Stats().NotModified - before
		if i == 0 {
			first = got
			if len(got) != 150 || nm != 0 {
				t.Fatalf("replica 1: %d repositories, %d answered 304; want 150, 0", len(got), nm)
			}
			continue
		}
		if strings.Join(got, ",") != strings.Join(first, ",") || nm != 2 {
			t.Errorf("replica %d: %d repositories (same as replica 1: %v), %d pages answered 304; want the same 150, 2",
				i+1, len(got), strings.Join(got, ",") == strings.Join(first, ","), nm)
		}
	}
	raw := rawClient(t, r)
	keys, err := raw.Keys(ctx, "*page*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("page keys in Redis: %v, %v; want 2", keys, err)
	}
	for _, k := range keys {
		v, _ := raw.Get(ctx, k).Result()
		if strings.Contains(k, "acme") || strings.Contains(v, "acme") || strings.Contains(v, "widgets") {
			t.Errorf("Redis shows the listing under %q", k)
		}
	}
}
