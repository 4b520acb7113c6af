package webhook

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// TestZeroReceiver: a Receiver not made by New fails with InvalidArgument
// naming the constructor, its handler answers 500, and it prints, instead
// of panicking on its first use.
func TestZeroReceiver(t *testing.T) {
	var r Receiver
	_, err := r.Parse(t.Context(), http.Header{}, []byte("{}"))
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "webhook.New") {
		t.Errorf("Parse = %v; want InvalidArgument naming webhook.New", err)
	}
	if err := r.Forget(t.Context(), &Event{Delivery: "d"}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("Forget = %v; want InvalidArgument", err)
	}
	rec := httptest.NewRecorder()
	r.Handler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")))
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("handler answered %d; want 500", rec.Code)
	}
	if h := r.Host(); h != "" {
		t.Errorf("Host = %q", h)
	}
	if s := fmt.Sprint(&r); !strings.Contains(s, "not initialised") {
		t.Errorf("String = %q", s)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "r", &r)
	if !strings.Contains(b.String(), "not initialised") {
		t.Errorf("log = %q", b.String())
	}
}
