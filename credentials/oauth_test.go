package credentials

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/errcode"
)

// redirector answers every request with a 307 to other (same address,
// another port: Go's client keeps Authorization there and re-sends the
// body), with a query that must not show up in errors.
func redirector(other *recorder) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, other.URL+"/stolen?sig=location-secret", http.StatusTemporaryRedirect)
		return true
	}
}

func checkRedirectError(t *testing.T, err error, other *recorder, secrets ...string) {
	t.Helper()
	if errcode.CodeOf(err) != errcode.Unavailable {
		t.Fatalf("error = %v; want Unavailable", err)
	}
	if want := "unexpected redirect (HTTP 307) to " + other.URL + "/stolen,"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	mustNotContain(t, "error", err.Error(), append(secrets, "location-secret")...)
	if got := other.Auths(); len(got) != 0 {
		t.Errorf("the redirect's target got requests with Authorization %q and bodies %q; want none", got, other.Bodies())
	}
}

func TestTokenEndpointRedirectsAreNotFollowed(t *testing.T) {
	t.Run("client credentials", func(t *testing.T) {
		other := newRecorder(t, nil)
		f := newFakeOAuth(t, "consumer-key", "consumer-secret")
		f.setFault(redirector(other))
		r := consumerResolver(t, f, nil, nil)
		_, err := r.Resolve(t.Context(), Request{Host: "bitbucket.org", Owner: "acme"})
		checkRedirectError(t, err, other, "consumer-secret")
		if n := f.Requests(); n != 1 {
			t.Errorf("token requests = %d; want 1 (a redirect is not retried)", n)
		}
	})
	t.Run("user refresh", func(t *testing.T) {
		other := newRecorder(t, nil)
		f := newFakeOAuth(t, "", "")
		f.refresh["ghr_1"] = true
		f.setFault(redirector(other))
		src := UserSource(userConfig(f), &oauth2.Token{RefreshToken: "ghr_1"}, &UserOptions{HTTPClient: f.Client()})
		_, err := src.Credential(t.Context())
		checkRedirectError(t, err, other, "ghr_1", "web-app-secret")
	})
	t.Run("user refresh, default client", func(t *testing.T) {
		other := newRecorder(t, nil)
		f := newFakeOAuth(t, "", "")
		f.refresh["ghr_1"] = true
		f.setFault(redirector(other))
		src := UserSource(userConfig(f), &oauth2.Token{RefreshToken: "ghr_1"}, nil)
		_, err := src.Credential(t.Context())
		checkRedirectError(t, err, other, "ghr_1", "web-app-secret")
	})
}

// TestUserRefreshOutlivesACancelledLeader: the caller whose call started a
// refresh gives up after the provider rotated the refresh token; the
// refresh still completes, so the new refresh token is kept and handed to
// OnRotate, and a caller still waiting gets the new access token.
func TestUserRefreshOutlivesACancelledLeader(t *testing.T) {
	f := newFakeOAuth(t, "", "")
	f.rotate = true
	f.refresh["ghr_1"] = true
	f.delay = 2 * time.Second
	arrived := make(chan struct{})
	var once sync.Once
	f.setFault(func(http.ResponseWriter, *http.Request) bool {
		once.Do(func() { close(arrived) })
		return false
	})
	var mu sync.Mutex
	var rotated []string
	src := UserSource(userConfig(f), &oauth2.Token{AccessToken: "ghu_expired", RefreshToken: "ghr_1", Expiry: time.Now().Add(-time.Minute)},
		&UserOptions{HTTPClient: f.Client(), OnRotate: func(ctx context.Context, tok *oauth2.Token) {
			mu.Lock()
			rotated = append(rotated, tok.RefreshToken)
			mu.Unlock()
		}})

	type result struct {
		c       *Credential
		err     error
		elapsed time.Duration
	}
	leader := make(chan result, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	go func() {
		c, err := src.Credential(ctx)
		leader <- result{c, err, time.Since(start)}
	}()
	<-arrived
	follower := make(chan result, 1)
	go func() {
		c, err := src.Credential(t.Context())
		follower <- result{c, err, 0}
	}()

	l := <-leader
	if errcode.CodeOf(l.err) != errcode.DeadlineExceeded || l.elapsed >= time.Second {
		t.Errorf("leader: %v, %v after %v; want DeadlineExceeded within 1s (the endpoint takes 2s)", l.c, l.err, l.elapsed)
	}
	fl := <-follower
	if fl.err != nil || fl.c.Token != "ghu_user1" {
		t.Fatalf("follower: %v, %v; want the refreshed token ghu_user1", fl.c, fl.err)
	}
	mu.Lock()
	if len(rotated) != 1 || rotated[0] != "ghr_rotated1" {
		t.Errorf("OnRotate calls = %q; want exactly one, with ghr_rotated1", rotated)
	}
	mu.Unlock()
	if again, err := src.Credential(t.Context()); err != nil || again != fl.c {
		t.Errorf("Credential afterwards = %v, %v; want the stored token", again, err)
	}
	if n := f.Requests(); n != 1 {
		t.Errorf("refresh requests = %d; want 1", n)
	}
}

// TestUserRefreshFailureAfterTheLeaderGaveUpIsNotRetried: the caller whose
// call started a refresh gives up, and the refresh then fails on its own
// (invalid_grant). The caller still waiting gets that failure; nobody sends
// the refresh token a second time, since a provider that rotates refresh
// tokens may have consumed it.
func TestUserRefreshFailureAfterTheLeaderGaveUpIsNotRetried(t *testing.T) {
	f := newFakeOAuth(t, "", "")
	arrived := make(chan struct{})
	var once sync.Once
	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		once.Do(func() { close(arrived) })
		time.Sleep(2 * time.Second)
		oauthFail(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid or has been revoked.")
		return true
	})
	src := UserSource(userConfig(f), &oauth2.Token{AccessToken: "ghu_expired", RefreshToken: "ghr_1", Expiry: time.Now().Add(-time.Minute)},
		&UserOptions{HTTPClient: f.Client()})

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	leader := make(chan error, 1)
	go func() {
		_, err := src.Credential(ctx)
		leader <- err
	}()
	<-arrived
	follower := make(chan error, 1)
	go func() {
		_, err := src.Credential(t.Context())
		follower <- err
	}()

	lerr := <-leader
	if elapsed := time.Since(start); errcode.CodeOf(lerr) != errcode.DeadlineExceeded || elapsed >= time.Second {
		t.Errorf("leader: %v after %v; want DeadlineExceeded within 1s (the endpoint takes 2s)", lerr, elapsed)
	}
	err := <-follower
	if errcode.CodeOf(err) != errcode.Unauthorized || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("follower: %v; want Unauthorized with invalid_grant", err)
	}
	if n := f.Requests(); n != 1 {
		t.Errorf("refresh requests = %d; want 1 (a refresh is not retried)", n)
	}
}

func TestUserRefreshHasItsOwnTimeout(t *testing.T) {
	f := newFakeOAuth(t, "", "")
	f.refresh["ghr_1"] = true
	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	})
	src := UserSource(userConfig(f), &oauth2.Token{RefreshToken: "ghr_1"}, &UserOptions{HTTPClient: f.Client(), AttemptTimeout: 50 * time.Millisecond})
	start := time.Now()
	_, err := src.Credential(t.Context())
	if errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "did not answer the refresh of the signed-in user's token within 50ms") {
		t.Errorf("Credential = %v; want Unavailable naming the 50ms timeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Credential took %v; want about 50ms", d)
	}
}

// blockingTokenSource is an oauth2.TokenSource whose Token blocks until
// release is closed.
type blockingTokenSource struct {
	release chan struct{}
	calls   atomic.Int32
}

func (b *blockingTokenSource) Token() (*oauth2.Token, error) {
	b.calls.Add(1)
	<-b.release
	return &oauth2.Token{AccessToken: "gho_released", Expiry: time.Now().Add(time.Hour)}, nil
}

func TestFromOAuth2ReturnsWhenTheContextEnds(t *testing.T) {
	ts := &blockingTokenSource{release: make(chan struct{})}
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(ts.release) }) }
	t.Cleanup(release)
	src := FromOAuth2(ts)
	before := runtime.NumGoroutine()

	const n = 5
	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := src.Credential(ctx)
			errs <- err
		}()
	}
	for deadline := time.Now().Add(2 * time.Second); ts.calls.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the token source was never called")
		}
	}
	time.Sleep(10 * time.Millisecond) // let every caller get to the shared call
	cancel()
	timeout := time.After(time.Second)
	for range n {
		select {
		case err := <-errs:
			if errcode.CodeOf(err) != errcode.Canceled {
				t.Errorf("Credential = %v; want Canceled", err)
			}
		case <-timeout:
			t.Fatal("Credential did not return within 1s of its context ending")
		}
	}
	if got := ts.calls.Load(); got != 1 {
		t.Errorf("Token calls = %d; want 1 shared by every caller", got)
	}
	release()
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the token source returned; want at most %d, as before", runtime.NumGoroutine(), before)
		}
	}
	c, err := src.Credential(t.Context())
	if err != nil || c.Token != "gho_released" {
		t.Errorf("Credential after release = %v, %v; want the token", c, err)
	}
}
