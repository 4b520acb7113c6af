package auth_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
)

// deviceSeer is the directory of password_test.go that records the
// Device each attempt's context carries.
type deviceSeer struct {
	directory
	mu   sync.Mutex
	seen []auth.Device // zero Device: none
}

func (d *deviceSeer) Authenticate(ctx context.Context, user, password string) (*auth.SignIn, error) {
	dev, _ := auth.DeviceFrom(ctx)
	d.mu.Lock()
	d.seen = append(d.seen, dev)
	d.mu.Unlock()
	return d.directory.Authenticate(ctx, user, password)
}

func (d *deviceSeer) last() auth.Device {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seen[len(d.seen)-1]
}

// TestDeviceCookie: a successful password sign-in gives the browser a
// device cookie, which the next attempts from it carry to the provider
// as the username that signed in and a new random id; a failure gives
// none; a cookie altered, of another provider, or older than its
// lifetime carries nothing.
func TestDeviceCookie(t *testing.T) {
	p := newPortal(t, auth.Options{})
	ldap, other := &deviceSeer{}, &deviceSeer{}
	if err := p.h.Register("ldap", "development", ldap); err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("ldap2", "development", other); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	login := func(provider, user, pw string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/api/auth/"+provider+"/login", strings.NewReader(`{"username":"`+user+`","password":"`+pw+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, _ := send(t, c, req)
		return resp.StatusCode
	}
	if login("ldap", "alice", "nope"); ldap.last() != (auth.Device{}) {
		t.Fatalf("a first attempt carried a device: %+v", ldap.last())
	}
	if login("ldap", "alice", "nope"); ldap.last() != (auth.Device{}) {
		t.Fatalf("a failed attempt gave the browser a device: %+v", ldap.last())
	}
	if st := login("ldap", "alice", "wonderland"); st != http.StatusOK {
		t.Fatalf("sign-in: %d", st)
	}
	login("ldap", "ALICE", "nope")
	first := ldap.last()
	if first.Username != "alice" || len(first.ID) < 16 {
		t.Fatalf("after a sign-in the next attempt carried %+v, want alice's device", first)
	}
	login("ldap2", "alice", "nope")
	if other.last() != (auth.Device{}) {
		t.Errorf("provider ldap's device was given to ldap2: %+v", other.last())
	}
	login("ldap", "alice", "wonderland")
	login("ldap", "alice", "nope")
	if d := ldap.last(); d.Username != "alice" || d.ID == first.ID {
		t.Errorf("a second sign-in kept the device id: %+v", d)
	}

	u, _ := url.Parse(p.srv.URL)
	var name, value string
	for _, ck := range jar.Cookies(u) {
		if strings.Contains(ck.Name, "device-ldap") {
			name, value = ck.Name, ck.Value
		}
	}
	if name == "" {
		t.Fatal("no device cookie")
	}
	b := []byte(value)
	b[len(b)/2] ^= 1
	jar.SetCookies(u, []*http.Cookie{{Name: name, Value: string(b), Path: "/"}})
	if login("ldap", "alice", "nope"); ldap.last() != (auth.Device{}) {
		t.Errorf("an altered device cookie was taken: %+v", ldap.last())
	}
	jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
	p.clk.Advance(181 * 24 * time.Hour)
	if login("ldap", "alice", "nope"); ldap.last() != (auth.Device{}) {
		t.Errorf("a device cookie older than its lifetime was taken: %+v", ldap.last())
	}
}

// TestDeviceCookieIsPerEnvironment is a regression test: a device cookie
// earned in one auth environment was handed to the same provider id's
// provider of another environment (another directory), whose username
// back-off it then skipped; and a device of another environment still
// counts in its own.
func TestDeviceCookieIsPerEnvironment(t *testing.T) {
	p := newPortal(t, auth.Options{ServeAllEnvironments: true})
	dev, prod := &deviceSeer{}, &deviceSeer{}
	if err := p.h.Register("ldap", "development", dev); err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("ldap", "production", prod); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	login := func(env, user, pw string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, p.srv.URL+"/api/auth/ldap/login?env="+env, strings.NewReader(`{"username":"`+user+`","password":"`+pw+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, _ := send(t, c, req)
		return resp.StatusCode
	}
	if st := login("development", "alice", "wonderland"); st != http.StatusOK {
		t.Fatalf("dev sign-in: %d", st)
	}
	login("production", "alice", "guess")
	if d := prod.last(); d != (auth.Device{}) {
		t.Errorf("production's provider got a device earned in development: %+v", d)
	}
	login("development", "alice", "guess")
	if d := dev.last(); d.Username != "alice" {
		t.Errorf("development's provider lost its own device: %+v", d)
	}
}
