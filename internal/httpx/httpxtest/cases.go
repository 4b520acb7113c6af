// Package httpxtest holds the rate-limit and status classification cases
// that internal/httpx and the credentials packages run alike, so that
// every HTTP client of scmkit is held to the same answers.
package httpxtest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// Case is a server's first answer and what a client must make of it. The
// second answer, if the client retries, is a success.
type Case struct {
	Name string
	// Status, Header and Body are the first answer; Header gets the
	// server's time, for epoch headers.
	Status int
	Header func(now time.Time) http.Header
	Body   string
	// MaxRateLimitWait is the client's cap on a server-requested wait.
	MaxRateLimitWait time.Duration

	// Code is the outcome: errcode.OK when the client waited and
	// retried (the retry succeeds), the error's code otherwise.
	Code errcode.Code
	// Wait is, when Code is OK, the wait between the two attempts; when
	// Code is RateLimited, how long after the first answer RetryAt lies.
	Wait time.Duration
	// Attempts is the number of requests sent.
	Attempts int
	// Message, if not empty, must be part of the error's message.
	Message string
}

// OTPMessage is the words a 401 with X-GitHub-OTP must put in its error.
const OTPMessage = "one-time password"

func hdr(kv ...string) func(time.Time) http.Header {
	return func(time.Time) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
}

func epoch(now time.Time, d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }

const (
	secondaryBody = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits","status":"403"}`
	abuseBody     = `{"message":"You have triggered an abuse detection mechanism. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#abuse-rate-limits"}`
)

// Cases are the classification cases. Their sources: GitHub's "Rate
// limits for the REST API" ("Exceeding the rate limit": Retry-After first;
// X-RateLimit-Reset when X-RateLimit-Remaining is 0; otherwise at least
// one minute for a secondary limit) and "Working with two-factor
// authentication" (X-GitHub-OTP); GitLab's "Rate limits" (RateLimit-Reset
// in epoch seconds on a 429, sometimes without Retry-After).
var Cases = []Case{{
	Name:   "403 secondary limit with Retry-After: waits that long",
	Status: http.StatusForbidden, Header: hdr("Retry-After", "30", "X-RateLimit-Remaining", "4000"), Body: secondaryBody,
	MaxRateLimitWait: 5 * time.Minute, Code: errcode.OK, Wait: 30 * time.Second, Attempts: 2,
}, {
	Name:   "403 secondary limit with Retry-After beyond the cap: RateLimited at that time",
	Status: http.StatusForbidden, Header: hdr("Retry-After", "600"), Body: secondaryBody,
	MaxRateLimitWait: time.Minute, Code: errcode.RateLimited, Wait: 10 * time.Minute, Attempts: 1,
}, {
	Name:   "403 abuse detection (older wording) with Retry-After: waits that long",
	Status: http.StatusForbidden, Header: hdr("Retry-After", "45"), Body: abuseBody,
	MaxRateLimitWait: 5 * time.Minute, Code: errcode.OK, Wait: 45 * time.Second, Attempts: 2,
}, {
	Name:   "403 abuse detection with Retry-After beyond the cap: RateLimited at that time",
	Status: http.StatusForbidden, Header: hdr("Retry-After", "120"), Body: abuseBody,
	MaxRateLimitWait: time.Minute, Code: errcode.RateLimited, Wait: 2 * time.Minute, Attempts: 1,
}, {
	Name:   "403 Retry-After with a plain message: still a rate limit",
	Status: http.StatusForbidden, Header: hdr("Retry-After", "90"), Body: `{"message":"Forbidden"}`,
	MaxRateLimitWait: time.Minute, Code: errcode.RateLimited, Wait: 90 * time.Second, Attempts: 1,
}, {
	Name:   "403 secondary limit without Retry-After: one minute, not X-RateLimit-Reset while requests remain",
	Status: http.StatusForbidden, Body: secondaryBody,
	Header: func(now time.Time) http.Header {
		return hdr("X-RateLimit-Remaining", "4000", "X-RateLimit-Reset", epoch(now, 50*time.Minute))(now)
	},
	MaxRateLimitWait: 5 * time.Minute, Code: errcode.OK, Wait: time.Minute, Attempts: 2,
}, {
	Name:   "429 secondary limit without Retry-After beyond the cap: RateLimited one minute on",
	Status: http.StatusTooManyRequests, Body: secondaryBody,
	Header: func(now time.Time) http.Header {
		return hdr("X-RateLimit-Remaining", "12", "X-RateLimit-Reset", epoch(now, 3*time.Second))(now)
	},
	MaxRateLimitWait: 30 * time.Second, Code: errcode.RateLimited, Wait: time.Minute, Attempts: 1,
}, {
	Name:   "403 primary limit: until X-RateLimit-Reset",
	Status: http.StatusForbidden, Body: `{"message":"API rate limit exceeded for installation ID 42."}`,
	Header: func(now time.Time) http.Header {
		return hdr("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", epoch(now, 20*time.Minute))(now)
	},
	MaxRateLimitWait: time.Minute, Code: errcode.RateLimited, Wait: 20 * time.Minute, Attempts: 1,
}, {
	Name:   "GitLab 429 with RateLimit-Reset and no Retry-After: waits until the reset",
	Status: http.StatusTooManyRequests, Body: `{"message":{"error":"This endpoint has been requested too many times. Try again later."}}`,
	Header: func(now time.Time) http.Header {
		return hdr("RateLimit-Limit", "600", "RateLimit-Remaining", "595", "RateLimit-Reset", epoch(now, 40*time.Second))(now)
	},
	MaxRateLimitWait: 5 * time.Minute, Code: errcode.OK, Wait: 40 * time.Second, Attempts: 2,
}, {
	Name:   "GitLab 429 with RateLimit-Reset beyond the cap: RateLimited at the reset",
	Status: http.StatusTooManyRequests, Body: `Retry later`,
	Header: func(now time.Time) http.Header {
		return hdr("RateLimit-Remaining", "0", "RateLimit-Reset", epoch(now, 10*time.Minute))(now)
	},
	MaxRateLimitWait: time.Minute, Code: errcode.RateLimited, Wait: 10 * time.Minute, Attempts: 1,
}, {
	Name:   "401 with X-GitHub-OTP: Unauthorized, a one-time password is required",
	Status: http.StatusUnauthorized, Header: hdr("X-GitHub-OTP", "required; app"),
	Body:             `{"message":"Must specify two-factor authentication OTP code.","documentation_url":"https://docs.github.com/rest/overview/other-authentication-methods#working-with-two-factor-authentication"}`,
	MaxRateLimitWait: time.Minute, Code: errcode.Unauthorized, Attempts: 1, Message: OTPMessage,
}, {
	Name:   "400: InvalidArgument, not retried",
	Status: http.StatusBadRequest, Header: hdr("Content-Type", "application/json"),
	Body:             `{"message":"Problems parsing JSON","documentation_url":"https://docs.github.com/rest"}`,
	MaxRateLimitWait: time.Minute, Code: errcode.InvalidArgument, Attempts: 1,
}}
