package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errFail = errors.New("fail")

func ctxErr(ctx context.Context) error { return ctx.Err() }

func TestDo(t *testing.T) {
	fast := Policy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	tests := []struct {
		name      string
		pol       Policy
		ctxLife   time.Duration
		attempt   func(n int, ctx context.Context) (bool, time.Duration, error)
		wantErr   error
		wantCalls int
	}{
		{"success", fast, 0, func(int, context.Context) (bool, time.Duration, error) { return false, 0, nil }, nil, 1},
		{"permanent failure", fast, 0, func(int, context.Context) (bool, time.Duration, error) { return false, 0, errFail }, errFail, 1},
		{"retryable until out of attempts", fast, 0, func(int, context.Context) (bool, time.Duration, error) { return true, 0, errFail }, errFail, 4},
		{"retryable, then success", fast, 0, func(n int, _ context.Context) (bool, time.Duration, error) {
			if n < 3 {
				return true, 0, errFail
			}
			return false, 0, nil
		}, nil, 3},
		{"server wait longer than the cap", fast, 0, func(int, context.Context) (bool, time.Duration, error) { return true, time.Hour, errFail }, errFail, 1},
		{"next wait past the deadline", Policy{MaxAttempts: 10, MinBackoff: time.Second, MaxBackoff: time.Second}, 100 * time.Millisecond,
			func(int, context.Context) (bool, time.Duration, error) { return true, 0, errFail }, errFail, 1},
		{"attempt timeout is retried", Policy{MaxAttempts: 3, MinBackoff: time.Millisecond, AttemptTimeout: 10 * time.Millisecond}, 0,
			func(n int, ctx context.Context) (bool, time.Duration, error) {
				if n == 1 {
					<-ctx.Done()
					return false, 0, ctx.Err()
				}
				return false, 0, nil
			}, nil, 2},
		{"caller's deadline during the first attempt", fast, 20 * time.Millisecond,
			func(n int, ctx context.Context) (bool, time.Duration, error) {
				<-ctx.Done()
				return true, 0, errFail
			}, context.DeadlineExceeded, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			if tt.ctxLife > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxLife)
				defer cancel()
			}
			calls := 0
			start := time.Now()
			err := tt.pol.Do(ctx, ctxErr, func(ctx context.Context) (bool, time.Duration, error) {
				calls++
				return tt.attempt(calls, ctx)
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Do = %v; want %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("attempts = %d; want %d", calls, tt.wantCalls)
			}
			if time.Since(start) > 2*time.Second {
				t.Errorf("Do took %v", time.Since(start))
			}
		})
	}
}
