package httpx

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

func TestRequestSecrets(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte("svc:pa55word"))
	for _, tc := range []struct {
		name   string
		header http.Header
		url    string
		want   []string
	}{
		{"bearer", http.Header{"Authorization": {"Bearer ghp_token1234"}}, "https://h/x", []string{"ghp_token1234"}},
		{"token scheme", http.Header{"Authorization": {"token ghp_token1234"}}, "https://h/x", []string{"ghp_token1234"}},
		{"basic", http.Header{"Authorization": {"Basic " + basic}}, "https://h/x", []string{basic, "svc:pa55word", "pa55word"}},
		{"private token", http.Header{"Private-Token": {"glpat-abcd"}}, "https://h/x", []string{"glpat-abcd"}},
		{"proxy", http.Header{"Proxy-Authorization": {"Bearer proxy-secret"}}, "https://h/x", []string{"proxy-secret"}},
		{"cookie", http.Header{"Cookie": {"session=cookie-secret"}}, "https://h/x", []string{"cookie-secret"}},
		{"url password and token query", nil, "https://u:url-password@h/x?token=query-secret&page=2", []string{"url-password", "query-secret"}},
		// A token as the user name alone (https://TOKEN@github.com, which
		// git and GitHub accept): net/http's *url.Error hides only a
		// password, so the user name must be scrubbed too.
		{"url user name alone", nil, "https://ghp_username1234@h/x", []string{"ghp_username1234"}},
		{"url user name with an empty password", nil, "https://ghp_username1234:@h/x", []string{"ghp_username1234"}},
		{"url user name with x-oauth-basic", nil, "https://ghp_username1234:x-oauth-basic@h/x", []string{"x-oauth-basic", "ghp_username1234"}},
		{"nothing", nil, "https://h/x?page=2", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			req := &http.Request{Method: http.MethodGet, URL: u, Header: tc.header}
			if req.Header == nil {
				req.Header = http.Header{}
			}
			got := RequestSecrets(req)
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Errorf("RequestSecrets = %q; want it to hold %q", got, w)
				}
			}
			if len(tc.want) == 0 && len(got) != 0 {
				t.Errorf("RequestSecrets = %q; want none", got)
			}
		})
	}
}

func TestSecretsScrub(t *testing.T) {
	const tok = "ghp_s3cr3t/tok+en=="
	var s Secrets
	s.Add(tok, "", "svc:pa55word")
	for _, tc := range []struct{ name, in string }{
		{"plain", "Authorization: Bearer " + tok},
		{"query-escaped", "token=" + url.QueryEscape(tok)},
		{"path-escaped", "/x/" + url.PathEscape(tok)},
		{"json with escaped slash", `{"auth":"ghp_s3cr3t\/tok+en=="}`},
		{"html", "<pre>" + strings.ReplaceAll(tok, "+", "&#43;") + "</pre>"}, // not an encoding html.EscapeString makes
		{"base64", base64.StdEncoding.EncodeToString([]byte(tok))},
		{"basic user:password", "decoded svc:pa55word"},
		{"basic header", "Basic " + base64.StdEncoding.EncodeToString([]byte("svc:pa55word"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.Scrub(tc.in)
			if tc.name == "html" {
				// html.EscapeString leaves + alone: the plain form covers it
				// when the page does not encode it; this page did, and the
				// remaining text must not hold the raw token either way.
				if strings.Contains(got, tok) {
					t.Errorf("Scrub(%q) = %q; shows the token", tc.in, got)
				}
				return
			}
			if !strings.Contains(got, Redacted) || strings.Contains(got, "s3cr3t") || strings.Contains(got, "pa55word") ||
				strings.Contains(got, base64.StdEncoding.EncodeToString([]byte("svc:pa55word"))) {
				t.Errorf("Scrub(%q) = %q; want every form of the secret replaced by %s", tc.in, got, Redacted)
			}
		})
	}
	if got := s.Scrub("nothing secret here"); got != "nothing secret here" {
		t.Errorf("Scrub of a clean text = %q; want it unchanged", got)
	}
	var empty *Secrets
	if got := empty.Scrub("x " + tok); got != "x "+tok {
		t.Errorf("nil set Scrub = %q; want the text unchanged", got)
	}
	short := &Secrets{}
	short.Add("ab")
	if got := short.Scrub("about a cab"); got != "about a cab" {
		t.Errorf("a 2-byte value scrubbed %q; want values under %d bytes ignored", got, minSecretLen)
	}
}

func TestScrubError(t *testing.T) {
	var s Secrets
	s.Add("glpat-secretvalue")
	cause := errors.New("400 Bad request - Private-Token: glpat-secretvalue")
	in := &errcode.Error{Code: errcode.InvalidArgument, Op: "scm.ReadFile", Host: "gitlab.example.com", Status: 400,
		Msg: "reading", Err: cause}
	out := s.ScrubError(in)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if m := fmt.Sprintf(verb, out); strings.Contains(m, "glpat-secretvalue") {
			t.Errorf("ScrubError(err) under %s = %s; shows the secret", verb, m)
		}
	}
	var ce *errcode.Error
	if !errors.As(out, &ce) || ce.Code != errcode.InvalidArgument || ce.Status != 400 || ce.Host != "gitlab.example.com" || ce.Op != "scm.ReadFile" {
		t.Errorf("ScrubError(err) = %#v; want the code, status, host and op kept", out)
	}
	if !errors.Is(out, errcode.ErrInvalidArgument) {
		t.Error("errors.Is(scrubbed, ErrInvalidArgument) = false")
	}
	clean := &errcode.Error{Code: errcode.NotFound, Msg: "no such file"}
	if got := s.ScrubError(clean); got != error(clean) {
		t.Errorf("ScrubError of a clean error = %v; want it unchanged", got)
	}
}

// TestSanitizeScrubsEchoedCredentials: a server that echoes the request's
// credentials in its error answers (body and headers) reaches the caller
// scrubbed, its error body capped at MaxErrorBody; a success body streams
// untouched.
func TestSanitizeScrubsEchoedCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		w.Header().Set("X-Echo", auth)
		switch r.URL.Path {
		case "/ok":
			io.WriteString(w, "file content")
		case "/big":
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, strings.Repeat("x", 2*MaxErrorBody))
		default:
			dec, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic "))
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"message":"bad request, headers: %s; decoded %s"}`, auth, dec)
		}
	}))
	defer srv.Close()
	set := &Secrets{}
	hc := &http.Client{Transport: Sanitize(srv.Client().Transport, set)}
	for _, auth := range []func(*http.Request){
		func(r *http.Request) { r.Header.Set("Authorization", "Bearer bearer-token-123") },
		func(r *http.Request) { r.SetBasicAuth("svc", "basic-password-456") },
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/echo", nil)
		auth(req)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text := string(b) + " " + resp.Header.Get("X-Echo")
		for _, secret := range []string{"bearer-token-123", "basic-password-456", base64.StdEncoding.EncodeToString([]byte("svc:basic-password-456"))} {
			if strings.Contains(text, secret) {
				t.Errorf("answer shows %s: %s", secret, text)
			}
		}
		if !strings.Contains(text, Redacted) {
			t.Errorf("answer = %s; want %s in place of the credentials", text, Redacted)
		}
		if resp.ContentLength != int64(len(b)) {
			t.Errorf("ContentLength = %d; want %d, the scrubbed length", resp.ContentLength, len(b))
		}
	}
	resp, err := hc.Get(srv.URL + "/big")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != MaxErrorBody {
		t.Errorf("a %d-byte error body reached the caller with %d bytes; want it capped at %d", 2*MaxErrorBody, len(b), MaxErrorBody)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ok", nil)
	req.Header.Set("Authorization", "Bearer bearer-token-123")
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "file content" {
		t.Errorf("success body = %q; want it untouched", b)
	}
}

func FuzzSecretsScrub(f *testing.F) {
	f.Add("ghp_token1234", "Authorization: Bearer ghp_token1234")
	f.Add("pa55/w+rd", `{"m":"pa55\/w+rd"}`)
	f.Add("abc", "YWJj abc")
	f.Fuzz(func(t *testing.T, secret, text string) {
		var s Secrets
		s.Add(secret)
		got := s.Scrub(text)
		// Scrubbing never leaves the secret in the text (a secret made of
		// the redaction's own letters could be rebuilt around it).
		if len(secret) >= minSecretLen && !strings.ContainsAny(secret, "[]REDACT") && strings.Contains(got, secret) {
			t.Errorf("Scrub(%q) with secret %q = %q; shows the secret", text, secret, got)
		}
		if len(secret) < minSecretLen && got != text {
			t.Errorf("Scrub(%q) with the short secret %q = %q; want the text unchanged", text, secret, got)
		}
	})
}
