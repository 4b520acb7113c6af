package auth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
)

// TestHTTPSCookies checks the cookies over https: __Host- prefix, Secure,
// HttpOnly, SameSite=Lax, Path=/, no Domain; and that none holds a token.
func TestHTTPSCookies(t *testing.T) {
	h, err := auth.New(&auth.Options{BaseURL: "https://portal.example.com/api/auth", Secret: integrations.NewSecret(testSecret), Environment: "development"})
	if err != nil {
		t.Fatal(err)
	}
	p := newStub(time.Hour, time.Now)
	h.Register("github", "development", p)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://portal.example.com/api/auth/github/start?env=development&flow=redirect", nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	flow := checkCookies(t, rec.Result().Cookies(), "__Host-scmkit-flow-github")
	cb, _ := url.Parse(rec.Header().Get("Location"))
	req := httptest.NewRequest("GET", cb.String(), nil)
	req.AddCookie(flow)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", rec.Code, rec.Body)
	}
	session := checkCookies(t, rec.Result().Cookies(), "__Host-scmkit-session")
	if strings.Contains(session.Value, "at-") || strings.Contains(session.Value, "rt-") {
		t.Fatal("the session cookie holds a token")
	}
	req = httptest.NewRequest("GET", "https://portal.example.com/", nil)
	req.AddCookie(session)
	if s, err := h.Session(req); err != nil || s.Identity.Login != "alice" {
		t.Fatalf("Session: %v, %v", s, err)
	}
}

func checkCookies(t *testing.T, cs []*http.Cookie, name string) *http.Cookie {
	t.Helper()
	for _, c := range cs {
		if c.Name != name || c.MaxAge < 0 {
			continue
		}
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
			t.Fatalf("cookie %s: %+v", name, c)
		}
		return c
	}
	t.Fatalf("no cookie %s in %v", name, cs)
	return nil
}
