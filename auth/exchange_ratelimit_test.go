package auth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// A rate limit's retry time is kept for 5 minutes at most: a Retry-After
// of a year (a misbehaving proxy, an epoch taken for seconds) does not
// stop this subject token's exchanges for a year once the provider
// recovers.
func TestExchangeRateLimitKeptBriefly(t *testing.T) {
	s, _, _ := exchangeWorld(t, true, "")
	var requests atomic.Int32
	var limited atomic.Bool
	limited.Store(true)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if limited.Load() {
			w.Header().Set("Retry-After", "31536000")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"slow_down"}`)
			return
		}
		io.WriteString(w, `{"access_token":"exchanged","token_type":"Bearer","expires_in":300,"issued_token_type":"`+auth.TokenTypeAccessToken+`"}`)
	}))
	t.Cleanup(idp.Close)
	now := time.Now()
	x, err := auth.NewTokenExchange(auth.TokenExchangeOptions{Issuer: s.Identity.Issuer, TokenURL: idp.URL + "/token", ClientID: "portal",
		ClientSecret: integrations.NewSecret("portal-secret"), Audience: []string{"kubernetes"}, Now: func() time.Time { return now }, HTTPClient: http.DefaultClient})
	if err != nil {
		t.Fatal(err)
	}
	src := x.Source(s)
	_, err = src.Credential(t.Context())
	if errcode.CodeOf(err) != errcode.RateLimited {
		t.Fatalf("first exchange: %v, want RateLimited", err)
	}
	if _, err := src.Credential(t.Context()); errcode.CodeOf(err) != errcode.RateLimited || requests.Load() != 1 {
		t.Fatalf("at once again: %v after %d requests; want RateLimited from memory", err, requests.Load())
	}
	limited.Store(false) // the provider recovered
	now = now.Add(10 * time.Minute)
	_, err = src.Credential(t.Context())
	if err != nil {
		t.Errorf("10 minutes after a rate limit, with the provider answering again, the exchange is still refused from memory: %v", err)
	}
}
