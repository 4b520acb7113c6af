package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/testsvc"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/githubscm"
)

// TestFleetFileSurvivesTokenRenewal: three replicas share one Redis (the
// GitHub App's installation token and the file cache). Replica 1 reads a
// file; an hour later the fleet's token is renewed (one mint, shared),
// and every replica re-reads the file: GitHub's ETags are per token, so
// the stored ETag would be answered 200 (counted); the shared entry
// remembers which token its ETag belongs to and its Last-Modified, so the
// first replica asks by date (a free 304) and stores the new token's
// ETag, which the others then send. No read after the renewal is
// counted. Seen failing before the fix (1 counted).
func TestFleetFileSurvivesTokenRenewal(t *testing.T) {
	r := testsvc.StartRedis(t)
	clk := newClock()
	fake := fakeWithApp(t, clk.Now)
	clk.Advance(time.Minute) // the file's date is a minute old when read
	_, pemKey := appKeyPair(t)
	fileURL := "https://" + fake.Host() + "/acme/widgets/blob/main/catalog-info.yaml"
	var clients []*scm.Client
	for range 3 {
		st := openStore(t, r, &redisstore.Options{Now: clk.Now})
		reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
			Host: fake.Host(), APIBaseURL: fake.APIBaseURL(),
			Apps: []integrations.GitHubAppConfig{{AppID: appID, PrivateKey: integrations.NewSecret(pemKey)}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := credentials.NewResolver(reg, &credentials.ResolverOptions{Shared: st, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		c, err := scm.NewClient(reg, res, &scm.Options{FileCache: st.Files(0),
			Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: githubscm.Opener(nil)}})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	read := func(i int) {
		t.Helper()
		f, err := clients[i].ReadFile(ctx, fileURL, nil)
		if err != nil || string(f.Content) != "kind: Component\n" {
			t.Fatalf("replica %d: %q, %v", i+1, f.Content, err)
		}
	}
	counted := func() int {
		st := fake.Stats()
		return st.Routes["GET /repos/{owner}/{repo}/contents/{path...}"] - st.NotModified
	}
	read(0)
	if n := counted(); n != 1 {
		t.Fatalf("first read: %d counted; want 1", n)
	}
	clk.Advance(time.Hour)
	for i := range clients {
		read(i)
	}
	if n := counted(); n != 1 {
		t.Errorf("after the renewal: %d counted in all; want 1 (the first read only)", n)
	}
	if _, mints := appRequests(fake); mints != 2 {
		t.Errorf("%d tokens minted; want 2 (one an hour, shared by the fleet)", mints)
	}
	var bySince, byETag int
	for _, req := range fake.Requests() {
		switch {
		case req.Route != "GET /repos/{owner}/{repo}/contents/{path...}":
		case req.Header.Get("If-Modified-Since") != "":
			bySince++
		case req.Header.Get("If-None-Match") != "":
			byETag++
		}
	}
	if bySince != 1 || byETag != 2 {
		t.Errorf("after the renewal: %d reads by date, %d by ETag; want 1 and 2", bySince, byETag)
	}
}
