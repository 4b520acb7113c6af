package authtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/errcode"
)

// TestProviderRotatesStrictly: the sign-in's refresh token works once;
// the older one is refused afterwards, as GitHub refuses it.
func TestProviderRotatesStrictly(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &authtest.Provider{AccessPrefix: "ghu_", RefreshPrefix: "ghr_", Lifetime: time.Hour, Now: func() time.Time { return now }}
	u, err := p.AuthCodeURL(t.Context(), auth.AuthRequest{State: "s t", RedirectURI: "https://portal.example.com/cb"})
	if err != nil || u != "https://portal.example.com/cb?code=c0de&state=s+t" {
		t.Fatalf("AuthCodeURL = %q, %v", u, err)
	}
	if p.LastRequest().State != "s t" {
		t.Errorf("LastRequest = %+v; want the state", p.LastRequest())
	}
	if _, err := p.Exchange(t.Context(), auth.Callback{Code: "c0de"}); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("Exchange without a PKCE verifier: %v; want Unauthorized", err)
	}
	in, err := p.Exchange(t.Context(), auth.Callback{Code: "c0de", CodeVerifier: "v"})
	if err != nil || in.Identity.Login != "alice" || in.Tokens.AccessToken != "ghu_1" || !in.Tokens.Expiry.Equal(now.Add(time.Hour)) {
		t.Fatalf("Exchange = %+v, %v", in, err)
	}
	next, err := p.Refresh(t.Context(), in.Tokens)
	if err != nil || next.Tokens.RefreshToken != "ghr_2" {
		t.Fatalf("Refresh = %+v, %v; want ghr_2", next, err)
	}
	if _, err := p.Refresh(t.Context(), in.Tokens); errcode.CodeOf(err) != errcode.Unauthorized || !strings.Contains(err.Error(), "already used") {
		t.Errorf("second use of ghr_1: %v; want Unauthorized", err)
	}
	if p.Refreshes.Load() != 2 || p.Refused.Load() != 1 {
		t.Errorf("Refreshes, Refused = %d, %d; want 2, 1", p.Refreshes.Load(), p.Refused.Load())
	}
	p.RefreshDelay = time.Hour
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Refresh(ctx, next.Tokens); errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("Refresh with a cancelled context: %v; want Canceled", err)
	}
	if info := p.Info(); info.Type != "stub" || info.Host != "stub.example.com" || info.Issuer != "https://stub.example.com" {
		t.Errorf("Info = %+v; want the defaults", info)
	}
}
