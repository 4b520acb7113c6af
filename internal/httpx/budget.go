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
// A key names a credential (and, under [GitHubLimits], one of its
// resources). Both methods may fail (a store that is down): the request
// then goes out as if there were no budget. A Budget that also implements
// [BudgetPeeker] lets requests that may be free (GitHub's conditional
// requests) go without counting them, and one that implements
// [BudgetRefunder] gives back those GitHub answered 304 after they were
// counted.
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
// otherwise. How the provider counts requests is set by
// [Transport.SetRateLimits].
func (t *Transport) SetBudget(b Budget, key string, share float64) {
	t.budget, t.budgetKey, t.budgetShare = b, key, share
}

// RateLimits says how a provider counts requests against its rate limits,
// for a [Transport]'s budget: see [Transport.SetRateLimits].
type RateLimits int

const (
	// OneLimit is the default: one limit per credential, against which
	// every request counts, a 304 Not Modified included (GitLab counts
	// them; Bitbucket announces no remaining count).
	OneLimit RateLimits = iota
	// GitHubLimits is GitHub's (and GitHub Enterprise's) rules for an
	// authorised credential. Each resource has its own limit: the budget
	// key is the transport's key, a space and the resource (core,
	// search, code_search, graphql, ...), named from the request before
	// it is sent (POST .../graphql: graphql; the REST search endpoints
	// /search/code: code_search and /search/...: search, under /api/v3
	// on Enterprise; anything else: core) and from the answer's
	// X-RateLimit-Resource when it is recorded. A conditional request
	// (If-None-Match or If-Modified-Since) answered 304 is free ("Making
	// a conditional request does not count against your primary rate
	// limit if a 304 response is returned and the request was made while
	// correctly authorized", GitHub's REST API best practices): with a
	// budget that implements [BudgetPeeker] it is only checked against
	// the share (Peek), not counted, and a 304 is never recorded (it
	// carries nothing new). A conditional request answered 200 is counted
	// by GitHub, and its answer brings the budget down to GitHub's count.
	// A request made conditional below the transport (by a cache layer
	// between it and [Sanitize], which sees the server's 304) was
	// counted before it was sent: with a budget that implements
	// [BudgetRefunder] it is given back. A redirect hop from the API to
	// a download host (an archive from codeload) is not counted: GitHub
	// counted the API request that redirected.
	GitHubLimits
)

// SetRateLimits sets how t's budget counts requests (see [RateLimits]);
// the default is [OneLimit]. Call it before the first request.
func (t *Transport) SetRateLimits(r RateLimits) {
	t.rateLimits = r
}

// BudgetRefunder is a [Budget] that can give back a request it counted,
// for [GitHubLimits]' requests that a layer below the transport made
// conditional (scm's page cache) and that GitHub answered 304, free. With
// a Budget that does not implement it, those requests stay counted.
type BudgetRefunder interface {
	Budget
	// Refund gives back one request counted by Take in the window that
	// ends at reset; a budget recorded for another window is left as it
	// is, and remaining never goes above the limit.
	Refund(ctx context.Context, key string, reset time.Time) error
}

// BudgetPeeker is a [Budget] that can check a share without spending it,
// for requests the provider may not count ([GitHubLimits]' conditional
// requests). With a Budget that does not implement it, those requests
// are counted by Take like any other.
type BudgetPeeker interface {
	Budget
	// Peek reports what Take would (false and the reset when the share
	// is spent), without counting the request.
	Peek(ctx context.Context, key string, share float64) (ok bool, reset time.Time, err error)
}

// takeBudget waits for, or refuses, a request whose budget is spent.
//
// Under [GitHubLimits] a conditional request is only peeked at, so the
// fleet can overshoot its share by at most the conditional requests in
// flight (on every replica) when the share runs out that are then
// answered 200; every other request is counted atomically before it is
// sent, as under [OneLimit].
//
// spent reports whether the request was counted (Take said yes): a
// request that a layer below made conditional, and that GitHub then
// answered 304, is given back (see recordBudget). A give-back can leave
// the budget above GitHub's count by one for each such request whose
// count an answer recorded meanwhile already took in (an answer showing
// less remaining than the budget, when others spend the same limit), or
// that Take let go without counting (nothing recorded yet).
func (t *Transport) takeBudget(req *http.Request) (spent bool, err error) {
	if t.budget == nil || t.budgetKey == "" || t.budgetShare <= 0 || (t.rateLimits == GitHubLimits && downloadHop(req)) {
		return false, nil
	}
	ctx := req.Context()
	take, spend := t.budget.Take, true
	if p, ok := t.budget.(BudgetPeeker); ok && t.rateLimits == GitHubLimits && conditional(req) {
		take, spend = p.Peek, false
	}
	ok, reset, err := take(ctx, t.resourceKey(req, ""), t.budgetShare)
	if err != nil {
		return false, nil
	}
	if ok {
		return spend, nil
	}
	wait := reset.Sub(t.now())
	if wait <= 0 {
		return false, nil
	}
	deadline, hasDeadline := ctx.Deadline()
	if wait > t.maxRateLimitWait || (hasDeadline && time.Until(deadline) < wait) {
		return false, &errcode.Error{Code: errcode.RateLimited, Host: req.URL.Host, RetryAt: reset,
			Msg: describe(req) + ": the fleet has spent its share of this credential's rate limit until " + reset.UTC().Format(time.RFC3339)}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return false, nil
	case <-ctx.Done():
		return false, contextError(req, ctx.Err())
	}
}

// recordBudget records what resp says about the budget. spent says
// whether takeBudget counted the request; notModified whether the server
// answered 304 below a cache layer that may have turned it into a 200.
func (t *Transport) recordBudget(req *http.Request, resp *http.Response, spent, notModified bool) {
	if t.budget == nil || t.budgetKey == "" || resp == nil {
		return
	}
	if t.rateLimits == GitHubLimits && (notModified || resp.StatusCode == http.StatusNotModified) {
		// Not counted by GitHub: the answer's remaining is the one
		// already recorded, and recording it again is a wasted round
		// trip to a shared budget. A request counted in advance (made
		// conditional by a layer below, such as scm's page cache) is
		// given back, in the answer's window only.
		r, ok := t.budget.(BudgetRefunder)
		if !spent || !ok {
			return
		}
		if _, _, reset, ok := QuotaOf(resp.Header, t.now()); ok {
			r.Refund(req.Context(), t.resourceKey(req, resp.Header.Get("X-RateLimit-Resource")), reset) //nolint:errcheck // as Record
		}
		return
	}
	limit, remaining, reset, ok := QuotaOf(resp.Header, t.now())
	if !ok {
		return
	}
	key := t.resourceKey(req, resp.Header.Get("X-RateLimit-Resource"))
	t.budget.Record(req.Context(), key, limit, remaining, reset) //nolint:errcheck // a lost record costs accuracy, not correctness
}

// resourceKey is the budget key of req: the transport's key under
// [OneLimit]; under [GitHubLimits] the key, a space and the resource,
// named (an answer's X-RateLimit-Resource) or else guessed from req.
func (t *Transport) resourceKey(req *http.Request, named string) string {
	if t.rateLimits != GitHubLimits {
		return t.budgetKey
	}
	if !resourceName(named) {
		named = githubResource(req)
	}
	return t.budgetKey + " " + named
}

// downloadHop reports whether req follows a GitHub API redirect to a
// download host (an archive's 302 to codeload.github.com, codeload.HOST
// or HOST/_codeload/ on Enterprise): the API request was counted, the
// download is not an API request and carries no rate-limit headers. A
// redirect on the API host itself (a renamed repository's 301) is one.
func downloadHop(req *http.Request) bool {
	prev := req.Response
	if prev == nil || prev.Request == nil || prev.Request.URL == nil {
		return false
	}
	return prev.Request.URL.Host != req.URL.Host || strings.Contains(req.URL.Path, "/_codeload/")
}

// conditional reports whether req asks for a 304 when unchanged.
func conditional(req *http.Request) bool {
	return req.Header.Get("If-None-Match") != "" || req.Header.Get("If-Modified-Since") != ""
}

// githubResource names the GitHub rate limit req counts against, from its
// method and path: graphql for a POST to .../graphql (api.github.com's
// /graphql, Enterprise's /api/graphql, behind any path prefix);
// code_search for /search/code and search for the other /search/...
// endpoints (at the root, or under .../api/v3 on Enterprise); core
// otherwise.
func githubResource(req *http.Request) string {
	p := req.URL.Path
	if req.Method == http.MethodPost && strings.HasSuffix(p, "/graphql") {
		return "graphql"
	}
	if i := strings.LastIndex(p, "/search/"); i >= 0 && (i == 0 || strings.HasSuffix(p[:i], "/api/v3")) {
		switch what := p[i+len("/search/"):]; {
		case what == "code":
			return "code_search"
		case what != "" && !strings.Contains(what, "/"):
			return "search"
		}
	}
	return "core"
}

// resourceName reports whether s looks like a GitHub rate-limit resource
// (core, code_search, actions_runner_registration, ...): an answer's
// header goes into a shared store's key only then.
func resourceName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
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

// MemoryBudget is a [BudgetPeeker] and [BudgetRefunder] in this
// process's memory, for clients of one process; redisstore has one for a
// fleet. The zero value is ready to use.
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
	return b.take(ctx, "httpx.MemoryBudget.Take", key, share, true)
}

// Peek implements [BudgetPeeker].
func (b *MemoryBudget) Peek(ctx context.Context, key string, share float64) (bool, time.Time, error) {
	return b.take(ctx, "httpx.MemoryBudget.Peek", key, share, false)
}

// take is Take when spend is set, Peek otherwise.
func (b *MemoryBudget) take(ctx context.Context, op, key string, share float64, spend bool) (bool, time.Time, error) {
	if err := errcode.FromContext(ctx, op); err != nil {
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
	if spend {
		q.remaining--
		b.m[key] = q
	}
	return true, time.Time{}, nil
}

// Refund implements [BudgetRefunder].
func (b *MemoryBudget) Refund(ctx context.Context, key string, reset time.Time) error {
	if err := errcode.FromContext(ctx, "httpx.MemoryBudget.Refund"); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if q, found := b.m[key]; found && q.reset.Equal(reset) {
		q.remaining = min(q.remaining+1, q.limit)
		b.m[key] = q
	}
	return nil
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
