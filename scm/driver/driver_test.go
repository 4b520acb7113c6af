package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

func TestCommonErrorInfo(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	limited := &errcode.Error{Code: errcode.RateLimited, Status: http.StatusForbidden, RetryAt: at}
	for _, tc := range []struct {
		name string
		err  error
		want ErrorInfo
		ok   bool
	}{
		{"nil", nil, ErrorInfo{Code: errcode.OK}, true},
		{"errcode", fmt.Errorf("GET /x: %w", limited), ErrorInfo{Code: errcode.RateLimited, Status: http.StatusForbidden, RetryAt: at}, true},
		{"canceled", fmt.Errorf("GET /x: %w", context.Canceled), ErrorInfo{Code: errcode.Canceled}, true},
		{"deadline", context.DeadlineExceeded, ErrorInfo{Code: errcode.DeadlineExceeded}, true},
		{"other", io.ErrUnexpectedEOF, ErrorInfo{}, false},
	} {
		got, ok := CommonErrorInfo(tc.err)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: CommonErrorInfo = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFailureInfo(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want errcode.Code
	}{
		{context.Canceled, errcode.Canceled},
		{fmt.Errorf("GET /x: %w", context.DeadlineExceeded), errcode.DeadlineExceeded},
		{io.ErrUnexpectedEOF, errcode.Unavailable},
		{&net.OpError{Op: "read", Err: errors.New("connection reset")}, errcode.Unavailable},
		{errors.New("something else"), errcode.Unknown},
	} {
		if got := FailureInfo(tc.err).Code; got != tc.want {
			t.Errorf("FailureInfo(%v) = %v; want %v", tc.err, got, tc.want)
		}
	}
}

func TestBlobID(t *testing.T) {
	// git hash-object of "hello\n", and of the empty file, in both formats.
	for _, tc := range []struct {
		content      string
		sha1, sha256 string
	}{
		{"hello\n", "ce013625030ba8dba906f756967f9e9ca394464a", "2cf8d83d9ee29543b34a87727421fdecb7e3f3a183d337639025de576db9ebb4"},
		{"", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813"},
	} {
		if got := BlobID([]byte(tc.content)); got != tc.sha1 {
			t.Errorf("BlobID(%q) = %s; want %s", tc.content, got, tc.sha1)
		}
		if got := BlobIDSHA256([]byte(tc.content)); got != tc.sha256 {
			t.Errorf("BlobIDSHA256(%q) = %s; want %s", tc.content, got, tc.sha256)
		}
	}
}

func TestChangeActionString(t *testing.T) {
	for a, want := range map[ChangeAction]string{Upsert: "Upsert", Create: "Create", Update: "Update", Delete: "Delete", 9: "ChangeAction(?)"} {
		if got := a.String(); got != want {
			t.Errorf("ChangeAction(%d).String() = %q; want %q", int(a), got, want)
		}
	}
}
