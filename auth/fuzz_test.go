package auth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/integrations"
)

func fuzzHandler(f *testing.F) *auth.Handler {
	h, err := auth.New(&auth.Options{BaseURL: "https://portal.example.com/api/auth", Secret: integrations.NewSecret(testSecret), Environment: "development"})
	if err != nil {
		f.Fatal(err)
	}
	p := newStub(0, nil)
	if err := h.Register("github", "development", p); err != nil {
		f.Fatal(err)
	}
	return h
}

// FuzzSessionCookie: no cookie the server did not issue opens a session,
// and none makes it panic.
func FuzzSessionCookie(f *testing.F) {
	h := fuzzHandler(f)
	f.Add("AAAA.BBBB")
	f.Add("pJA_FVPXG1b3jjSELmKeXCJybMnojimdp1xCXtoINvM.QMJvR4Evgyxbovu2a7AU-w")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/", nil)
		req.Header.Set("Cookie", "__Host-scmkit-session="+v)
		if s, err := h.Session(req); err == nil {
			t.Fatalf("cookie %q opened session %v", v, s)
		}
	})
}

// FuzzCallback: whatever the query, the callback answers 4xx, never 5xx,
// and never stores a session.
func FuzzCallback(f *testing.F) {
	h := fuzzHandler(f)
	f.Add("state=abc&code=x")
	f.Add("error=access_denied&state=")
	f.Add("state=" + strings.Repeat("A", 400))
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/api/auth/github/handler/frame", nil)
		req.URL.RawQuery = q
		req.Header.Set("Cookie", "__Host-scmkit-flow-github="+url.QueryEscape(q))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("query %q: status %d", q, rec.Code)
		}
		if strings.Contains(rec.Header().Get("Set-Cookie"), "scmkit-session=") {
			t.Fatalf("query %q set a session cookie", q)
		}
	})
}

// FuzzRedirectTarget: a redirect target the start accepts is on the
// app's origin.
func FuzzRedirectTarget(f *testing.F) {
	h := fuzzHandler(f)
	for _, s := range []string{"/home", "//evil.example", "/\\evil.example", "https://portal.example.com/x", "https://evil.example", "javascript:alert(1)", "https:evil.example", "/%2f%2fevil.example", "https://portal.example.com@evil.example/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/api/auth/github/start?env=development&flow=redirect&redirectUrl="+url.QueryEscape(target), nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusFound {
			return
		}
		// Accepted: the sealed state carries it; check it by completing
		// the target's resolution as a browser would.
		u, err := url.Parse(target)
		if err != nil {
			t.Fatalf("accepted unparsable target %q", target)
		}
		base, _ := url.Parse("https://portal.example.com/")
		if r := base.ResolveReference(u); r.Host != "portal.example.com" || (r.Scheme != "https") {
			t.Fatalf("accepted target %q resolving to %s", target, r)
		}
	})
}
