package githubapp_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/integrations"
)

// benchApp returns a new App on fake (cfg adjusts the config), with the
// clock now.
func benchApp(b *testing.B, fake *apptest.Server, now func() time.Time, cfg func(*integrations.GitHubAppConfig)) *githubapp.App {
	c := integrations.GitHubAppConfig{AppID: apptest.AppID, PrivateKey: integrations.NewSecret(apptest.PrivateKeyPEM())}
	if cfg != nil {
		cfg(&c)
	}
	app, err := githubapp.New(fake.URL, c, &githubapp.Options{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	return app
}

// BenchmarkPublicTokenSecondPage: the app's first 100 installations are
// suspended, the 101st is active. errors/op is 1 when PublicToken wrongly
// answers NotFound.
func BenchmarkPublicTokenSecondPage(b *testing.B) {
	fake := apptest.New(b, nil)
	for i := range 100 {
		fake.Add(apptest.Installation{ID: int64(i + 1), Login: "skip-" + strconv.Itoa(i), Suspended: true})
	}
	fake.Add(apptest.Installation{ID: 101, Login: "acme"})
	before, fails := fake.Requests(), 0
	for b.Loop() {
		app := benchApp(b, fake, nil, func(c *integrations.GitHubAppConfig) { c.PublicAccess = true })
		if _, err := app.PublicToken(b.Context()); err != nil {
			fails++
		}
	}
	b.ReportMetric(float64(fake.Requests()-before)/float64(b.N), "requests/op")
	b.ReportMetric(float64(fails)/float64(b.N), "errors/op")
}

// BenchmarkColdOwners50: tokens for 50 owners the App has never seen,
// asked at once (organisations) or one after another (users).
func BenchmarkColdOwners50(b *testing.B) {
	for _, tt := range []struct {
		name, typ  string
		concurrent bool
	}{{"orgs-concurrent", "Organization", true}, {"users-sequential", "User", false}} {
		b.Run(tt.name, func(b *testing.B) {
			fake := apptest.New(b, nil)
			for i := range 50 {
				fake.Add(apptest.Installation{ID: int64(i + 1), Login: "owner-" + strconv.Itoa(i), Type: tt.typ})
			}
			before := fake.Requests()
			for b.Loop() {
				app := benchApp(b, fake, nil, nil)
				var wg sync.WaitGroup
				for i := range 50 {
					get := func() {
						if _, err := app.Token(b.Context(), "owner-"+strconv.Itoa(i), ""); err != nil {
							b.Error(err)
						}
					}
					if tt.concurrent {
						wg.Go(get)
					} else {
						get()
					}
				}
				wg.Wait()
			}
			b.ReportMetric(float64(fake.Requests()-before)/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkRelistInstallations: PublicToken once its installation has
// expired (an hour later, so the token is minted again too): the
// installations are listed again. counted/op leaves out the 304s, which
// GitHub does not count against the rate limit: the installations' one
// page, of 1, has room left and is answered 304 (before, as the last page,
// it was read in full and counted); the mint counts.
func BenchmarkRelistInstallations(b *testing.B) {
	clk := newClock()
	fake := apptest.New(b, clk.Now)
	fake.Add(apptest.Installation{ID: 9, Login: "acme"})
	app := benchApp(b, fake, clk.Now, func(c *integrations.GitHubAppConfig) { c.PublicAccess = true })
	if _, err := app.PublicToken(b.Context()); err != nil {
		b.Fatal(err)
	}
	req, nm := fake.Requests(), fake.NotModified()
	for b.Loop() {
		clk.Advance(githubapp.DefaultInstallationTTL)
		if _, err := app.PublicToken(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	n := fake.Requests() - req
	b.ReportMetric(float64(n)/float64(b.N), "requests/op")
	b.ReportMetric(float64(n-(fake.NotModified()-nm))/float64(b.N), "counted/op")
}

// BenchmarkRelistRepositories: a selected-repositories installation's
// repository list has expired (RepositoriesTTL) and is listed again.
func BenchmarkRelistRepositories(b *testing.B) {
	clk := newClock()
	fake := apptest.New(b, clk.Now)
	fake.Add(apptest.Installation{ID: 3, Login: "acme", Selection: "selected", Repos: []string{"a", "b"}})
	app := benchApp(b, fake, clk.Now, nil)
	if _, err := app.Installation(b.Context(), "acme"); err != nil {
		b.Fatal(err)
	}
	if _, err := app.Token(b.Context(), "acme", "b"); err != nil {
		b.Fatal(err)
	}
	req, nm := fake.Requests(), fake.NotModified()
	for b.Loop() {
		clk.Advance(githubapp.DefaultRepositoriesTTL)
		if _, err := app.Token(b.Context(), "acme", "b"); err != nil {
			b.Fatal(err)
		}
	}
	n := fake.Requests() - req
	b.ReportMetric(float64(n)/float64(b.N), "requests/op")
	b.ReportMetric(float64(n-(fake.NotModified()-nm))/float64(b.N), "counted/op")
}

// BenchmarkSelectedFirstToken: the first token of a cold owner whose
// installation is limited to selected repositories, for one of them.
func BenchmarkSelectedFirstToken(b *testing.B) {
	fake := apptest.New(b, nil)
	fake.Add(apptest.Installation{ID: 3, Login: "acme", Selection: "selected", Repos: []string{"a", "b"}})
	before := fake.Requests()
	for b.Loop() {
		app := benchApp(b, fake, nil, nil)
		if _, err := app.Token(b.Context(), "acme", "a"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fake.Requests()-before)/float64(b.N), "requests/op")
}

// BenchmarkCancelledMint: the caller that started a mint gives up once
// the POST is out while another waits for the token. mints/op counts the
// POSTs.
func BenchmarkCancelledMint(b *testing.B) {
	fake := apptest.New(b, nil)
	fake.Add(apptest.Installation{ID: 42, Login: "acme"})
	const mint = "POST /app/installations/42/access_tokens"
	before := fake.Count(mint)
	for b.Loop() {
		app := benchApp(b, fake, nil, nil)
		if _, err := app.Installation(b.Context(), "acme"); err != nil {
			b.Fatal(err)
		}
		arrived, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPost {
				first := false
				once.Do(func() { first = true })
				if first {
					close(arrived)
					<-release
				}
			}
			return false
		})
		leader, cancel := context.WithCancel(b.Context())
		done := make(chan struct{})
		go func() {
			app.Token(leader, "acme", "") //nolint:errcheck // it gives up
			close(done)
		}()
		<-arrived
		got := make(chan error, 1)
		go func() {
			_, err := app.Token(b.Context(), "acme", "")
			got <- err
		}()
		time.Sleep(5 * time.Millisecond)
		cancel()
		<-done
		time.Sleep(5 * time.Millisecond)
		close(release)
		if err := <-got; err != nil {
			b.Fatal(err)
		}
	}
	fake.SetFault(nil)
	b.ReportMetric(float64(fake.Count(mint)-before)/float64(b.N), "mints/op")
}
