package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// staff is a custom password provider over an in-memory list of
// accounts. Its Recheck lets the Handler end the session of an account
// that was removed: a PasswordProvider's sessions have no token that
// expires, so nothing else would ask it again.
type staff struct {
	mu       sync.Mutex
	accounts map[string]string // login → password
}

func (*staff) Info() auth.ProviderInfo { return auth.ProviderInfo{Type: "staff", Issuer: "staff"} }

func (s *staff) Authenticate(_ context.Context, login, password string) (*auth.SignIn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pw, ok := s.accounts[login]; !ok || pw != password {
		return nil, errcode.New(errcode.Unauthorized, "staff", "invalid username or password")
	}
	return &auth.SignIn{Identity: auth.Identity{Subject: login, Login: login}}, nil
}

func (s *staff) Recheck(_ context.Context, id auth.Identity, _ auth.Tokens) (*auth.SignIn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[id.Login]; !ok {
		return nil, errcode.New(errcode.Unauthorized, "staff", "the account was removed")
	}
	return &auth.SignIn{}, nil // still there; the identity is unchanged
}

// Sessions of a provider whose tokens never expire are checked with the
// provider again on the first refresh after RecheckInterval: once the
// account is removed, the refresh answers 401 and the session is gone.
func ExampleRechecker() {
	var elapsed atomic.Int64 // the example moves its clock forward by hand
	now := func() time.Time {
		return time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).Add(time.Duration(elapsed.Load()))
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h, err := auth.New(&auth.Options{
		BaseURL: srv.URL + "/api/auth", Secret: integrations.NewSecret("0123456789abcdef0123456789abcdef"), Environment: "production",
		RecheckInterval: 15 * time.Minute,
		Now:             now,
	})
	if err != nil {
		panic(err)
	}
	dir := &staff{accounts: map[string]string{"alice": "wonderland"}}
	if err := h.Register("staff", "production", dir); err != nil {
		panic(err)
	}
	mux.Handle("/api/auth/", h)

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	call := func(method, path, body string) int {
		req, _ := http.NewRequest(method, srv.URL+"/api/auth/staff/"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, err := browser.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println("login:", call("POST", "login", `{"username":"alice","password":"wonderland"}`))
	elapsed.Add(int64(20 * time.Minute))
	fmt.Println("refresh, account there:", call("GET", "refresh", ""))
	dir.mu.Lock()
	delete(dir.accounts, "alice")
	dir.mu.Unlock()
	elapsed.Add(int64(20 * time.Minute))
	fmt.Println("refresh, account removed:", call("GET", "refresh", ""))
	// Output:
	// login: 200
	// refresh, account there: 200
	// refresh, account removed: 401
}
