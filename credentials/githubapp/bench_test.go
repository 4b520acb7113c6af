package githubapp_test

import (
	"sync"
	"testing"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/integrations"
)

// BenchmarkGitHubAppTokenCold1000: 1,000 goroutines ask at once for the
// token of an owner the App has never seen. Each iteration uses a new App,
// so every iteration is cold; the budget is 2 requests (lookup + mint).
func BenchmarkGitHubAppTokenCold1000(b *testing.B) {
	fake := apptest.New(b, nil)
	fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	cfg := integrations.GitHubAppConfig{AppID: apptest.AppID, PrivateKey: integrations.NewSecret(apptest.PrivateKeyPEM())}
	b.ReportAllocs()
	for b.Loop() {
		app, err := githubapp.New(fake.URL, cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 1000 {
			wg.Go(func() {
				<-start
				if _, err := app.Token(b.Context(), "acme", "widgets"); err != nil {
					b.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	b.ReportMetric(float64(fake.Requests())/float64(b.N), "requests/op")
}

// BenchmarkTokenCached: a cached owner's token, no request.
func BenchmarkTokenCached(b *testing.B) {
	fake := apptest.New(b, nil)
	fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	app, err := githubapp.New(fake.URL, integrations.GitHubAppConfig{AppID: apptest.AppID, PrivateKey: integrations.NewSecret(apptest.PrivateKeyPEM())}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := app.Token(b.Context(), "acme", "widgets"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := app.Token(b.Context(), "acme", "widgets"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fake.Requests()-2)/float64(b.N), "requests/op")
}
