package httpx

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// Budget is a rate-limit budget per credential, shared by every client (and,
// through a shared store such as redisstore's, every replica) that spends
// it. Clients record what the provider's answers say (X-RateLimit-Limit,
// -Remaining and -Reset on GitHub; RateLimit-* on GitLab), and ask before
// each request, so that with a share below 1 the fleet stays under that
// share of the limit instead of each replica discovering the limit by
// hitting it.
//
// Both methods may fail (a store that is down): the request then goes out
// as if there were no budget.
type Budget interface {
	// Take asks for one request on key's budget. It reports false, with
	// the time the budget resets, when the recorded remaining requests
	// are at or below (1-share) of the recorded limit in a window that
	// has not reset yet; otherwise it counts the request (remaining - 1)
	// and reports true. A key with nothing recorded is always allowed.
	Take(ctx context.Context, key string, share float64) (ok bool, reset time.Time, err error)
	// Record notes a provider's answer: the limit, what remains of it and
	// when it resets. An answer from an older window than the recorded
	// one is ignored; within a window, remaining only goes down.
	Record(ctx context.Context, key string, limit, remaining int, reset time.Time) error
}

// SetBudget makes t spend the budget key of b (see [Budget]) with the
// given share (0 < share <= 1; 0 or less only records, never waits). Call
// it before the first request. When the share is spent, a request waits
// for the reset if that is within the transport's MaxRateLimitWait and the
// request's deadline, and fails at once with RateLimited and RetryAt
// otherwise.
func (t *Transport) SetBudget(b Budget, key string, share float64) {
	t.budget, t.budgetKey, t.budgetShare = b, key, share
}

// takeBudget waits for, or refuses, a request whose budget is spent.
func (t *Transport) takeBudget(req *http.Request) error {
	if t.budget == nil || t.budgetKey == "" || t.budgetShare <= 0 {
		return nil
	}
	ctx := req.Context()
	ok, reset, err := t.budget.Take(ctx, t.budgetKey, t.budgetShare)
	if err != nil || ok {
		return nil
	}
	wait := reset.Sub(t.now())
	if wait <= 0 {
		return nil
	}
	deadline, hasDeadline := ctx.Deadline()
	if wait > t.maxRateLimitWait || (hasDeadline && time.Until(deadline) < wait) {
		return &errcode.Error{Code: errcode.RateLimited, Host: req.URL.Host, RetryAt: reset,
			Msg: describe(req) + ": the fleet has spent its share of this credential's rate limit until " + reset.UTC().Format(time.RFC3339)}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return contextError(req, ctx.Err())
	}
}

// recordBudget records what resp says about the budget.
func (t *Transport) recordBudget(req *http.Request, resp *http.Response) {
	if t.budget == nil || t.budgetKey == "" || resp == nil {
		return
	}
	limit, remaining, reset, ok := QuotaOf(resp.Header, t.now())
	if !ok {
		return
	}
	t.budget.Record(req.Context(), t.budgetKey, limit, remaining, reset) //nolint:errcheck // a lost record costs accuracy, not correctness
}

// QuotaOf reads a response's rate-limit headers: GitHub's X-RateLimit-Limit,
// -Remaining and -Reset (epoch seconds), or GitLab's RateLimit-Limit,
// -Remaining and -Reset (epoch seconds, or seconds from now below 10^9).
// ok is false when the response has none.
func QuotaOf(h http.Header, now time.Time) (limit, remaining int, reset time.Time, ok bool) {
	for _, prefix := range []string{"X-RateLimit-", "RateLimit-"} {
		l, err1 := strconv.Atoi(strings.TrimSpace(h.Get(prefix + "Limit")))
		r, err2 := strconv.Atoi(strings.TrimSpace(h.Get(prefix + "Remaining")))
		if err1 != nil || err2 != nil || l <= 0 || r < 0 {
			continue
		}
		var rs time.Time
		if prefix == "X-RateLimit-" {
			rs, ok = parseEpoch(h.Get(prefix + "Reset"))
		} else {
			rs, ok = parseRateLimitReset(h.Get(prefix+"Reset"), now)
		}
		if !ok {
			continue
		}
		return l, min(r, l), rs, true
	}
	return 0, 0, time.Time{}, false
}

// MemoryBudget is a [Budget] in this process's memory, for clients of one
// process; redisstore has one for a fleet. The zero value is ready to use.
type MemoryBudget struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
	m  map[string]quota
}

type quota struct {
	limit, remaining int
	reset            time.Time
}

func (b *MemoryBudget) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Take implements [Budget].
func (b *MemoryBudget) Take(ctx context.Context, key string, share float64) (bool, time.Time, error) {
	if err := errcode.FromContext(ctx, "httpx.MemoryBudget.Take"); err != nil {
		return false, time.Time{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	q, found := b.m[key]
	if !found || !b.now().Before(q.reset) {
		return true, time.Time{}, nil
	}
	if q.remaining <= Keep(q.limit, share) {
		return false, q.reset, nil
	}
	q.remaining--
	b.m[key] = q
	return true, time.Time{}, nil
}

// Record implements [Budget].
func (b *MemoryBudget) Record(ctx context.Context, key string, limit, remaining int, reset time.Time) error {
	if err := errcode.FromContext(ctx, "httpx.MemoryBudget.Record"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]quota{}
	}
	q, found := b.m[key]
	switch {
	case !found || reset.After(q.reset):
		q = quota{limit: limit, remaining: remaining, reset: reset}
	case reset.Equal(q.reset):
		q.limit, q.remaining = limit, min(q.remaining, remaining)
	}
	b.m[key] = q
	return nil
}

// Keep is how many requests of limit a fleet leaves unspent with the
// given share: limit·(1-share), rounded down.
func Keep(limit int, share float64) int {
	if share >= 1 {
		return 0
	}
	return int(float64(limit) * (1 - share))
}
