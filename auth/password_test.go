package auth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// directory is a PasswordProvider with one user.
type directory struct{}

func (directory) Info() auth.ProviderInfo {
	return auth.ProviderInfo{Type: "ldap", Issuer: "ldap://dir.example.com"}
}

func (directory) Authenticate(_ context.Context, user, password string) (*auth.SignIn, error) {
	if user != "alice" || password != "wonderland" {
		return nil, errcode.New(errcode.Unauthorized, "directory", "invalid username or password")
	}
	return &auth.SignIn{Identity: auth.Identity{Subject: "uid=alice,ou=people,dc=example,dc=com", DN: "uid=alice,ou=people,dc=example,dc=com", Login: "alice", Email: "alice@example.com"}}, nil
}

func TestPasswordProviderLogin(t *testing.T) {
	store := &countingStore{MemoryStore: auth.NewMemoryStore(nil)}
	p := newPortal(t, auth.Options{Store: store})
	if err := p.h.Register("ldap", "development", directory{}); err != nil {
		t.Fatal(err)
	}
	login := p.srv.URL + "/api/auth/ldap/login"
	post := func(c *http.Client, body, contentType string, hdr map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, login, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		return send(t, c, req)
	}
	xrw := map[string]string{"X-Requested-With": "XMLHttpRequest"}
	for _, tc := range []struct {
		name, body, ct string
		hdr            map[string]string
		status         int
		want           string
	}{
		{"WrongPassword", `{"username":"alice","password":"nope"}`, "application/json", xrw, 401, "invalid username or password"},
		{"UnknownUser", `{"username":"bob","password":"wonderland"}`, "application/json", xrw, 401, "invalid username or password"},
		{"EmptyPassword", `{"username":"alice","password":""}`, "application/json", xrw, 400, "username and a password are required"},
		{"NoAntiCSRF", `{"username":"alice","password":"wonderland"}`, "application/json", nil, 401, "X-Requested-With"},
		{"CrossOriginForm", "username=alice&password=wonderland", "application/x-www-form-urlencoded", map[string]string{"Origin": "https://evil.example"}, 401, "X-Requested-With"},
		{"FormRedirectOutside", "username=alice&password=wonderland&redirectUrl=" + url.QueryEscape("https://evil.example/"), "application/x-www-form-urlencoded", map[string]string{"Origin": p.srv.URL}, 400, "allowed origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(noFollow(), tc.body, tc.ct, tc.hdr)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) || store.puts.Load() != 0 {
				t.Fatalf("got %d %q (stored %d); want %d containing %q", resp.StatusCode, body, store.puts.Load(), tc.status, tc.want)
			}
			if strings.Contains(body, "wonderland") {
				t.Fatal("the answer echoes the password")
			}
		})
	}
	t.Run("JSON", func(t *testing.T) {
		c := noFollow()
		resp, body := post(c, `{"username":"alice","password":"wonderland"}`, "application/json", xrw)
		if resp.StatusCode != 200 || !strings.Contains(body, `"email":"alice@example.com"`) {
			t.Fatalf("login: %d %s", resp.StatusCode, body)
		}
		s := p.sessionOf(t, c)
		if s.Identity.Provider != "ldap" || s.Identity.DN == "" || len(s.UserCredentials()) != 0 {
			t.Fatalf("session %+v", s.Identity)
		}
	})
	t.Run("FormWithRedirect", func(t *testing.T) {
		resp, _ := post(noFollow(), "username=alice&password=wonderland&redirectUrl=/home", "application/x-www-form-urlencoded", map[string]string{"Origin": p.srv.URL})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != p.srv.URL+"/home" {
			t.Fatalf("form login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("StartIsRefused", func(t *testing.T) {
		resp, body := do(t, noFollow(), "GET", p.srv.URL+"/api/auth/ldap/start?env=development", nil)
		if resp.StatusCode != 400 || !strings.Contains(body, "with a username and password") {
			t.Fatalf("start on a password provider: %d %s", resp.StatusCode, body)
		}
	})
}
