package credentials

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/errcode"
)

func userConfig(f *fakeOAuth) *oauth2.Config {
	return &oauth2.Config{ClientID: "web-app", ClientSecret: "web-app-secret",
		Endpoint: oauth2.Endpoint{TokenURL: f.URL + "/login/oauth/access_token", AuthStyle: oauth2.AuthStyleInParams}}
}

func TestUserSourceServesAValidTokenWithoutRefreshing(t *testing.T) {
	f := newFakeOAuth(t, "", "")
	clk := newClock()
	src := UserSource(userConfig(f), &oauth2.Token{AccessToken: "ghu_current", RefreshToken: "ghr_1", Expiry: clk.Now().Add(8 * time.Hour)},
		&UserOptions{Now: clk.Now, Source: "user alice"})
	c, err := src.Credential(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindUser || c.Token != "ghu_current" || c.Source != "user alice" {
		t.Errorf("Credential = %v; want alice's current token", c)
	}
	if f.Requests() != 0 {
		t.Errorf("requests = %d; want 0", f.Requests())
	}
}

func TestUserSourceRefreshesAndRotates(t *testing.T) {
	f := newFakeOAuth(t, "", "")
	f.rotate = true
	f.refresh["ghr_1"] = true
	clk := newClock()
	var mu sync.Mutex
	var rotated []*oauth2.Token
	src := UserSource(userConfig(f), &oauth2.Token{AccessToken: "ghu_old", RefreshToken: "ghr_1", Expiry: clk.Now().Add(time.Minute)},
		&UserOptions{Now: clk.Now, Margin: 5 * time.Minute, HTTPClient: f.Client(), OnRotate: func(ctx context.Context, tok *oauth2.Token) {
			if ctx.Err() != nil {
				t.Errorf("OnRotate got a done context")
			}
			mu.Lock()
			rotated = append(rotated, tok)
			mu.Unlock()
		}})

	// Expiring within the margin: 100 concurrent callers, one refresh.
	const n = 100
	got := make([]*Credential, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = src.Credential(t.Context()) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("caller %d: %v, %v", i, got[i], errs[i])
		}
	}
	if got[0].Token == "ghu_old" || got[0].Kind != KindUser {
		t.Errorf("Credential = %v; want a refreshed user token", got[0])
	}
	if want := clk.Now().Add(2 * time.Hour); !got[0].Expiry.Equal(want) {
		t.Errorf("Expiry = %v; want %v (expires_in on the injected clock)", got[0].Expiry, want)
	}
	if f.Requests() != 1 {
		t.Errorf("refresh requests = %d; want 1", f.Requests())
	}
	if len(rotated) != 1 || rotated[0].RefreshToken == "ghr_1" || !f.refresh[rotated[0].RefreshToken] {
		t.Fatalf("OnRotate calls = %v; want one, with the new refresh token", rotated)
	}
	if !strings.Contains(f.lastForm, "refresh_token=ghr_1") {
		t.Errorf("refresh request %q does not use the refresh token", f.lastForm)
	}

	// The next refresh uses the rotated refresh token (the old one is revoked).
	clk.Advance(2 * time.Hour)
	if _, err := src.Credential(t.Context()); err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	if len(rotated) != 2 {
		t.Errorf("OnRotate calls = %d; want 2", len(rotated))
	}
}

func TestUserSourceFailures(t *testing.T) {
	tests := []struct {
		name      string
		tok       *oauth2.Token
		fault     func(w http.ResponseWriter, r *http.Request) bool
		wantCode  errcode.Code
		wantInMsg string
	}{
		{"no refresh token", &oauth2.Token{AccessToken: "ghu_old", Expiry: time.Now().Add(-time.Minute)}, nil,
			errcode.Unauthorized, "there is no refresh token to renew it; the user must sign in again"},
		{"refresh token revoked", &oauth2.Token{AccessToken: "ghu_old", RefreshToken: "ghr_revoked", Expiry: time.Now().Add(-time.Minute)}, nil,
			errcode.Unauthorized, "invalid_grant"},
		{"token endpoint down", &oauth2.Token{RefreshToken: "ghr_1"}, func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}, errcode.Unavailable, "HTTP 502"},
		{"token endpoint answers garbage", &oauth2.Token{RefreshToken: "ghr_1"}, func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>login</html>"))
			return true
		}, errcode.Unavailable, "not an OAuth token response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOAuth(t, "", "")
			f.refresh["ghr_1"] = true
			f.setFault(tt.fault)
			src := UserSource(userConfig(f), tt.tok, nil)
			_, err := src.Credential(t.Context())
			if errcode.CodeOf(err) != tt.wantCode || !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("Credential = %v; want %v containing %q", err, tt.wantCode, tt.wantInMsg)
			}
			mustNotContain(t, "error", err.Error(), "ghr_", "ghu_", "web-app-secret")
		})
	}
}

func TestUserSourceInvalidate(t *testing.T) {
	f := newFakeOAuth(t, "", "")
	f.refresh["ghr_1"] = true
	src := UserSource(userConfig(f), &oauth2.Token{AccessToken: "ghu_revoked", RefreshToken: "ghr_1", Expiry: time.Now().Add(time.Hour)}, nil)
	first, _ := src.Credential(t.Context())
	if !src.Invalidate(first) {
		t.Fatalf("Invalidate = false; want true")
	}
	second, err := src.Credential(t.Context())
	if err != nil || second.Token == "ghu_revoked" {
		t.Errorf("Credential after Invalidate = %v, %v; want a refreshed token", second, err)
	}
}

func TestFromOAuth2(t *testing.T) {
	src := FromOAuth2(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "gho_static", Expiry: time.Now().Add(time.Hour)}))
	c, err := src.Credential(t.Context())
	if err != nil || c.Kind != KindUser || c.Token != "gho_static" || c.Source != "user" {
		t.Errorf("Credential = %v, %v; want the user's token", c, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := src.Credential(ctx); errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("Credential with a cancelled context = %v; want Canceled", err)
	}
}

// A token without a refresh token is served for its whole life, not
// refused for the last Margin of it as if it had expired; once it has
// expired, or once a server rejected it, it is refused.
func TestUserSourceWithoutRefreshTokenServesTheTokenUntilItExpires(t *testing.T) {
	clk := newClock()
	src := UserSource(nil, &oauth2.Token{AccessToken: "ghu_short", Expiry: clk.Now().Add(3 * time.Minute)},
		&UserOptions{Now: clk.Now, Margin: 5 * time.Minute})
	left := 3 * time.Minute
	for _, step := range []time.Duration{0, time.Minute, 59 * time.Second, time.Minute} {
		clk.Advance(step)
		left -= step
		c, err := src.Credential(t.Context())
		if err != nil || c.Token != "ghu_short" {
			t.Fatalf("Credential with %v left = %v, %v; want the still valid token", left, c, err)
		}
	}
	clk.Advance(time.Second) // expired now
	if c, err := src.Credential(t.Context()); errcode.CodeOf(err) != errcode.Unauthorized || c != nil {
		t.Fatalf("Credential after expiry = %v, %v; want Unauthorized", c, err)
	}

	// Rejected by a server while still valid: not handed out again.
	src = UserSource(nil, &oauth2.Token{AccessToken: "ghu_revoked", Expiry: clk.Now().Add(3 * time.Minute)},
		&UserOptions{Now: clk.Now, Margin: 5 * time.Minute})
	c, err := src.Credential(t.Context())
	if err != nil {
		t.Fatalf("Credential = %v", err)
	}
	if !src.Invalidate(c) {
		t.Fatalf("Invalidate = false; want true")
	}
	if c, err := src.Credential(t.Context()); errcode.CodeOf(err) != errcode.Unauthorized || c != nil {
		t.Fatalf("Credential after Invalidate = %v, %v; want Unauthorized", c, err)
	}
}

// An Invalidate that runs while a fetch is handing out the held token (no
// refresh token) must win: the token the server rejected is not served
// again, even though the fetch stores it in the cache after Invalidate
// emptied it.
func TestUserSourceInvalidateDuringFetchWins(t *testing.T) {
	clk := newClock()
	src := UserSource(nil, &oauth2.Token{AccessToken: "ghu_rejected", Expiry: clk.Now().Add(3 * time.Minute)},
		&UserOptions{Now: clk.Now, Margin: 5 * time.Minute})
	fetch := src.fetch
	src.fetch = func(ctx context.Context) (*Credential, time.Time, error) {
		c, exp, err := fetch(ctx)
		if c != nil {
			src.Invalidate(c) // a 401 elsewhere, between the fetch and the cache's store
		}
		return c, exp, err
	}
	// The seeded token is due within the margin, so this call fetches.
	if c, err := src.Credential(t.Context()); errcode.CodeOf(err) != errcode.Unauthorized || c != nil {
		t.Fatalf("Credential racing Invalidate = %v, %v; want Unauthorized", c, err)
	}
	if c, err := src.Credential(t.Context()); errcode.CodeOf(err) != errcode.Unauthorized || c != nil {
		t.Fatalf("Credential after the race = %v, %v; want Unauthorized", c, err)
	}
}

// A provider's error code is clipped as its description is: a token
// endpoint cannot fill an error with a megabyte.
func TestOAuthErrorCodeClipped(t *testing.T) {
	huge := strings.Repeat("x", 100_000)
	e := classifyOAuthError("op", "host", "refreshing", refreshRefused, time.Now(), &oauth2.RetrieveError{ErrorCode: huge, ErrorDescription: huge})
	if n := len(e.Error()); n > 2000 {
		t.Errorf("the error is %d bytes long", n)
	}
}
