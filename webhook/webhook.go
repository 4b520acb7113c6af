// Package webhook verifies and parses push events from GitHub, GitLab,
// Bitbucket Cloud and Bitbucket Server, and says which catalog files a push
// added, modified or removed, so that a catalog plugin re-reads only those
// instead of polling every repository.
//
// A [Receiver] serves one integration host: its signing secrets are known
// before a byte of the body is parsed, and an event that claims another
// host is refused. Mount one per host with [Receiver.Handler] (see the
// example ExampleReceiver_Handler); with a loaded configuration,
// New(cfg.Registry, "github.com", nil) takes the GitHub apps' webhookSecret.
//
// [Receiver.Parse] is the same as a plain function of the headers and body,
// for embedders with their own HTTP stack.
//
// # What each provider proves and tells
//
//   - GitHub: X-Hub-Signature-256 (HMAC-SHA256 of the body) with the
//     integration's app webhookSecret or [Options.Secrets] (an app's
//     secret signs every installation's events: an app limited by
//     allowedInstallationOwners has the events of other owners refused).
//     A hook of content type form (the REST API's default, on github.com
//     and GitHub Enterprise Server: Content-Type
//     application/x-www-form-urlencoded, the JSON in its one field,
//     payload) is verified over the body as sent, then unwrapped. The
//     push lists
//     each commit's added, modified and removed files, so the catalog
//     changes are exact unless GitHub truncated the commit list (2,048
//     commits) or the push was forced.
//   - GitLab: X-Gitlab-Token (the hook's secret token, compared in constant
//     time); the delivery id is Idempotency-Key (the same across retries
//     of one event), X-Gitlab-Event-UUID only without it (GitLab gives
//     recursive hooks' events the same one); the push lists files for at
//     most 20 commits
//     (total_commits_count tells when there were more).
//   - Bitbucket Cloud (repo:push) and Bitbucket Server (repo:refs_changed):
//     X-Hub-Signature (HMAC-SHA256 with the hook's secret). Their pushes
//     name the commits but not the files, so [Event.Complete] is false: the
//     caller re-reads the repository's catalog files (scm's FindFiles), one
//     search instead of a poll of every repository.
//
// A signature is required: a Receiver without a secret is refused at
// construction. Comparison is constant-time. The body is read up to
// [Options.MaxBodyBytes] (25 MiB by default, GitHub's own cap). A delivery
// id already seen (within [Options.DeliveryTTL]), or a body already seen
// under another id (a captured event replayed: the id header is not
// signed), is reported as a duplicate and not handled twice; the records
// are dropped again when the handler fails ([Receiver.Forget]), so that
// the provider's redelivery is handled. Both records are made in one
// atomic step when the store implements [DeliveryBatchStore]; when the
// store fails, whatever this delivery may have recorded is forgotten
// again before the provider is told to redeliver (see [DeliveryStore] for
// what a store without the batch step risks). In the rare case where the
// store fails on a redelivery that another replica is still handling,
// that replica's records are forgotten too, and the event may be handled
// twice: at least once, not at most once. The bodies carry no send time that
// every provider shares, so a captured delivery replayed after DeliveryTTL
// is verified again: treat
// an event as a hint to re-read the repository (as the Bitbucket
// providers require anyway), never as the state itself, and raise
// DeliveryTTL where a replay of an old push would matter.
//
// # Errors
//
// Every error is an *errcode.Error with Op "webhook.Parse":
// Unauthorized for a missing or wrong signature; InvalidArgument for a
// payload that is not the provider's JSON, names another host, or has no
// delivery id; AlreadyExists for a delivery already handled. The handler
// answers 401, 400, 413 (body too large) and 200 (a duplicate, so the
// provider does not retry it), with a short text; secrets and the body are
// never echoed.
package webhook

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

const op = "webhook.Parse"

// DefaultMaxBodyBytes is the default cap on a webhook body: GitHub caps its
// payloads at 25 MB.
const DefaultMaxBodyBytes = 25 << 20

// DefaultDeliveryTTL is how long a delivery id is remembered by default.
const DefaultDeliveryTTL = 24 * time.Hour

// Options configures a [Receiver]. A nil *Options means the defaults.
type Options struct {
	// Secrets are the hook's signing secrets, any of which is accepted
	// (several allow rotation). For a GitHub host with none given, the
	// webhookSecret of each of the integration's apps is used. A Receiver
	// with no secret at all is refused: unsigned events are never trusted.
	Secrets []integrations.Secret

	// CatalogFiles are the patterns (path.Match syntax) of catalog files.
	// A pattern without "/" matches a file's base name anywhere in the
	// repository; one with "/" matches the whole path. Default:
	// "catalog-info.yaml".
	CatalogFiles []string

	// MaxBodyBytes caps the body; default DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Deliveries remembers delivery ids so that a redelivered or replayed
	// event is handled once. Default: an in-memory store of at most
	// 100,000 ids; give a shared store when several replicas receive
	// events (redisstore's Store.Deliveries is one). A store that also
	// implements DeliveryBatchStore records a delivery in one atomic step.
	Deliveries DeliveryStore

	// DeliveryTTL is how long a delivery id is remembered; default
	// DefaultDeliveryTTL.
	DeliveryTTL time.Duration

	// DefaultBranch returns a repository's default branch, for providers
	// whose push payload does not name it (Bitbucket Cloud and Server).
	// When nil, or when it fails, a Bitbucket push to any branch is
	// reported, with Event.DefaultBranch empty. It is called only after the
	// signature is verified.
	DefaultBranch func(ctx context.Context, owner, repo string) (string, error)

	// Now is the clock; default time.Now.
	Now func() time.Time

	// Logger receives one line per refused or duplicate delivery at debug
	// level. Nil logs nothing.
	Logger *slog.Logger
}

// Action says what a push did to a catalog file.
type Action string

// The actions of a [Change].
const (
	Added    Action = "added"
	Modified Action = "modified"
	Removed  Action = "removed"
)

// Change is one catalog file a push added, modified or removed, net of the
// push's commits (added then removed is no change at all).
type Change struct {
	Path   string // slash-separated, from the repository root
	URL    string // the file's URL on the pushed branch, as scm and the catalog use it
	Action Action // Added, Modified or Removed
}

// OrgChange is what a GitHub organisation event changed in the
// organisation's members and teams ([Event.Org]).
type OrgChange struct {
	// Org is the organisation's login.
	Org string
	// User is the member's login: one who joined or left the
	// organisation, or a team (membership); "" for a team event.
	User string
	// Team is the team's slug: one created, edited or deleted, or whose
	// members changed (membership); "" for an organization event.
	Team string
	// Action is the event's action: "member_added", "member_removed",
	// "renamed", "deleted" (the organisation), "added", "removed" (a team
	// membership), "created", "edited" or "deleted" (a team). With
	// neither User nor Team, the organisation itself changed: renamed or
	// deleted (organization event), renamed (installation_target event),
	// or the GitHub App "created" (installed), "deleted", "suspend",
	// "unsuspend" or "new_permissions_accepted" there (installation
	// event): read the organisations again.
	Action string
	// From is the organisation's former login, for "renamed".
	From string
}

// Event is a verified event.
type Event struct {
	// Provider is the kind of the integration the event came through.
	Provider integrations.Kind
	// Host is that integration's host, the one the Receiver was made for.
	Host string
	// Delivery is the provider's delivery id: X-GitHub-Delivery; GitLab's
	// Idempotency-Key (the same across its retries), or X-Gitlab-Event-UUID
	// without one; Bitbucket Cloud's X-Request-UUID; Data Center's
	// X-Request-Id.
	Delivery string
	// Name is the provider's event name: "push", "Push Hook", "repo:push",
	// "repo:refs_changed", or another event's name.
	Name string

	// Owner and Repo name the repository as scm does: a GitHub
	// organisation or user, a GitLab group path ("acme/platform"), a
	// Bitbucket Cloud workspace or a Bitbucket Server project key; and
	// the repository's name (slug).
	Owner, Repo string
	// RepoURL is the repository's URL as the registry writes it.
	RepoURL string
	// Branch is the pushed branch; "" for tags and other events.
	Branch string
	// DefaultBranch is the repository's default branch, "" when unknown.
	DefaultBranch string
	// Before and After are the branch's commit before and after the push;
	// Before is empty for a new branch, After for a deleted one.
	Before, After string

	// Changes lists the catalog files added, modified or removed on the
	// default branch, sorted by path.
	Changes []Change
	// Complete is true when Changes is exact. When false, the payload did
	// not list every file (Bitbucket, a truncated commit list, a forced
	// push, a deleted branch, a file path that is not one of the
	// repository's): re-read the repository's catalog files.
	Complete bool
	// Incomplete says why Complete is false.
	Incomplete string
	// Ignored, when not empty, says why the event changes no catalog
	// file: not a push, a tag, a branch other than the default.
	Ignored string

	// Org, for a GitHub organisation event (organization member_added,
	// member_removed, renamed or deleted; membership; team created,
	// edited or deleted; a GitHub App's installation on an organisation
	// created, deleted, suspended, unsuspended or given new permissions;
	// installation_target renamed), names the member and team that
	// changed (neither when the organisation itself, or the app's
	// installation there, changed): read them again, with
	// githuborg's Reader.Update (its Change has the same names); the
	// payload's copy of them may be stale (deliveries come out of order,
	// and may be replayed). Nil for every other event.
	Org *OrgChange

	bodyKey string // the delivery record of the body's digest
	// account is the account a GitHub App installation's event comes
	// from (installation.account, or the organization), for an event
	// that names no repository.
	account string
}

// Receiver verifies and parses the events of one integration host. It is
// safe for concurrent use. The zero Receiver is not usable: make one with
// [New] (its methods then fail with InvalidArgument, and its handler
// answers 500).
type Receiver struct {
	reg      *integrations.Registry
	in       *integrations.Integration
	secrets  [][]byte
	owners   [][]string // by secret: the owners it serves; nil: every owner
	patterns []string
	max      int64
	store    DeliveryStore
	ttl      time.Duration
	branch   func(ctx context.Context, owner, repo string) (string, error)
	now      func() time.Time
	log      *slog.Logger
}

// New returns a Receiver for the integration of host in reg. It fails with
// InvalidArgument when host has no integration, when a pattern is
// malformed, or when no signing secret is configured.
func New(reg *integrations.Registry, host string, opts *Options) (*Receiver, error) {
	const op = "webhook.New"
	if opts == nil {
		opts = &Options{}
	}
	in, ok := reg.ByHost(host)
	if !ok {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "no integration for host %q", host)
	}
	r := &Receiver{
		reg: reg, in: in,
		patterns: opts.CatalogFiles,
		max:      opts.MaxBodyBytes,
		store:    opts.Deliveries,
		ttl:      opts.DeliveryTTL,
		branch:   opts.DefaultBranch,
		now:      opts.Now,
		log:      opts.Logger,
	}
	for _, s := range opts.Secrets {
		if !s.IsZero() {
			r.secrets = append(r.secrets, []byte(s.Reveal()))
			r.owners = append(r.owners, nil)
		}
	}
	if len(r.secrets) == 0 && in.GitHub != nil {
		r.appSecrets(in.GitHub.Apps)
	}
	if len(r.secrets) == 0 {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "no webhook secret for %s (%s): set Options.Secrets or an app's webhookSecret; unsigned events are never accepted", in.Host, in.ConfigPath)
	}
	if len(r.patterns) == 0 {
		r.patterns = []string{"catalog-info.yaml"}
	}
	for _, p := range r.patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "catalog file pattern %q: %v", p, err)
		}
	}
	if r.max <= 0 {
		r.max = DefaultMaxBodyBytes
	}
	if r.ttl <= 0 {
		r.ttl = DefaultDeliveryTTL
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.store == nil {
		r.store = NewMemoryDeliveries(100_000, r.now)
	}
	return r, nil
}

// appSecrets takes the webhook secrets of a host's GitHub Apps, each with
// the owners its apps serve: an app's secret signs the events of every
// installation, and anyone may install a public app, so an app limited by
// allowedInstallationOwners serves events of those owners only. A secret
// shared by apps serves the union; by one without the list, every owner.
func (r *Receiver) appSecrets(apps []integrations.GitHubAppConfig) {
	for _, app := range apps {
		if app.WebhookSecret.IsZero() {
			continue
		}
		s := []byte(app.WebhookSecret.Reveal())
		var owners []string // nil: every owner, as an empty list is for the app's tokens
		if len(app.AllowedInstallationOwners) > 0 {
			owners = slices.Clone(app.AllowedInstallationOwners)
		}
		i := slices.IndexFunc(r.secrets, func(have []byte) bool { return bytes.Equal(have, s) })
		switch {
		case i < 0:
			r.secrets = append(r.secrets, s)
			r.owners = append(r.owners, owners)
		case r.owners[i] != nil && owners != nil:
			r.owners[i] = append(r.owners[i], owners...)
		default:
			r.owners[i] = nil
		}
	}
}

// errZero is the error of a method of a Receiver not made by [New].
func (r *Receiver) errZero(op string) error {
	if r == nil || r.in == nil {
		return errcode.New(errcode.InvalidArgument, op, "webhook.Receiver not initialised; use webhook.New")
	}
	return nil
}

// Host returns the integration host the receiver serves ("" for a
// Receiver not made by [New]).
func (r *Receiver) Host() string {
	if r == nil || r.in == nil {
		return ""
	}
	return r.in.Host
}

// String describes r without its secrets.
func (r *Receiver) String() string {
	if r == nil || r.in == nil {
		return "webhook receiver (not initialised)"
	}
	return fmt.Sprintf("webhook receiver for %s (%s, %d secrets)", r.in.Host, r.in.Kind, len(r.secrets))
}

// Format prints String under every verb: the receiver holds the hook's
// signing secrets, which %v or %#v of the struct would print.
func (r *Receiver) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue shows r in log/slog output without its secrets.
func (r *Receiver) LogValue() slog.Value {
	if r == nil || r.in == nil {
		return slog.StringValue(r.String())
	}
	return slog.GroupValue(slog.String("host", r.in.Host), slog.String("kind", string(r.in.Kind)))
}

// Parse verifies the signature of an event's body, parses it and records
// its delivery id. It does not modify header or body. Errors are
// *errcode.Error values: Unauthorized for a missing or wrong signature or
// token (checked before the body is parsed); InvalidArgument for a body
// over Options.MaxBodyBytes, a malformed payload or a missing delivery id;
// Unavailable when the delivery store fails; Canceled or DeadlineExceeded
// when ctx has ended. A delivery already handled returns the event AND an
// AlreadyExists error: answer the provider 200 and do not handle it again.
// When your handling of a new event fails, call [Receiver.Forget] so that
// the provider's redelivery is handled.
func (r *Receiver) Parse(ctx context.Context, header http.Header, body []byte) (*Event, error) {
	if err := r.errZero(op); err != nil {
		return nil, err
	}
	if err := errcode.FromContext(ctx, op); err != nil {
		return nil, err
	}
	if int64(len(body)) > r.max {
		return nil, r.fail(errcode.InvalidArgument, "body of %d bytes is over the %d-byte limit", len(body), r.max)
	}
	signer, err := r.verify(header, body)
	if err != nil {
		return nil, err
	}
	var ev *Event
	switch r.in.Kind {
	case integrations.GitHub:
		ev, err = r.github(header, body)
	case integrations.GitLab:
		ev, err = r.gitlab(header, body)
	case integrations.BitbucketCloud:
		ev, err = r.bitbucketCloud(ctx, header, body)
	case integrations.BitbucketServer:
		ev, err = r.bitbucketServer(ctx, header, body)
	default:
		err = r.fail(errcode.InvalidArgument, "unsupported integration kind %q", r.in.Kind)
	}
	if err != nil {
		return nil, err
	}
	if owners := r.owners[signer]; owners != nil {
		// The app's secret signs the events of every installation of
		// the app, on any account: serve only those of its owners.
		owner := cmp.Or(ev.Owner, ev.account)
		switch {
		case owner == "" && (ev.Name == "ping" || ev.Name == "github_app_authorization"):
			// The App's own events: of no installation, so of no owner.
		case owner == "":
			return nil, r.fail(errcode.InvalidArgument, "the event names no repository, installation account or organization, and the GitHub App's allowedInstallationOwners serves only named owners")
		case !slices.ContainsFunc(owners, func(o string) bool { return strings.EqualFold(o, owner) }):
			return nil, r.fail(errcode.InvalidArgument, "events of %s are not served: the GitHub App's allowedInstallationOwners leaves it out", owner)
		}
	}
	if ev.Delivery == "" {
		return nil, r.fail(errcode.InvalidArgument, "no delivery id header")
	}
	if len(ev.Delivery) > maxDeliveryID {
		return nil, r.fail(errcode.InvalidArgument, "delivery id longer than %d bytes", maxDeliveryID)
	}
	// The delivery id is a header, outside what GitHub and Bitbucket
	// sign: a captured event replayed under a fresh id would pass a check
	// of ids alone. The signed body's digest is recorded too, and checked
	// first, so that replays do not fill the store with fresh ids.
	sum := sha256.Sum256(body)
	ev.bodyKey = r.deliveryKey("sha256:" + hex.EncodeToString(sum[:]))
	seen, err := r.record(ctx, []string{ev.bodyKey, r.deliveryKey(ev.Delivery)})
	if err != nil {
		// Unavailable whatever the store said: a store error must not
		// read as a duplicate.
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: string(r.in.Kind), Host: r.in.Host, Msg: "recording the delivery", Err: err}
	}
	if seen {
		return ev, r.fail(errcode.AlreadyExists, "delivery %q already handled", ev.Delivery)
	}
	return ev, nil
}

// record checks and records keys (the body's digest first) and reports
// whether one was recorded already. When the store fails, Parse answers
// Unavailable so that the provider redelivers; the keys this call may have
// recorded are then forgotten, or the redelivery would be refused as a
// duplicate and never handled. A [DeliveryBatchStore] takes back what its
// failed SeenAny recorded itself (only it can tell its records from
// another replica's); with a plain store, the Receiver forgets the keys up
// to the failing one. Forgetting is best effort: its error is logged, not
// returned.
func (r *Receiver) record(ctx context.Context, keys []string) (bool, error) {
	if b, ok := r.store.(DeliveryBatchStore); ok {
		return b.SeenAny(ctx, keys, r.ttl)
	}
	for i, k := range keys {
		seen, err := r.store.Seen(ctx, k, r.ttl)
		if err != nil {
			r.undo(ctx, keys[:i+1])
			return false, err
		}
		if seen {
			return true, nil
		}
	}
	return false, nil
}

// undo forgets keys after the store failed to record them, even when ctx
// has ended.
func (r *Receiver) undo(ctx context.Context, keys []string) {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, k := range keys {
		errs = append(errs, r.store.Forget(ctx, k))
	}
	if err := errors.Join(errs...); err != nil {
		r.debug(ctx, "webhook delivery half recorded; its redelivery may be taken for a duplicate", "error", err)
	}
}

// maxDeliveryID bounds a delivery id (providers send UUIDs).
const maxDeliveryID = 256

func (r *Receiver) deliveryKey(id string) string {
	return string(r.in.Kind) + "/" + r.in.Host + "/" + id
}

// Forget drops the records of ev's delivery, so that the provider's
// redelivery of an event whose handling failed is handled rather than
// ignored as a duplicate. [Receiver.Handler] calls it when its function
// fails; callers of [Receiver.Parse] call it likewise.
func (r *Receiver) Forget(ctx context.Context, ev *Event) error {
	if err := r.errZero("webhook.Forget"); err != nil {
		return err
	}
	if ev == nil || ev.Delivery == "" {
		return nil
	}
	err := r.store.Forget(ctx, r.deliveryKey(ev.Delivery))
	if ev.bodyKey != "" {
		err = errors.Join(err, r.store.Forget(ctx, ev.bodyKey))
	}
	if err != nil {
		return &errcode.Error{Code: errcode.Unavailable, Op: "webhook.Forget", Provider: string(r.in.Kind), Host: r.in.Host, Msg: "forgetting the delivery", Err: err}
	}
	return nil
}

// verify checks the event's signature against every secret and returns
// the index of the one that signed it.
func (r *Receiver) verify(h http.Header, body []byte) (int, error) {
	switch r.in.Kind {
	case integrations.GitLab:
		got := h.Get("X-Gitlab-Token")
		if got == "" {
			return 0, r.fail(errcode.Unauthorized, "no X-Gitlab-Token header")
		}
		// Compare digests, so that neither the secret's length nor its
		// prefix is told by the time taken.
		g := sha256.Sum256([]byte(got))
		for i, s := range r.secrets {
			w := sha256.Sum256(s)
			if hmac.Equal(g[:], w[:]) {
				return i, nil
			}
		}
		return 0, r.fail(errcode.Unauthorized, "X-Gitlab-Token does not match the hook's secret")
	default:
		name := "X-Hub-Signature"
		if r.in.Kind == integrations.GitHub {
			name = "X-Hub-Signature-256"
		}
		sig := h.Get(name)
		hexSig, ok := strings.CutPrefix(sig, "sha256=")
		if sig == "" {
			return 0, r.fail(errcode.Unauthorized, "no %s header", name)
		}
		got, err := hex.DecodeString(hexSig)
		if !ok || err != nil || len(got) != sha256.Size {
			return 0, r.fail(errcode.Unauthorized, "%s is not an HMAC-SHA256 signature (want sha256=<64 hex digits>)", name)
		}
		for i, s := range r.secrets {
			m := hmac.New(sha256.New, s)
			m.Write(body)
			if hmac.Equal(got, m.Sum(nil)) {
				return i, nil
			}
		}
		return 0, r.fail(errcode.Unauthorized, "%s does not match the body signed with the hook's secret", name)
	}
}

// fail builds a refusal; its text never holds a secret or the body.
func (r *Receiver) fail(code errcode.Code, format string, args ...any) error {
	return &errcode.Error{Code: code, Op: op, Provider: string(r.in.Kind), Host: r.in.Host, Msg: fmt.Sprintf(format, args...)}
}

// Handler returns an http.Handler that reads the body (up to the cap),
// parses it with [Receiver.Parse] and calls fn with each new event, in
// the request's context. It answers 204 when fn succeeds, 200 for a
// duplicate delivery, 400, 401 or 413 for refused events, 405 for a method
// other than POST, 503 when the delivery store fails, and 500 when fn
// fails (the delivery is forgotten, so the provider's redelivery is
// handled).
func (r *Receiver) Handler(fn func(ctx context.Context, ev *Event) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.errZero("webhook.Handler") != nil {
			http.Error(w, "webhook receiver not initialised (use webhook.New)", http.StatusInternalServerError)
			return
		}
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "webhooks are POSTed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.max))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				r.debug(req.Context(), "webhook refused", "reason", "body too large")
				http.Error(w, fmt.Sprintf("body over the %d-byte limit", r.max), http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "reading the body failed", http.StatusBadRequest)
			return
		}
		ev, err := r.Parse(req.Context(), req.Header, body)
		switch errcode.CodeOf(err) {
		case errcode.OK:
		case errcode.AlreadyExists:
			r.debug(req.Context(), "duplicate webhook delivery", "delivery", ev.Delivery)
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "duplicate delivery, already handled\n")
			return
		case errcode.Unauthorized:
			r.debug(req.Context(), "webhook refused", "error", err)
			http.Error(w, "signature missing or wrong", http.StatusUnauthorized)
			return
		case errcode.Canceled, errcode.DeadlineExceeded:
			http.Error(w, "request ended", http.StatusServiceUnavailable)
			return
		case errcode.Unavailable:
			r.debug(req.Context(), "webhook not recorded", "error", err)
			http.Error(w, "delivery store unavailable, retry later", http.StatusServiceUnavailable)
			return
		default:
			r.debug(req.Context(), "webhook refused", "error", err)
			msg := "invalid event"
			var e *errcode.Error
			if errors.As(err, &e) && e.Msg != "" {
				msg = e.Msg
			}
			http.Error(w, msg, http.StatusBadRequest)
			return
		}
		if err := fn(req.Context(), ev); err != nil {
			_ = r.Forget(context.WithoutCancel(req.Context()), ev)
			r.debug(req.Context(), "webhook handler failed", "delivery", ev.Delivery, "error", err)
			http.Error(w, "handling the event failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (r *Receiver) debug(ctx context.Context, msg string, args ...any) {
	if r.log != nil {
		r.log.DebugContext(ctx, msg, append(args, "host", r.in.Host)...)
	}
}
