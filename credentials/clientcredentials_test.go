package credentials_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

// TestClientCredentials: the grant goes through the caller's client (a 503
// is retried by its httpx policy, the POST being safe to repeat), once for
// concurrent callers, and the token is reused until it is due; a 429 is
// RateLimited with its RetryAt; an error echoing the secret does not show
// it.
func TestClientCredentials(t *testing.T) {
	const secret = "cc-s3cr3t-value"
	var calls atomic.Int32
	var mode atomic.Value
	mode.Store("ok")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch mode.Load() {
		case "throttled":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":"temporarily_unavailable"}`)
		case "echo":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_client %s","error_description":"got %s"}`, r.PostForm.Get("client_secret"), r.PostForm.Get("client_secret"))
		default:
			if n == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			time.Sleep(20 * time.Millisecond) // let the concurrent callers pile up
			fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, n)
		}
	}))
	defer srv.Close()
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	newSource := func() *credentials.CachedSource {
		cc := &clientcredentials.Config{ClientID: "app", ClientSecret: secret, TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams}
		return credentials.ClientCredentials(cc, &credentials.ClientCredentialsOptions{
			HTTPClient: httpx.NewClient(&httpx.Options{MinWait: time.Millisecond, MaxWait: 2 * time.Millisecond, Now: clock}),
			Now:        clock, Source: "test app", Host: "login.example", Provider: "test"})
	}

	src := newSource()
	var wg sync.WaitGroup
	toks := make([]string, 5)
	for i := range toks {
		wg.Go(func() {
			c, err := src.Credential(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			toks[i] = c.Token
		})
	}
	wg.Wait()
	for _, tok := range toks {
		if tok != "tok-2" {
			t.Fatalf("tokens %q, want tok-2 for every caller (one 503, retried once)", toks)
		}
	}
	if c, err := src.Credential(t.Context()); err != nil || c.Token != "tok-2" || calls.Load() != 2 || c.Kind != credentials.KindApp || c.Source != "test app" {
		t.Fatalf("cached: %v, %v after %d requests", c, err, calls.Load())
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if c, err := src.Credential(t.Context()); err != nil || c.Token != "tok-3" {
		t.Fatalf("due for renewal: %v, %v", c, err)
	}

	mode.Store("throttled")
	_, err := newSource().Credential(t.Context())
	var e *errcode.Error
	if !errors.As(err, &e) || e.Code != errcode.RateLimited || e.RetryAt.Before(clock().Add(59*time.Minute)) {
		t.Errorf("429: got %v, want RateLimited with RetryAt in an hour", err)
	}

	mode.Store("echo")
	_, err = newSource().Credential(context.Background())
	if errcode.CodeOf(err) != errcode.Unauthorized || strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), secret) {
		t.Errorf("echo: got %v, want Unauthorized without the secret", err)
	}
}
