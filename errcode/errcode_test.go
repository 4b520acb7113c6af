package errcode_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

func TestErrorText(t *testing.T) {
	inner := &errcode.Error{Code: errcode.InvalidArgument, Op: "githubscm.New", Msg: "bad author"}
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"message", &errcode.Error{Code: errcode.NotFound, Op: "scm.ReadFile", Provider: "github", Host: "github.com", Msg: "no such file"},
			"scm.ReadFile github github.com: no such file (NotFound)"},
		{"code only", &errcode.Error{Code: errcode.Unavailable}, "unavailable (Unavailable)"},
		{"status and retry", &errcode.Error{Code: errcode.RateLimited, Msg: "slow down", Status: 429, RetryAt: at},
			"slow down (RateLimited, HTTP 429, retry at 2026-12-07T09:00:00Z)"},
		// A wrapped *Error with the same code says it once.
		{"same code wrapped", &errcode.Error{Code: errcode.InvalidArgument, Op: "scm.NewClient", Msg: "opening the driver", Err: inner},
			"scm.NewClient: opening the driver: githubscm.New: bad author (InvalidArgument)"},
		// A different code, or an HTTP status the inner one lacks, is kept.
		{"other code wrapped", &errcode.Error{Code: errcode.Unavailable, Msg: "outer", Err: inner},
			"outer: githubscm.New: bad author (InvalidArgument) (Unavailable)"},
		{"status added", &errcode.Error{Code: errcode.InvalidArgument, Status: 400, Msg: "outer", Err: inner},
			"outer: githubscm.New: bad author (InvalidArgument) (InvalidArgument, HTTP 400)"},
		// Through another wrapper the inner code is not seen as the last word.
		{"wrapped by fmt", &errcode.Error{Code: errcode.InvalidArgument, Msg: "outer", Err: fmt.Errorf("ctx: %w", inner)},
			"outer: ctx: githubscm.New: bad author (InvalidArgument) (InvalidArgument)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%s: Error() = %q; want %q", tc.name, got, tc.want)
		}
	}
	if !errors.Is(&errcode.Error{Code: errcode.InvalidArgument, Err: inner}, errcode.ErrInvalidArgument) {
		t.Error("errors.Is lost the code's sentinel")
	}
}
