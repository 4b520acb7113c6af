package credentials_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
)

// While the token endpoint rate-limits the client past the retry policy's
// wait, the source returns RateLimited with the endpoint's RetryAt without
// asking again (each call used to ask, and be refused, counting against
// the client); after it, or 5 minutes at most, it asks again.
func TestClientCredentialsRateLimitedAsksNoMore(t *testing.T) {
	clk := testclock.New(time.Now().Truncate(time.Second))
	var grants atomic.Int64
	var limited atomic.Bool
	limited.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		grants.Add(1)
		if limited.Load() {
			w.Header().Set("Retry-After", "3600")
			http.Error(w, `{"error":"rate_limited"}`, http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"tok","token_type":"bearer","expires_in":3600}`))
	}))
	defer srv.Close()
	src := credentials.ClientCredentials(&clientcredentials.Config{ClientID: "id", ClientSecret: "secret", TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInHeader},
		&credentials.ClientCredentialsOptions{Now: clk.Now})
	for i := range 20 {
		_, err := src.Credential(t.Context())
		if e, ok := errors.AsType[*errcode.Error](err); !ok || e.Code != errcode.RateLimited || !e.RetryAt.After(clk.Now()) {
			t.Fatalf("call %d: %v; want RateLimited with a RetryAt", i, err)
		}
	}
	if n := grants.Load(); n != 1 {
		t.Errorf("20 calls while rate-limited asked for %d grants; want 1", n)
	}
	limited.Store(false)
	clk.Advance(5 * time.Minute) // the endpoint said an hour; it is asked again after 5 minutes at most
	if _, err := src.Credential(t.Context()); err != nil {
		t.Fatalf("after RetryAt: %v", err)
	}
	if n := grants.Load(); n != 2 {
		t.Errorf("after RetryAt, %d grants asked in all; want 2", n)
	}
}
