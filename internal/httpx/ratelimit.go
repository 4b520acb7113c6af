package httpx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// SecondaryLimitWait is the wait assumed for a GitHub secondary rate limit
// that names no time: GitHub documents "wait at least one minute".
const SecondaryLimitWait = time.Minute

// peekLimit is how much of a 403/429 body RateLimitInfo reads to find a
// rate-limit message.
const peekLimit = 8 << 10

// RateLimitInfo reports whether resp is a rate-limit refusal and, when the
// server says, when a retry may succeed. It recognises:
//
//   - any 429, and a 403 carrying Retry-After, X-RateLimit-Remaining: 0,
//     RateLimit-Remaining: 0, or a body that mentions a "rate limit" or
//     "abuse detection" (GitHub's primary and secondary limits);
//   - the time, in this order: Retry-After (delay-seconds or HTTP-date);
//     X-RateLimit-Reset (epoch seconds) when X-RateLimit-Remaining is 0;
//     RateLimit-Reset (epoch seconds, or delta-seconds when below 10^9);
//     now + [SecondaryLimitWait] for a GitHub secondary limit with no header.
//
// retryAt is zero when the response is limited but names no time (a bare 429
// from Bitbucket Cloud, say); it may lie in the past when the clocks
// disagree. now is the current time, used for relative headers.
//
// To read a 403 or 429 message, RateLimitInfo reads at most 8 KiB of
// resp.Body and replaces resp.Body with a reader that returns the same
// bytes followed by the rest, so the body can still be read in full.
func RateLimitInfo(resp *http.Response, now time.Time) (retryAt time.Time, limited bool) {
	if resp == nil {
		return time.Time{}, false
	}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusForbidden {
		return time.Time{}, false
	}
	h := resp.Header
	if t, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
		return t, true
	}
	// GitHub: "If the x-ratelimit-remaining header is 0, you should not
	// retry your request until after the time, in UTC epoch seconds,
	// specified by the x-ratelimit-reset header" (docs.github.com, REST
	// API, "Rate limits for the REST API", "Exceeding the rate limit").
	// While it is above 0, the reset says nothing about a secondary limit.
	primary := strings.TrimSpace(h.Get("X-RateLimit-Remaining")) == "0"
	if primary {
		if t, ok := parseEpoch(h.Get("X-RateLimit-Reset")); ok {
			return t, true
		}
	}
	// GitLab answers 429 with RateLimit-Reset (epoch seconds) and
	// sometimes no Retry-After (docs.gitlab.com, "Rate limits" and
	// "GitLab.com rate limits": RateLimit-Limit, RateLimit-Observed,
	// RateLimit-Remaining, RateLimit-Reset, RateLimit-ResetTime,
	// Retry-After); its project export limit sends RateLimit-Reset
	// without Retry-After, whatever RateLimit-Remaining says (GitLab
	// issue gitlab-org/gitlab#199738).
	gitlabExhausted := strings.TrimSpace(h.Get("RateLimit-Remaining")) == "0"
	if resp.StatusCode == http.StatusTooManyRequests || gitlabExhausted {
		if t, ok := parseRateLimitReset(h.Get("RateLimit-Reset"), now); ok {
			return t, true
		}
	}
	if gitlabExhausted {
		return time.Time{}, true
	}
	// GitHub's secondary limit names itself in the message; without
	// Retry-After or an exhausted primary limit, GitHub says "wait for at
	// least one minute before retrying" (same page). "You have triggered
	// an abuse detection mechanism" is the older wording of the same limit.
	msg := strings.ToLower(string(peekBody(resp, peekLimit)))
	switch {
	case strings.Contains(msg, "secondary rate limit"), strings.Contains(msg, "abuse detection"):
		return now.Add(SecondaryLimitWait), true
	case strings.Contains(msg, "rate limit"):
		return time.Time{}, true
	}
	return time.Time{}, primary || resp.StatusCode == http.StatusTooManyRequests
}

// parseRetryAfter parses a Retry-After value: delay-seconds or an HTTP-date.
func parseRetryAfter(v string, now time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return time.Time{}, false
		}
		return now.Add(seconds(secs)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// parseEpoch parses epoch seconds, as in X-RateLimit-Reset.
func parseEpoch(v string) (time.Time, bool) {
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}

// parseRateLimitReset parses GitLab's RateLimit-Reset: epoch seconds, or
// delta-seconds (the IETF draft's form) when the value is below 10^9, which
// as an epoch would lie in 2001.
func parseRateLimitReset(v string, now time.Time) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, false
	}
	if n < 1e9 {
		return now.Add(seconds(n)), true
	}
	return time.Unix(n, 0), true
}

// seconds converts n seconds to a Duration without overflowing.
func seconds(n int64) time.Duration {
	const maxSecs = int64(1<<63-1) / int64(time.Second)
	return time.Duration(min(n, maxSecs)) * time.Second
}

// peekBody reads up to n bytes of resp.Body and puts them back in front of
// the rest of the body.
func peekBody(resp *http.Response, n int64) []byte {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	orig := resp.Body
	buf, err := io.ReadAll(io.LimitReader(orig, n))
	var rest io.Reader = orig
	if err != nil {
		rest = errReader{err}
	}
	resp.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(buf), rest), closer: orig}
	return buf
}

// replayBody is a response body whose start was already read once.
type replayBody struct {
	io.Reader
	closer io.Closer
}

func (b *replayBody) Close() error { return b.closer.Close() }

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// unresolvable reports whether err says that a host name does not exist:
// the DNS answered so (NXDOMAIN), which a retry would not change. A DNS
// timeout or server failure is not this.
func unresolvable(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound && !dnsErr.IsTimeout && !dnsErr.IsTemporary
}

// isNetworkError reports whether err is a transient network failure worth
// retrying for an idempotent request. Context errors, TLS and certificate
// failures, *errcode.Error values (for example from the credentials
// transport) and other non-network errors are not.
func isNetworkError(err error) bool {
	for {
		ue, ok := err.(*url.Error)
		if !ok {
			break
		}
		err = ue.Err
	}
	var ate *attemptTimeoutError
	if errors.As(err, &ate) {
		return true
	}
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		ce        *errcode.Error
		verifyErr *tls.CertificateVerificationError
		recordErr tls.RecordHeaderError
		alertErr  tls.AlertError
		authErr   x509.UnknownAuthorityError
		invErr    x509.CertificateInvalidError
		hostErr   x509.HostnameError
	)
	switch {
	case errors.As(err, &ce), errors.As(err, &verifyErr), errors.As(err, &recordErr), errors.As(err, &alertErr),
		errors.As(err, &authErr), errors.As(err, &invErr), errors.As(err, &hostErr):
		return false
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// notSent reports whether err shows that the request never left this
// process: the connection (or the proxy connection) could not be made.
// Only then is a non-idempotent request retried after a network error.
func notSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect")
}
