package auth_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// TestTokenExchangeCappedBySubject: a provider may issue an exchanged token
// that lives longer than the user's own (a day, say, for an access token
// that expires within the hour): the credential's Expiry is the subject
// token's, so that no caller keeps speaking for the user past it.
func TestTokenExchangeCappedBySubject(t *testing.T) {
	s, _, _ := exchangeWorld(t, true, "")
	if s.Tokens.Expiry.IsZero() {
		t.Fatal("the OP's access token does not expire: not the case tested")
	}
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "exchanged-1", "token_type": "Bearer", "expires_in": 86400,
			"issued_token_type": auth.TokenTypeAccessToken})
	}))
	t.Cleanup(idp.Close)
	x, err := auth.NewTokenExchange(auth.TokenExchangeOptions{Issuer: s.Identity.Issuer, TokenURL: idp.URL + "/token", ClientID: "portal",
		ClientSecret: integrations.NewSecret("portal-secret"), Audience: []string{"kubernetes"}})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := x.Source(s).Credential(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if cred.Expiry.IsZero() || cred.Expiry.After(s.Tokens.Expiry) {
		t.Fatalf("the exchanged credential expires at %v, after the user's own token (%v)", cred.Expiry, s.Tokens.Expiry)
	}
}

// TestTokenExchangeRefusalStands: a provider's refusal to exchange a
// subject token is not asked again for every call: the calls within 30
// seconds get the same error (PermissionDenied) without a request; later,
// the provider is asked again. A failure that is no refusal (a 503) is
// not kept.
func TestTokenExchangeRefusalStands(t *testing.T) {
	s, _, _ := exchangeWorld(t, true, "")
	for _, tc := range []struct {
		name   string
		status int
		body   string
		code   errcode.Code
		kept   bool
	}{
		{"access_denied", http.StatusForbidden, `{"error":"access_denied","error_description":"Client not allowed to exchange"}`, errcode.PermissionDenied, true},
		{"invalid_grant", http.StatusBadRequest, `{"error":"invalid_grant","error_description":"subject token refused"}`, errcode.Unauthorized, true},
		{"unavailable", http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`, errcode.Unavailable, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			t.Cleanup(idp.Close)
			now := time.Now()
			x, err := auth.NewTokenExchange(auth.TokenExchangeOptions{Issuer: s.Identity.Issuer, TokenURL: idp.URL + "/token", ClientID: "portal",
				ClientSecret: integrations.NewSecret("portal-secret"), Audience: []string{"kubernetes"}, Now: func() time.Time { return now },
				HTTPClient: http.DefaultClient})
			if err != nil {
				t.Fatal(err)
			}
			src := x.Source(s)
			for range 3 {
				_, err := src.Credential(t.Context())
				if errcode.CodeOf(err) != tc.code {
					t.Fatalf("the exchange: %v, want %v", err, tc.code)
				}
				if strings.Contains(err.Error(), "refresh token") {
					t.Fatalf("the exchange's error blames a refresh token, which it never sent: %v", err)
				}
			}
			want := int32(3)
			if tc.kept {
				want = 1
			}
			if n := requests.Load(); n != want {
				t.Fatalf("%d requests for 3 calls, want %d", n, want)
			}
			now = now.Add(31 * time.Second)
			if _, err := src.Credential(t.Context()); errcode.CodeOf(err) != tc.code {
				t.Fatalf("the exchange 31 s later: %v, want %v", err, tc.code)
			}
			if n := requests.Load(); n != want+1 {
				t.Fatalf("31 s later: %d requests in all, want %d", n, want+1)
			}
		})
	}
}

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
	if e := (*errcode.Error)(nil); errors.As(err, &e) && e.RetryAt.After(now.Add(5*time.Minute)) {
		t.Errorf("the error tells to retry at %v, more than 5 minutes away", e.RetryAt)
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
