package driver

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

func TestErrorInfoWrap(t *testing.T) {
	cause := errors.New("HTTP 429")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	info := ErrorInfo{Code: errcode.RateLimited, Status: http.StatusTooManyRequests, RetryAt: at}
	err := info.Wrap("repository a/b was created, but its topics are missing", cause)
	if err.Code != errcode.RateLimited || err.Status != http.StatusTooManyRequests || !err.RetryAt.Equal(at) {
		t.Errorf("Wrap kept code %v, status %d, RetryAt %v; want %v, %d, %v", err.Code, err.Status, err.RetryAt, info.Code, info.Status, at)
	}
	if err.Msg != "repository a/b was created, but its topics are missing" || !errors.Is(err, cause) {
		t.Errorf("Wrap = %q (cause kept: %v); want the message and the cause", err.Error(), errors.Is(err, cause))
	}
	if got, ok := errcode.RetryAt(err); !ok || !got.Equal(at) {
		t.Errorf("errcode.RetryAt = %v, %v; want %v", got, ok, at)
	}
}
