package auth_test

import (
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// BenchmarkOIDCCallback measures one sign-in's callback against a real
// OpenID Provider with its discovery document and keys cached: the
// requests the callback sends to the provider per sign-in.
func BenchmarkOIDCCallback(b *testing.B) {
	for _, tc := range []struct {
		name    string
		profile bool
	}{{"ProfileInIDToken", true}, {"ProfileFromUserinfo", false}} {
		b.Run(tc.name, func(b *testing.B) {
			p := newPortal(b, auth.Options{})
			op := startOP(b, p, "oidc", authtest.OPOptions{ProfileInIDToken: tc.profile, User: authtest.User{FirstName: "Alice"}})
			registerOIDC(b, p, op)
			p.signIn(b, "oidc") // warm: discovery and keys
			b.ResetTimer()
			var back int
			for b.Loop() {
				b.StopTimer()
				c := noFollowB()
				cb := authorizeB(b, startB(b, c, p, "oidc"), p)
				op.ResetRequests()
				b.StartTimer()
				resp, err := c.Get(cb.String())
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("callback: %v %v", resp, err)
				}
				resp.Body.Close()
				for path, n := range op.Requests() {
					if path != "/authorize" {
						back += n
					}
				}
			}
			b.ReportMetric(float64(back)/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkGitHubCallback measures one GitHub sign-in's callback: token
// and /user.
func BenchmarkGitHubCallback(b *testing.B) {
	p := newPortal(b, auth.Options{})
	fg := githubWorld(b, false, nil)
	registerGitHub(b, p, fg)
	var back int
	for b.Loop() {
		b.StopTimer()
		c := noFollowB()
		cb := authorizeB(b, startB(b, c, p, "github"), p)
		before := fg.Stats().API
		b.StartTimer()
		resp, err := c.Get(cb.String())
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("callback: %v %v", resp, err)
		}
		resp.Body.Close()
		back += fg.Stats().API - before
	}
	b.ReportMetric(float64(back)/float64(b.N), "requests/op")
}

// BenchmarkSessionLookup measures Handler.Session with the in-memory
// store: verify the cookie, read, open and decode the sealed record.
func BenchmarkSessionLookup(b *testing.B) {
	p := newPortal(b, auth.Options{})
	fg := githubWorld(b, false, nil)
	registerGitHub(b, p, fg)
	c, _, _ := p.signIn(b, "github")
	req, _ := http.NewRequest(http.MethodGet, p.srv.URL+"/", nil)
	u, _ := url.Parse(p.srv.URL + "/")
	for _, ck := range c.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	before := fg.Stats().API
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := p.h.Session(req); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time of the process per lookup: on a loaded machine ns/op
	// (wall time) includes the time other processes had the CPU.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(fg.Stats().API-before)/float64(b.N), "requests/op")
}

// BenchmarkRefresh20Callers measures 20 concurrent callers of one
// session's credential as its GitHub App token expires: the refresh
// requests per expiry.
func BenchmarkRefresh20Callers(b *testing.B) {
	clk := testclock.New(time.Now())
	p := newPortal(b, auth.Options{Now: clk.Now, SessionDuration: 100 * 365 * 24 * time.Hour})
	p.clk = clk
	fg := githubWorld(b, true, clk.Now)
	registerGitHub(b, p, fg)
	c, _, _ := p.signIn(b, "github")
	s := p.sessionOf(b, c)
	var refreshes int
	for b.Loop() {
		b.StopTimer()
		clk.Advance(8 * time.Hour)
		before := fg.Stats().Routes["POST /login/oauth/access_token"]
		b.StartTimer()
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.UserCredentials()[fg.Host()].Credential(b.Context()); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		refreshes += fg.Stats().Routes["POST /login/oauth/access_token"] - before
	}
	b.ReportMetric(float64(refreshes)/float64(b.N), "requests/op")
}

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func noFollowB() *http.Client { return noFollow() }

func startB(b *testing.B, c *http.Client, p *portal, provider string) *url.URL {
	resp, err := c.Get(p.srv.URL + "/api/auth/" + provider + "/start?env=development")
	if err != nil || resp.StatusCode != http.StatusFound {
		b.Fatalf("start: %v %v", resp, err)
	}
	resp.Body.Close()
	u, _ := url.Parse(resp.Header.Get("Location"))
	return u
}

// authorizeB follows the provider's redirects (its login page included)
// until one leads back to the portal, and returns that callback URL.
func authorizeB(b testing.TB, authURL *url.URL, p *portal) *url.URL {
	portalURL, _ := url.Parse(p.srv.URL)
	var cb *url.URL
	c := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == portalURL.Host {
			cb = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(authURL.String())
	if err != nil || cb == nil {
		b.Fatalf("authorize: %v %v", resp, err)
	}
	resp.Body.Close()
	return cb
}

// BenchmarkStart measures /start, the public route that begins a sign-in
// (anyone on the internet can call it), with an OIDC provider whose
// discovery document is cached: the requests it sends the provider and
// the session-store calls it makes per sign-in started (both 0: the
// state travels sealed in the URL and the flow cookie).
func BenchmarkStart(b *testing.B) {
	store := &opStore{MemoryStore: auth.NewMemoryStore(nil)}
	p := newPortal(b, auth.Options{Store: store})
	op := startOP(b, p, "oidc", authtest.OPOptions{ProfileInIDToken: true})
	registerOIDC(b, p, op)
	startB(b, noFollowB(), p, "oidc") // warm: discovery
	op.ResetRequests()
	calls := store.calls.Load()
	c := noFollowB()
	b.ReportAllocs()
	for b.Loop() {
		startB(b, c, p, "oidc")
	}
	var sent int
	for _, n := range op.Requests() {
		sent += n
	}
	b.ReportMetric(float64(sent)/float64(b.N), "requests/op")
	b.ReportMetric(float64(store.calls.Load()-calls)/float64(b.N), "store-calls/op")
}
