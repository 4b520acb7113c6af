package httpx

import (
	"context"
	"net/http"
	"net/url"
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
	// search, code_search, graphql, ...), guessed from the request
	// before it is sent (POST .../graphql: graphql; the REST search
	// endpoints right under the API base, see [Transport.SetAPIBase],
	// /search/code: code_search and /search/...: search; anything else:
	// core). The answer's X-RateLimit-Resource names the key its count
	// is recorded under when it is one of GitHub's documented resources
	// (anything else counts as the guess). When it names another
	// resource than a search or graphql guess (GitHub Enterprise 3.10
	// and older count /search/code under search), the answer is recorded
	// under both keys, and the transport's later requests of that guess
	// take from the named key; a 304 is given back to the key its
	// request was taken from. Every reset is taken as at most
	// [MaxBudgetReset] ahead. A conditional request
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

// SetAPIBase tells t the API base URL of the integration it serves (a
// GitHub integration's apiBaseUrl: https://api.github.com, or
// https://HOST/api/v3 on Enterprise, behind any path prefix), so that
// under [GitHubLimits] a request is named a search only when its path
// is the base's /search/... (a file whose path holds "api/v3/search/code"
// is a core request). Without it, the base is guessed from the path: the
// part up to the first /api/v3 that no /repos/ comes before, or the
// root. A base that does not parse is ignored. Call it before the first
// request.
func (t *Transport) SetAPIBase(base string) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return
	}
	t.api = &apiBase{host: u.Host, path: strings.TrimSuffix(u.Path, "/")}
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
//
// taken is the budget key of req (see [Transport.takeKey]), which
// recordBudget records and gives back to.
func (t *Transport) takeBudget(req *http.Request) (taken string, spent bool, err error) {
	if t.budget == nil || t.budgetKey == "" {
		return "", false, nil
	}
	taken = t.takeKey(req)
	if t.budgetShare <= 0 || (t.rateLimits == GitHubLimits && downloadHop(req)) {
		return taken, false, nil
	}
	ctx := req.Context()
	take, spend := t.budget.Take, true
	if p, ok := t.budget.(BudgetPeeker); ok && t.rateLimits == GitHubLimits && conditional(req) {
		take, spend = p.Peek, false
	}
	ok, reset, err := take(ctx, taken, t.budgetShare)
	if err != nil {
		return taken, false, nil
	}
	if ok {
		return taken, spend, nil
	}
	wait := reset.Sub(t.now())
	if wait <= 0 {
		return taken, false, nil
	}
	deadline, hasDeadline := ctx.Deadline()
	if wait > t.maxRateLimitWait || (hasDeadline && time.Until(deadline) < wait) {
		return taken, false, &errcode.Error{Code: errcode.RateLimited, Host: req.URL.Host, RetryAt: reset,
			Msg: describe(req) + ": the fleet has spent its share of this credential's rate limit until " + reset.UTC().Format(time.RFC3339)}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return taken, false, nil
	case <-ctx.Done():
		return taken, false, contextError(req, ctx.Err())
	}
}

// recordBudget records what resp says about the budget. taken is the
// key takeBudget asked (or would have asked) for req; spent says whether
// it counted the request; notModified whether the server answered 304
// below a cache layer that may have turned it into a 200.
func (t *Transport) recordBudget(req *http.Request, resp *http.Response, taken string, spent, notModified bool) {
	if t.budget == nil || t.budgetKey == "" || resp == nil {
		return
	}
	if t.rateLimits == GitHubLimits && (notModified || resp.StatusCode == http.StatusNotModified) {
		// Not counted by GitHub: the answer's remaining is the one
		// already recorded, and recording it again is a wasted round
		// trip to a shared budget. A request counted in advance (made
		// conditional by a layer below, such as scm's page cache) is
		// given back where it was taken, in the answer's window only.
		r, ok := t.budget.(BudgetRefunder)
		if !spent || !ok {
			return
		}
		if _, _, reset, ok := QuotaOf(resp.Header, t.now()); ok {
			r.Refund(req.Context(), taken, ClampReset(reset, t.now())) //nolint:errcheck // as Record
		}
		return
	}
	limit, remaining, reset, ok := QuotaOf(resp.Header, t.now())
	if !ok {
		return
	}
	reset = ClampReset(reset, t.now())
	ctx := req.Context()
	if t.rateLimits != GitHubLimits {
		t.budget.Record(ctx, taken, limit, remaining, reset) //nolint:errcheck // a lost record costs accuracy, not correctness
		return
	}
	guess := githubResource(req, t.api)
	named := resp.Header.Get("X-RateLimit-Resource")
	if !githubResources[named] {
		named = guess
	}
	key := t.budgetKey + " " + named
	t.budget.Record(ctx, key, limit, remaining, reset) //nolint:errcheck // a lost record costs accuracy, not correctness
	if key == taken || guess == "core" {
		// A core guess that GitHub names otherwise (a resource of its
		// own, such as dependency_snapshots) says nothing about the
		// other core requests: core's key keeps core's counts.
		return
	}
	// The answer names another resource than a search or graphql guess
	// (GitHub Enterprise 3.10 and older count /search/code under
	// search). Taken from the guess's key, the request leaves there the
	// count it was spent against, so that the share holds for the next
	// requests of the guess on any transport; this one takes them from
	// the named key from now on.
	if taken == t.budgetKey+" "+guess {
		t.budget.Record(ctx, taken, limit, remaining, reset) //nolint:errcheck // as above
	}
	t.learnMu.Lock()
	if t.learned == nil {
		t.learned = map[string]string{}
	}
	t.learned[guess] = named
	t.learnMu.Unlock()
}

// takeKey is the budget key of req: the transport's key under
// [OneLimit]; under [GitHubLimits] the key, a space and the resource
// guessed from req, or the one an earlier answer named for that guess.
func (t *Transport) takeKey(req *http.Request) string {
	if t.rateLimits != GitHubLimits {
		return t.budgetKey
	}
	res := githubResource(req, t.api)
	t.learnMu.Lock()
	if named, ok := t.learned[res]; ok {
		res = named
	}
	t.learnMu.Unlock()
	return t.budgetKey + " " + res
}

// downloadHop reports whether req follows a GitHub API redirect to a
// download host (an archive's 302 to codeload.github.com, codeload.HOST
// or HOST/_codeload/ on Enterprise): the API request was counted, the
// download is not an API request and carries no rate-limit headers. A
// redirect on the API host itself (a renamed repository's 301) is not
// one: it is an API request, and counted.
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

// apiBase is a GitHub integration's API base: its host and path, with
// no trailing slash.
type apiBase struct{ host, path string }

// githubResource names the GitHub rate limit req counts against, from its
// method and path: graphql for a POST to .../graphql (api.github.com's
// /graphql, Enterprise's /api/graphql, behind any path prefix);
// code_search for the API base's /search/code and search for its other
// /search/... endpoints; core otherwise. base is the integration's API
// base; nil guesses it from the path (see [Transport.SetAPIBase]).
func githubResource(req *http.Request, base *apiBase) string {
	p := req.URL.Path
	if req.Method == http.MethodPost && strings.HasSuffix(p, "/graphql") {
		return "graphql"
	}
	var rel string
	switch {
	case base != nil:
		var ok bool
		if rel, ok = strings.CutPrefix(p, base.path); !ok || !strings.EqualFold(req.URL.Host, base.host) {
			return "core"
		}
	default:
		// GitHub's bases are the root (api.github.com) and .../api/v3
		// (Enterprise, behind any prefix). Only a repository's paths
		// (contents, refs, branches) hold segments of the caller's, so
		// an /api/v3 after /repos/ is a file's or a branch's.
		rel = p
		if i := strings.Index(p, "/api/v3/"); i >= 0 && !strings.Contains(p[:i]+"/", "/repos/") {
			rel = p[i+len("/api/v3"):]
		}
	}
	if what, ok := strings.CutPrefix(rel, "/search/"); ok {
		switch {
		case what == "code":
			return "code_search"
		case what != "" && !strings.Contains(what, "/"):
			return "search"
		}
	}
	return "core"
}

// githubResources are the rate-limit resources GitHub documents (the
// resources of GET /rate_limit in its REST API description, and
// code_scanning_upload, which older versions, Enterprise's included,
// list there): an answer's
// X-RateLimit-Resource names a budget key only when it is one of them,
// so that answers cannot make keys without bound.
var githubResources = map[string]bool{
	"core": true, "search": true, "code_search": true, "graphql": true,
	"integration_manifest": true, "source_import": true, "code_scanning_upload": true,
	"actions_runner_registration": true, "scim": true, "dependency_snapshots": true,
	"dependency_sbom": true, "code_scanning_autofix": true, "copilot_usage_records": true,
}

// MaxBudgetReset is how far ahead a budget takes a window's reset to be
// at most (GitHub's windows are an hour, GitLab's a minute by default):
// an answer announcing a later one cannot make a budget refuse requests,
// or a shared store keep its key, for longer.
const MaxBudgetReset = 2 * time.Hour

// ClampReset is reset, or now + [MaxBudgetReset] when that is earlier.
func ClampReset(reset, now time.Time) time.Time {
	if limit := now.Add(MaxBudgetReset); reset.After(limit) {
		return limit
	}
	return reset
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
// fleet. It takes a reset as at most [MaxBudgetReset] ahead, forgets the
// keys whose window has ended as it records new ones, and keeps at most
// memoryBudgetKeys keys (the one that resets first goes). The zero value
// is ready to use.
type MemoryBudget struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	m       map[string]quota
	sweepAt int // len(m) at which Record next drops ended windows
}

// memoryBudgetKeys bounds a MemoryBudget's keys: far more than a process
// has credentials times GitHub's resources.
const memoryBudgetKeys = 4096

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
	now := b.now()
	reset = ClampReset(reset, now)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]quota{}
	}
	q, found := b.m[key]
	if !found {
		b.makeRoom(now)
	}
	switch {
	case !found || reset.After(q.reset):
		q = quota{limit: limit, remaining: remaining, reset: reset}
	case reset.Equal(q.reset):
		q.limit, q.remaining = limit, min(q.remaining, remaining)
	}
	b.m[key] = q
	return nil
}

// makeRoom drops the keys whose window has ended once the map has grown
// to sweepAt (twice its size after the last sweep: linear time overall),
// and, with memoryBudgetKeys kept, the key that resets first. b.mu is
// held.
func (b *MemoryBudget) makeRoom(now time.Time) {
	if len(b.m) >= max(b.sweepAt, 64) {
		for k, q := range b.m {
			if !now.Before(q.reset) {
				delete(b.m, k)
			}
		}
		b.sweepAt = 2 * len(b.m)
	}
	if len(b.m) < memoryBudgetKeys {
		return
	}
	var first string
	var firstReset time.Time
	for k, q := range b.m {
		if firstReset.IsZero() || q.reset.Before(firstReset) {
			first, firstReset = k, q.reset
		}
	}
	delete(b.m, first)
}

// Keep is how many requests of limit a fleet leaves unspent with the
// given share: limit·(1-share), rounded down.
func Keep(limit int, share float64) int {
	if share >= 1 {
		return 0
	}
	return int(float64(limit) * (1 - share))
}
