package scmtest

import (
	"context"
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

// HarnessMaker makes a fresh Harness for one run of the suite: a fake world
// seeded with [World], a client for it and the knobs the subtests need.
// RunConformanceTests calls it once per subtest, so state (branches, pull
// requests, injected faults, request counts) never leaks between subtests.
type HarnessMaker func(ctx context.Context, t *testing.T) (Harness, error)

// Harness is what an adapter provides to run the conformance suite against
// its fake (an httptest server with the provider's real paths, bodies and
// headers) or, for memscm, an in-memory world. It is six methods, as
// gocloud.dev's drivertest harnesses are: the suite builds every URL
// itself from [World.Owner] with the registry's [integrations.Registry.URL].
//
// The world must hold, under one owner, every repository of [World] (the
// fixture repository [BasicRepo] with the files of [Basic], plus the small
// repositories [SecondRepo] and [ThirdRepo]), each with the default branch
// [DefaultBranch], and nothing else under that owner. No repository named
// [MissingRepo] may exist.
//
// All methods are called from the test goroutine only.
type Harness interface {
	// Client returns a client for the fake world. It presents the good
	// credential (the one whose secret is Secrets[0] of [Harness.World]),
	// or with bad, one the fake rejects (HTTP 401, or memscm's equivalent
	// fault hook). It must be built with scm.NewClient, the registry of
	// World, and the adapter's driver.Opener, with retry options that keep
	// the suite fast: a short backoff (a few milliseconds) and a maximum
	// retry wait well under one minute, so that a fault's one-hour reset
	// time exceeds it and the client returns RateLimited instead of
	// sleeping.
	Client(bad bool) *scm.Client

	// World describes the fake world; it is called once per harness.
	World() WorldInfo

	// Inject arms a fault; it applies to the next f.Times requests (every
	// request while armed when Times is 0) until ClearFaults. It returns
	// false when the harness cannot produce that fault; the subtests that
	// need it are then skipped, naming the fault. HTTP fakes are expected
	// to support every FaultKind.
	Inject(f Fault) bool

	// ClearFaults disarms every fault.
	ClearFaults()

	// Requests returns how many requests the fake has received since the
	// harness was made, counting every HTTP request to the integration's
	// hosts (redirect hops included, a foreign host excluded). memscm
	// counts driver calls instead, one per call (and per page).
	Requests() int

	// Close releases the fake world: it closes servers and the clients'
	// idle connections, so that no goroutine is left behind.
	Close()
}

// WorldInfo is what the suite needs to know about a harness's world.
type WorldInfo struct {
	// Registry is the registry the harness's clients were made with.
	Registry *integrations.Registry
	// Owner locates the owner holding the world's repositories: Kind, Host
	// and Owner set (the GitHub organisation, the GitLab group path, the
	// Bitbucket workspace or project key). The suite writes every file,
	// tree, repository and owner URL with Registry.URL from it.
	Owner integrations.Location
	// Secrets are the good credential's secret and the bad one's. The
	// suite checks that none of them ever reaches a foreign host or
	// appears in an error message.
	Secrets []string
	// Capabilities describes what the harness can and cannot show.
	Capabilities Capabilities
}

// Capabilities describes a harness. The zero value is an HTTP fake whose
// base URL has no path prefix.
type Capabilities struct {
	// NoHTTP, when not empty, says that the driver makes no HTTP requests
	// and why (memscm: "in-memory driver"). The subtests that can only be
	// observed over HTTP (a 5xx retried by the HTTP client, a redirect
	// to a foreign host) are skipped with this reason. No other subtest
	// may be skipped this way.
	NoHTTP string

	// NoDelete, when not empty, says that the provider cannot delete a
	// file in a commit, and why (Bitbucket Server has no such API). The
	// driver must then refuse a Delete change with Unimplemented, which
	// PullRequest/Open checks instead of deleting a file.
	NoDelete string

	// NoExecutable, when not empty, says that the provider cannot set a
	// file's executable bit in a commit, and why. The driver must then
	// refuse a change with Executable set with Unimplemented, which
	// PullRequest/Open checks instead of the executable bit.
	NoExecutable string

	// CommitPerFile, when not empty, says that the provider commits one
	// file per request, and why (Bitbucket Server's REST API): a pull
	// request's changes then make one commit per changed file instead of
	// one, which PullRequest/Rerun counts.
	CommitPerFile string

	// PathPrefix reports that the fake's API base URL has a path prefix
	// ("/api/v3", "/gitlab/api/v4"), so that the whole suite also checks
	// that the adapter keeps it. The PathPrefix subtest is skipped when
	// false.
	PathPrefix bool
}

// FaultKind names a failure a fake can be made to produce; the kinds and
// their documentation are those of package fake.
type FaultKind = fake.FaultKind

// The faults, as package fake names them.
const (
	FaultUnauthorized                   = fake.FaultUnauthorized
	FaultNotFound                       = fake.FaultNotFound
	FaultUnprocessable                  = fake.FaultUnprocessable
	FaultRateLimit                      = fake.FaultRateLimit
	FaultSecondaryRateLimit             = fake.FaultSecondaryRateLimit
	FaultTooManyRequests                = fake.FaultTooManyRequests
	FaultTooManyRequestsNoRetryAfter    = fake.FaultTooManyRequestsNoRetryAfter
	FaultServerError                    = fake.FaultServerError
	FaultSlow                           = fake.FaultSlow
	FaultTruncatedBody                  = fake.FaultTruncatedBody
	FaultEchoCredentials                = fake.FaultEchoCredentials
	FaultOpenPullRequest                = fake.FaultOpenPullRequest
	FaultLostAnswer                     = fake.FaultLostAnswer
	FaultSecondaryRateLimitNoRetryAfter = fake.FaultSecondaryRateLimitNoRetryAfter
	FaultRateLimitResetOnly             = fake.FaultRateLimitResetOnly
)

// Fault is one failure to inject: the fakes' own [fake.Fault], so that an
// HTTP fake's harness passes it on as it is. The suite sets Kind, Times,
// RetryAfter, Delay and Status; for FaultOpenPullRequest the harness
// restricts it (Method, Path) to the request that opens the pull request.
type Fault = fake.Fault

// ForeignRedirector is implemented by harnesses whose provider can answer
// content downloads (GitHub's tarballs, Bitbucket Cloud's archives) with a
// redirect to another host, one that no integration owns. The
// NoCredentialToForeignHost subtest needs it; it is skipped for harnesses
// without it.
type ForeignRedirector interface {
	// RedirectToForeign makes the fake answer every later download with
	// a redirect to the foreign host, which serves the same content, and
	// returns a function that lists the headers of every request that
	// host has received, in order.
	RedirectToForeign() (foreignRequests func() []http.Header)
}

// StateReader is implemented by harnesses that can read their fake's
// state directly. The PullRequest/Rerun subtest needs it to count what a
// rerun left on the branch; it is skipped for harnesses without it.
type StateReader interface {
	// CommitsAhead returns how many commits the first-parent chain of
	// branch in repo holds that the chain of DefaultBranch does not.
	CommitsAhead(repo, branch string) int
	// OpenPullRequests returns how many open pull requests go from branch
	// to DefaultBranch in repo.
	OpenPullRequests(repo, branch string) int
}

// BranchReader is implemented by harnesses that can read a branch's head
// in their fake directly. PullRequest/DefaultBranch uses it to check that
// a refused pull request moved no branch; without it that subtest checks
// through reads only.
type BranchReader interface {
	// BranchHead returns the commit id at the head of branch in repo, ""
	// when there is no such branch.
	BranchHead(repo, branch string) string
}
