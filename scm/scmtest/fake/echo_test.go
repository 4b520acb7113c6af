package fake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestEchoCredentials(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header http.Header
		want   []string
	}{
		{"bearer", http.Header{"Authorization": {"Bearer tok-123"}}, []string{"Authorization: Bearer tok-123"}},
		{"basic", http.Header{"Authorization": {"Basic dXNlcjpwYXNzd29yZA=="}}, []string{"Basic dXNlcjpwYXNzd29yZA==", "user:password"}},
		{"private token", http.Header{"Private-Token": {"glpat-x"}}, []string{"Private-Token: glpat-x"}},
		{"nothing", http.Header{}, []string{"no credentials received"}},
	} {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		r.Header = tc.header
		got := EchoCredentials(r)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: EchoCredentials = %q; want it to hold %q", tc.name, got, w)
			}
		}
	}
	rec := httptest.NewRecorder()
	if EchoPage(rec, http.StatusBadRequest, "x") {
		t.Error("EchoPage answered a 400; want it to leave statuses below 500 to the fake")
	}
	rec = httptest.NewRecorder()
	if !EchoPage(rec, http.StatusBadGateway, "Authorization: Bearer tok-123") || rec.Code != http.StatusBadGateway ||
		!strings.Contains(rec.Body.String(), "tok-123") {
		t.Errorf("EchoPage(502) = %d %q; want a 502 page quoting the echo", rec.Code, rec.Body.String())
	}
}

// TestServeLose: the handler runs (its write is made) and the client gets
// no answer.
func TestServeLose(t *testing.T) {
	var handled atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(w, r, Lose, func(w http.ResponseWriter, r *http.Request) {
			handled.Add(1)
			io.WriteString(w, "done")
		})
	}))
	defer srv.Close()
	resp, err := srv.Client().Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d); want the connection closed without one", resp.StatusCode)
	}
	if handled.Load() != 1 {
		t.Errorf("handler ran %d times; want 1", handled.Load())
	}
}
