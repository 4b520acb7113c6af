package fake

import (
	"net/http"
	"strconv"
	"time"
)

// FaultKind names a failure a fake can be made to produce. Each fake
// answers a kind with its provider's own status, headers and body (its
// package documentation says which); the conformance suite
// (scm/scmtest) names the same kinds.
type FaultKind int

// The faults. Each names the HTTP answer an HTTP fake gives, with the
// provider's own headers and body for it (see the fixtures); memscm
// returns the driver error that its ErrorInfo classifies the same way.
const (
	// FaultUnauthorized answers 401.
	FaultUnauthorized FaultKind = iota + 1
	// FaultNotFound answers 404.
	FaultNotFound
	// FaultUnprocessable answers 422 (a validation failure).
	FaultUnprocessable
	// FaultRateLimit is the primary rate limit: the provider's status
	// (GitHub: 403 or 429) with its remaining-requests header at 0 and a
	// reset header RetryAfter from now.
	FaultRateLimit
	// FaultSecondaryRateLimit is GitHub's secondary rate limit (403 with
	// Retry-After and the documentation URL in the body); other providers
	// answer as for FaultTooManyRequests.
	FaultSecondaryRateLimit
	// FaultTooManyRequests answers 429 with Retry-After (seconds) set to
	// RetryAfter.
	FaultTooManyRequests
	// FaultTooManyRequestsNoRetryAfter answers 429 without Retry-After
	// (and without any reset header).
	FaultTooManyRequestsNoRetryAfter
	// FaultServerError answers Status (500 when 0).
	FaultServerError
	// FaultSlow waits Delay (or until the request's context ends) before
	// answering normally.
	FaultSlow
	// FaultTruncatedBody answers 200 with a Content-Length larger than the
	// body it sends, then closes the connection.
	FaultTruncatedBody
	// FaultEchoCredentials answers Status (400 when 0) with the
	// provider's error body whose message quotes the request's
	// credentials as a careless server or proxy does: the Authorization
	// header as sent, the decoded user:password of a Basic one, and any
	// Private-Token. For 500 and above the answer is a proxy's HTML page
	// quoting them.
	FaultEchoCredentials
	// FaultOpenPullRequest fails the request that opens the pull request,
	// after the changes are committed, with Status (502 when 0): a POST
	// that is not retried. memscm need not support it.
	FaultOpenPullRequest
	// FaultLostAnswer processes the request (a write is made), then
	// closes the connection without answering, as when a proxy or the
	// network loses the answer. Fakes that support it say so.
	FaultLostAnswer
	// FaultSecondaryRateLimitNoRetryAfter is GitHub's secondary rate
	// limit as it is sometimes sent: 403 with the secondary-rate-limit
	// message and no Retry-After, while X-RateLimit-Remaining stays above
	// 0 (GitHub documents waiting at least one minute then). Other
	// providers answer as for FaultTooManyRequestsNoRetryAfter.
	FaultSecondaryRateLimitNoRetryAfter
	// FaultRateLimitResetOnly answers 429 with the provider's reset
	// header RetryAfter from now (GitLab: RateLimit-Reset, an epoch) and
	// no Retry-After, as GitLab sometimes does. Providers without such a
	// header answer as for FaultTooManyRequestsNoRetryAfter.
	FaultRateLimitResetOnly
)

var faultNames = [...]string{
	FaultUnauthorized:                   "FaultUnauthorized",
	FaultNotFound:                       "FaultNotFound",
	FaultUnprocessable:                  "FaultUnprocessable",
	FaultRateLimit:                      "FaultRateLimit",
	FaultSecondaryRateLimit:             "FaultSecondaryRateLimit",
	FaultTooManyRequests:                "FaultTooManyRequests",
	FaultTooManyRequestsNoRetryAfter:    "FaultTooManyRequestsNoRetryAfter",
	FaultServerError:                    "FaultServerError",
	FaultSlow:                           "FaultSlow",
	FaultTruncatedBody:                  "FaultTruncatedBody",
	FaultEchoCredentials:                "FaultEchoCredentials",
	FaultOpenPullRequest:                "FaultOpenPullRequest",
	FaultLostAnswer:                     "FaultLostAnswer",
	FaultSecondaryRateLimitNoRetryAfter: "FaultSecondaryRateLimitNoRetryAfter",
	FaultRateLimitResetOnly:             "FaultRateLimitResetOnly",
}

// String returns the fault's name, e.g. "FaultRateLimit".
func (k FaultKind) String() string {
	if k > 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is a failure to inject into a fake with its Inject method.
type Fault struct {
	// Kind is the failure.
	Kind FaultKind
	// Times is how many matching requests the fault applies to; 0 means
	// every matching request until ClearFaults.
	Times int
	// RetryAfter is, for the rate-limit faults, how long from now the
	// limit resets (the value of Retry-After or of the provider's reset
	// header); 0 means the provider's usual wait (60 s, one hour for
	// GitHub's primary limit).
	RetryAfter time.Duration
	// Delay is, for FaultSlow, how long to wait before answering.
	Delay time.Duration
	// Status is, for FaultServerError, the status (500 when 0); for
	// FaultEchoCredentials, the status of the answer (400 when 0); for
	// FaultOpenPullRequest, the status of the failed answer (502 when 0);
	// for the rate-limit faults of a provider that answers either, 403 or
	// 429.
	Status int
	// Method restricts the fault to one HTTP method; "" matches any.
	Method string
	// Path restricts the fault to request paths starting with it, as the
	// fake's documentation says (escaped as sent, relative to the API
	// root); "" matches any.
	Path string
	// Host restricts the fault to one of the fake's hosts, by the name
	// its Request.Host uses ("api", "download", "raw", "web"); "" means
	// the fake's main host.
	Host string
}

// Request is one request a fake received.
type Request struct {
	// Host names the fake's server that received it: "api" for the main
	// one, or "download", "raw", "web" for a fake with several.
	Host string
	// Method is the HTTP method.
	Method string
	// Path is the path as received, escaped, with the query.
	Path string
	// Route is the pattern that answered, e.g.
	// "GET /repos/{owner}/{repo}/contents/{path...}", or "" when none did.
	Route string
	// Header is a copy of every header received.
	Header http.Header
}
