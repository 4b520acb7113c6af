package webhook

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// formBody is body as a hook of content type form sends it: the JSON,
// URL-encoded, as the one field payload.
func formBody(body []byte) []byte {
	return []byte(url.Values{"payload": {string(body)}}.Encode())
}

func formHeaders(body []byte, delivery string) http.Header {
	h := githubHeaders(body, delivery)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	return h
}

// A form-encoded delivery (GitHub's content type form) gives the same
// event as the JSON one, signed over the body as sent.
func TestGitHubFormPayload(t *testing.T) {
	jsonBody := load(t, "github-push.json")
	want, err := newReceiver(t, "github.com", nil).Parse(t.Context(), githubHeaders(jsonBody, "j1"), jsonBody)
	if err != nil {
		t.Fatal(err)
	}
	form := formBody(jsonBody)
	for _, tc := range []struct {
		name        string
		contentType string
	}{
		{"form", "application/x-www-form-urlencoded"},
		{"form with charset", "application/x-www-form-urlencoded; charset=utf-8"},
		{"no content type", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, "github.com", nil)
			h := githubHeaders(form, "f1")
			if tc.contentType != "" {
				h.Set("Content-Type", tc.contentType)
			}
			ev, err := r.Parse(t.Context(), h, form)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.Changes, ev.Changes); diff != "" || len(ev.Changes) == 0 {
				t.Errorf("changes (-json +form):\n%s", diff)
			}
			if ev.Owner != "acme" || ev.Repo != "service" || !ev.Complete || ev.Delivery != "f1" {
				t.Errorf("event = %+v", ev)
			}
		})
	}
}

// The signature is over the body as sent: one over the unwrapped JSON is
// refused, as is a body changed after signing.
func TestGitHubFormSignature(t *testing.T) {
	jsonBody := load(t, "github-push.json")
	form := formBody(jsonBody)
	r := newReceiver(t, "github.com", nil)

	h := formHeaders(form, "s1")
	h.Set("X-Hub-Signature-256", sign(jsonBody, secret))
	if _, err := r.Parse(t.Context(), h, form); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("signature over the inner JSON: %v, want Unauthorized", err)
	}
	tampered := append(bytes.Clone(form), "&extra=1"...)
	if _, err := r.Parse(t.Context(), formHeaders(form, "s2"), tampered); errcode.CodeOf(err) != errcode.Unauthorized {
		t.Errorf("tampered body: %v, want Unauthorized", err)
	}
}

// Forms that GitHub does not send are refused, even signed.
func TestGitHubFormRefused(t *testing.T) {
	jsonBody := load(t, "github-push.json")
	enc := url.QueryEscape(string(jsonBody))
	for _, tc := range []struct {
		name, body string
	}{
		{"no payload", "other=1"},
		{"another field", "payload=" + enc + "&other=1"},
		{"payload twice", "payload=" + enc + "&payload=%7B%7D"},
		{"bad escape", "payload=%zz"},
		{"empty", ""},
		{"payload not JSON", "payload=not+json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, "github.com", nil)
			body := []byte(tc.body)
			_, err := r.Parse(t.Context(), formHeaders(body, "x"), body)
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
			if strings.Contains(err.Error(), "acme") {
				t.Errorf("error quotes the body: %v", err)
			}
		})
	}
}

// A form body is bounded as a JSON one: over MaxBodyBytes, refused
// before it is unwrapped.
func TestGitHubFormTooLarge(t *testing.T) {
	form := formBody(load(t, "github-push.json"))
	r := newReceiver(t, "github.com", &Options{MaxBodyBytes: int64(len(form) - 1)})
	if _, err := r.Parse(t.Context(), formHeaders(form, "big"), form); errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("err = %v", err)
	}
	srv := httptest.NewServer(r.Handler(func(ctx context.Context, ev *Event) error { return nil }))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(form))
	req.Header = formHeaders(form, "big2")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
}

// A GitHub Enterprise Server hook of content type form, through the
// Handler.
func TestGitHubEnterpriseFormHandler(t *testing.T) {
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: "ghe.example.com", APIBaseURL: "https://ghe.example.com/api/v3", Token: integrations.NewSecret("t")}}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(reg, "ghe.example.com", &Options{Secrets: []integrations.Secret{integrations.NewSecret(secret)}})
	if err != nil {
		t.Fatal(err)
	}
	jsonBody := bytes.ReplaceAll(load(t, "github-push.json"), []byte("https://github.com/"), []byte("https://ghe.example.com/"))
	form := formBody(jsonBody)
	var got *Event
	srv := httptest.NewServer(r.Handler(func(ctx context.Context, ev *Event) error { got = ev; return nil }))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(form))
	req.Header = formHeaders(form, "ghe-1")
	req.Header.Set("X-GitHub-Enterprise-Host", "ghe.example.com")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || got == nil {
		t.Fatalf("status %d, event %+v", resp.StatusCode, got)
	}
	if got.Host != "ghe.example.com" || got.Owner != "acme" || len(got.Changes) != 3 {
		t.Errorf("event = %+v", got)
	}
}

// FuzzGitHubForm: any signed body, form-encoded or not, is parsed or
// refused with InvalidArgument, never a panic or another code.
func FuzzGitHubForm(f *testing.F) {
	jsonBody, err := os.ReadFile("testdata/github-push.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(formBody(jsonBody), true)
	f.Add(jsonBody, false)
	f.Add([]byte("payload=%7B%7D&payload=x"), true)
	f.Add([]byte("payload=%"), false)
	r, err := New(registry(f), "github.com", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		h := githubHeaders(body, "fz")
		if form {
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		ev, err := r.Parse(t.Context(), h, body)
		switch errcode.CodeOf(err) {
		case errcode.OK, errcode.AlreadyExists:
			if ev == nil {
				t.Fatal("no event")
			}
		case errcode.InvalidArgument:
		default:
			t.Fatalf("err = %v", err)
		}
	})
}
