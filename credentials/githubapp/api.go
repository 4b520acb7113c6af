package githubapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/credentials/internal/tokencache"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

const (
	maxBody      = 1 << 20 // an installation or a token
	maxListBody  = 8 << 20 // a page of 100 repositories
	maxMsgLength = 300
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// call is one GitHub API request.
type call struct {
	op     string
	method string
	url    string // absolute
	what   string // "GET /orgs/acme/installation", for messages
	bearer string
	// auth says what bearer is, for a 401's message: "jwt" or
	// "installation".
	auth    string
	body    []byte
	maxBody int64
	// etag, if set, is sent as If-None-Match: an answer 304 Not Modified
	// is then errNotModified, not a redirect.
	etag string
}

// errNotModified is do's error for a 304 answer to a call with an etag.
var errNotModified = errors.New("githubapp: not modified")

// do sends c, decodes a 2xx answer into out (if not nil) and returns the
// response headers. Retries and rate-limit waits happen below, in the
// App's httpx transport (see New); errors are classified *errcode.Error.
// A failure that the retries could not mend (Unavailable, RateLimited) is
// logged at Warn when the App has a Logger: once a minute at most, with
// the number of such failures left out since the last record.
func (a *App) do(ctx context.Context, c call, out any) (http.Header, error) {
	if c.auth == "jwt" {
		if err := a.rateLimitedUntil(c); err != nil {
			return nil, err
		}
	}
	h, err := a.send(ctx, c, out)
	if c.auth == "jwt" {
		a.noteRateLimit(err)
	}
	if a.log != nil && err != nil && ctx.Err() == nil {
		if code := errcode.CodeOf(err); code == errcode.Unavailable || code == errcode.RateLimited {
			if ok, leftOut := a.warns.Allow(a.now()); ok {
				a.log.WarnContext(ctx, "githubapp: a GitHub API call failed after the retry policy's attempts",
					"app", a.label, "host", a.host, "call", c.what, "code", code.String(), "error", err.Error(),
					"failures_left_out", leftOut)
			}
		}
	}
	return h, err
}

// rateLimitedUntil returns RateLimited, without a request, while GitHub's
// last answer to a call authenticated as the app said that the app's
// limit is spent (a RetryAt later than the app waits): every call asking
// again would be refused too, and would spend the caller's time.
func (a *App) rateLimitedUntil(c call) error {
	a.rlMu.Lock()
	until := a.rlUntil
	a.rlMu.Unlock()
	if until.IsZero() || !a.now().Before(until) {
		return nil
	}
	return &errcode.Error{Code: errcode.RateLimited, Op: c.op, Provider: provider, Host: a.host, RetryAt: until,
		Msg: "GitHub rate-limits " + a.label + " until " + until.UTC().Format(time.RFC3339) + "; " + c.what + " is not asked before then"}
}

// rateLimitKept bounds how long an App remembers that GitHub rate-limits
// it: after it, GitHub is asked again, whatever reset it named.
const rateLimitKept = 5 * time.Minute

// noteRateLimit remembers the RetryAt of a RateLimited answer to a call
// authenticated as the app, for rateLimitKept at most.
func (a *App) noteRateLimit(err error) {
	e, ok := errors.AsType[*errcode.Error](err)
	if !ok || e.Code != errcode.RateLimited || !e.RetryAt.After(a.now()) {
		return
	}
	// Kept rateLimitKept at most: a reset a year away (a misbehaving
	// proxy) must not stop the app for a year.
	until := e.RetryAt
	if limit := a.now().Add(rateLimitKept); until.After(limit) {
		until = limit
	}
	a.rlMu.Lock()
	if until.After(a.rlUntil) {
		a.rlUntil = until
	}
	a.rlMu.Unlock()
}

// send is do without the log record.
func (a *App) send(ctx context.Context, c call, out any) (http.Header, error) {
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, body)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: c.op, Provider: provider, Host: a.host,
			Msg: "cannot build the request " + c.what + "; check the integration's apiBaseUrl", Err: err}
	}
	req.Header.Set("Accept", mediaType)
	req.Header.Set("X-GitHub-Api-Version", apiVersion)
	req.Header.Set("User-Agent", a.userAgent)
	req.Header.Set("Authorization", "Bearer "+c.bearer)
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.etag != "" {
		req.Header.Set("If-None-Match", c.etag)
	}
	if c.method == http.MethodPost {
		// Minting is safe to repeat (another short-lived token is
		// issued), so it is retried as an idempotent request. A nil
		// Idempotency-Key marks it so for net/http and httpx, and is not
		// sent.
		req.Header["Idempotency-Key"] = nil
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, a.sendError(ctx, c, err)
	}
	defer func() {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody)) //nolint:errcheck // draining for connection reuse
		resp.Body.Close()
	}()
	limit := c.maxBody
	if limit == 0 {
		limit = maxBody
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, a.ctxError(ctx, c)
		}
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: c.op, Provider: provider, Host: a.host, Status: resp.StatusCode,
			Msg: "GitHub's answer to " + c.what + " was cut off", Err: err}
	}
	if int64(len(data)) > limit {
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: c.op, Provider: provider, Host: a.host, Status: resp.StatusCode,
			Msg: "GitHub's answer to " + c.what + " is larger than " + strconv.FormatInt(limit, 10) + " bytes; check the integration's apiBaseUrl"}
	}
	if resp.StatusCode == http.StatusNotModified && c.etag != "" {
		return resp.Header, errNotModified
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, a.redirectError(c, resp)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				return nil, a.garbage(c, resp, err)
			}
		}
		return resp.Header, nil
	}
	return nil, a.statusError(c, resp, data)
}

func (a *App) ctxError(ctx context.Context, c call) error {
	code := errcode.Canceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		code = errcode.DeadlineExceeded
	}
	return &errcode.Error{Code: code, Op: c.op, Provider: provider, Host: a.host,
		Msg: "GitHub did not answer " + c.what + " before the caller's context ended", Err: ctx.Err()}
}

// sendError is the error of a round trip that returned no answer: the
// caller's context ended, the transport gave up (a network failure after
// its retries), or it refused to wait as long as GitHub asked (a
// RateLimited or Unavailable *errcode.Error with RetryAt).
func (a *App) sendError(ctx context.Context, c call, err error) error {
	if ctx.Err() != nil {
		return a.ctxError(ctx, c)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // names the method and URL, which c.what does
	}
	var ce *errcode.Error
	if errors.As(err, &ce) && ce.Status != 0 {
		e := &errcode.Error{Code: ce.Code, Op: c.op, Provider: provider, Host: a.host, Status: ce.Status, RetryAt: ce.RetryAt}
		what := "failed"
		if ce.Code == errcode.RateLimited {
			what = "rate-limited " + a.label + " on"
		}
		e.Msg = "GitHub " + what + " " + c.what + " (HTTP " + strconv.Itoa(ce.Status) + ") and asks to wait until " +
			ce.RetryAt.UTC().Format(time.RFC3339) + ", later than the app waits (MaxRateLimitWait, or the caller's deadline)"
		return e
	}
	code := errcode.Unavailable
	if ce != nil && ce.Code == errcode.InvalidArgument {
		code = errcode.InvalidArgument
	}
	return &errcode.Error{Code: code, Op: c.op, Provider: provider, Host: a.host,
		Msg: "cannot reach GitHub for " + c.what + "; check the integration's apiBaseUrl and the network", Err: err}
}

// redirectError is the error for a 3xx answer, which the App's client
// does not follow: the JWT or installation token must not go anywhere but
// the API base URL. The message names where the redirect pointed, without
// its query, fragment or user info.
func (a *App) redirectError(c call, resp *http.Response) error {
	where := "no Location"
	if loc := resp.Header.Get("Location"); loc != "" {
		where = "an unparseable Location"
		if u, err := resp.Request.URL.Parse(loc); err == nil {
			u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
			where = u.String()
		}
	}
	return &errcode.Error{Code: errcode.Unavailable, Op: c.op, Provider: provider, Host: a.host, Status: resp.StatusCode,
		Msg: "GitHub answered " + c.what + " with an unexpected redirect (HTTP " + strconv.Itoa(resp.StatusCode) + ") to " + where +
			", which is not followed with the app's credentials; check the integration's apiBaseUrl"}
}

// isRedirect reports whether err is redirectError's.
func isRedirect(err error) bool {
	var e *errcode.Error
	return errors.As(err, &e) && e.Status >= 300 && e.Status < 400
}

// garbage is the error for a 2xx answer that is not the JSON GitHub
// documents: usually an apiBaseUrl that points at a web page or a proxy.
func (a *App) garbage(c call, resp *http.Response, err error) error {
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return &errcode.Error{Code: errcode.Unavailable, Op: c.op, Provider: provider, Host: a.host, Status: resp.StatusCode,
		Msg: "GitHub answered " + c.what + " with something that is not the expected JSON (Content-Type " + strconv.Quote(ct) +
			"); check that the integration's apiBaseUrl is the REST API (https://HOST/api/v3 on GitHub Enterprise Server)",
		Err: err}
}

// statusError classifies a non-2xx answer that the transport no longer
// retries. The code is httpx.Classify's, the one mapping of statuses that
// every package shares; the messages, and two GitHub App specifics (a
// suspended installation; a 422 for a permission the installation does
// not grant, which is PermissionDenied), are this package's.
func (a *App) statusError(c call, resp *http.Response, body []byte) error {
	msg := githubMessage(body)
	detail := "HTTP " + strconv.Itoa(resp.StatusCode)
	if msg != "" {
		detail += ": " + msg
	}
	resp.Body = io.NopCloser(bytes.NewReader(body)) // for Classify's look at a 403's message
	cl := httpx.Classify(resp, a.now())
	e := &errcode.Error{Code: cl.Code, Op: c.op, Provider: provider, Host: a.host, Status: resp.StatusCode}
	switch s := resp.StatusCode; {
	case cl.Code == errcode.Unauthorized && cl.Hint != "":
		e.Msg = "GitHub rejected the credentials of " + a.label + " for " + c.what + " (" + detail + "): " + cl.Hint
	case cl.Code == errcode.Unauthorized && c.auth == "jwt":
		e.Msg = "GitHub rejected the JWT of " + a.label + " for " + c.what + " (" + detail +
			"); check that appId and privateKey belong to the same app, and that this machine's clock is right"
	case cl.Code == errcode.Unauthorized:
		e.Msg = "GitHub rejected the installation token of " + a.label + " for " + c.what + " (" + detail + ")"
	case cl.Code == errcode.RateLimited:
		e.RetryAt = cl.RetryAt
		e.Msg = "GitHub rate-limited " + a.label + " on " + c.what + " (" + detail + ")"
	case cl.Code == errcode.PermissionDenied && strings.Contains(strings.ToLower(msg), "suspended"):
		e.Err = ErrSuspended
		e.Msg = "GitHub refused " + c.what + " because " + a.label + "'s installation is suspended (" + detail +
			"); an owner of the account must unsuspend it in the installation's settings"
	case cl.Code == errcode.PermissionDenied:
		e.Msg = "GitHub refused " + c.what + " for " + a.label + " (" + detail + ")"
	case s == http.StatusUnprocessableEntity:
		e.Code = errcode.PermissionDenied
		e.Msg = "GitHub refused " + c.what + " for " + a.label + " (" + detail +
			"); the installation does not grant a permission or repository the token asks for: check the requested permissions against the app's, and accept pending permission requests in the installation's settings"
	case cl.Code == errcode.InvalidArgument:
		e.Msg = "GitHub refused " + c.what + " for " + a.label + " as malformed (" + detail + ")"
	case cl.Code == errcode.Unavailable:
		e.Msg = "GitHub failed " + c.what + " (" + detail + ")"
	default:
		e.Msg = "GitHub answered " + c.what + " with " + detail
	}
	return e
}

// githubMessage extracts "message" from GitHub's error body, shortened and
// on one line. GitHub's messages describe the failure; they never echo a
// credential.
func githubMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	m := strings.Join(strings.Fields(e.Message), " ")
	if len(m) > maxMsgLength {
		m = m[:maxMsgLength] + "…"
	}
	return m
}

type installationJSON struct {
	ID      int64 `json:"id"`
	AppID   int64 `json:"app_id"`
	Account struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"account"`
	RepositorySelection string            `json:"repository_selection"`
	Permissions         map[string]string `json:"permissions"`
	SuspendedAt         *time.Time        `json:"suspended_at"`
	SuspendedBy         *json.RawMessage  `json:"suspended_by"`
}

func (j *installationJSON) installation(owner string) *Installation {
	inst := &Installation{
		ID: j.ID, AppID: j.AppID, Account: j.Account.Login, AccountType: j.Account.Type,
		RepositorySelection: j.RepositorySelection, Permissions: maps.Clone(j.Permissions),
		Suspended: j.SuspendedAt != nil || (j.SuspendedBy != nil && string(*j.SuspendedBy) != "null"),
	}
	if inst.Account == "" {
		inst.Account = owner
	}
	return inst
}

// Owner endpoints, by the kind of account they answer for.
const (
	kindOrg  = "orgs"
	kindUser = "users"
)

// lookup finds the installation for owner. With a repository, it asks GET
// /repos/{owner}/{repo}/installation, which answers for organisations and
// users alike. Without one, or when that answers 404 or a redirect (the
// repository does not exist, was renamed, or is outside a
// selected-repositories installation), it asks the owner endpoints: GET
// /orgs/{owner}/installation, then GET /users/{owner}/installation when the
// first answers 404, starting with the one that answered for this owner
// before.
func (a *App) lookup(ctx context.Context, owner, repo string) (*Installation, time.Time, error) {
	const op = "githubapp.Installation"
	burst, done := a.coldStart(owner)
	defer done()
	if inst, exp, err, ok := a.fromRoster(ctx, owner, burst); ok {
		return inst, exp, err
	}
	jwt, err := a.JWT(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	var raw installationJSON
	c := call{op: op, method: http.MethodGet, bearer: jwt.Token, auth: "jwt"}
	if repo != "" && validLogin(repo) {
		path := "/repos/" + owner + "/" + repo + "/installation"
		c.url, c.what = a.apiBase+path, "GET "+path
		_, err = a.do(ctx, c, &raw)
		// An installation of another account (the repository moved there)
		// is not owner's: the owner endpoints decide.
		if err == nil && (raw.Account.Login == "" || strings.EqualFold(raw.Account.Login, owner)) {
			inst, exp, err := a.found(c, owner, "", &raw)
			if err == nil && inst.RepositorySelection == selected {
				// The answer names the installation covering repo: it
				// is one of the selected repositories.
				a.prove(inst.ID, repo)
			}
			return inst, exp, err
		}
		if err != nil && errcode.CodeOf(err) != errcode.NotFound && !isRedirect(err) {
			return nil, time.Time{}, err
		}
	}
	kinds := [2]string{kindOrg, kindUser}
	if a.kindOf(owner) == kindUser {
		kinds = [2]string{kindUser, kindOrg}
	}
	for _, kind := range kinds {
		path := "/" + kind + "/" + owner + "/installation"
		c.url, c.what = a.apiBase+path, "GET "+path
		raw = installationJSON{}
		_, err = a.do(ctx, c, &raw)
		if errcode.CodeOf(err) == errcode.NotFound {
			continue
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		return a.found(c, owner, kind, &raw)
	}
	return nil, time.Time{}, tokencache.Remember(a.notInstalled(owner, http.StatusNotFound), a.now().Add(a.notInstalledTTL))
}

// found checks an installation GitHub answered c with, and remembers which
// owner endpoint answers for its account: the one its account type calls
// for, else kind, the owner endpoint that answered ("" for the repository
// endpoint).
func (a *App) found(c call, owner, kind string, raw *installationJSON) (*Installation, time.Time, error) {
	if raw.ID <= 0 {
		return nil, time.Time{}, &errcode.Error{Code: errcode.Unavailable, Op: c.op, Provider: provider, Host: a.host, Status: http.StatusOK,
			Msg: "GitHub answered " + c.what + " without an installation id; check that the integration's apiBaseUrl is the REST API"}
	}
	inst := raw.installation(owner)
	switch inst.AccountType {
	case "User":
		kind = kindUser
	case "Organization":
		kind = kindOrg
	}
	if kind != "" {
		a.setKind(owner, kind)
	}
	// A suspended one is looked at again as soon as "not installed" would
	// be: an owner who unsuspends it expects the app to work within
	// minutes.
	return inst, a.expiryOf(inst, a.now()), nil
}

func (a *App) kindOf(owner string) string {
	a.kindsMu.Lock()
	defer a.kindsMu.Unlock()
	return a.kinds[lowerASCII(owner)]
}

func (a *App) setKind(owner, kind string) {
	a.kindsMu.Lock()
	defer a.kindsMu.Unlock()
	if a.kinds == nil {
		a.kinds = make(map[string]string)
	}
	a.kinds[lowerASCII(owner)] = kind
}

type tokenJSON struct {
	Token               string            `json:"token"`
	ExpiresAt           time.Time         `json:"expires_at"`
	Permissions         map[string]string `json:"permissions"`
	RepositorySelection string            `json:"repository_selection"`
}

// mint creates an installation access token:
// POST /app/installations/{id}/access_tokens.
func (a *App) mint(ctx context.Context, inst *Installation) (*Token, time.Time, error) {
	const op = "githubapp.Token"
	jwt, err := a.JWT(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	id := strconv.FormatInt(inst.ID, 10)
	c := call{op: op, method: http.MethodPost, url: a.apiBase + "/app/installations/" + id + "/access_tokens",
		what: "POST /app/installations/" + id + "/access_tokens", bearer: jwt.Token, auth: "jwt", body: a.perms}
	var raw tokenJSON
	_, err = a.do(ctx, c, &raw)
	switch {
	case errcode.CodeOf(err) == errcode.NotFound:
		e := err.(*errcode.Error)
		e.Msg, e.Err = a.label+"'s installation "+id+" for "+inst.Account+" no longer exists", errInstallationGone
		return nil, time.Time{}, e
	case errors.Is(err, ErrSuspended):
		// Remembered like "not installed", so that callers get it without
		// a POST each until an owner may have unsuspended it.
		return nil, time.Time{}, tokencache.Remember(a.suspended(inst.ID, inst.Account, http.StatusForbidden), a.now().Add(a.notInstalledTTL))
	case err != nil:
		return nil, time.Time{}, err
	}
	now := a.now()
	switch {
	case raw.Token == "" || raw.ExpiresAt.IsZero():
		return nil, time.Time{}, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: a.host, Status: http.StatusCreated,
			Msg: "GitHub answered " + c.what + " without a token or its expiry; check that the integration's apiBaseUrl is the REST API"}
	case !raw.ExpiresAt.After(now):
		return nil, time.Time{}, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: a.host, Status: http.StatusCreated,
			Msg: "GitHub answered " + c.what + " with a token that expired at " + raw.ExpiresAt.UTC().Format(time.RFC3339) +
				", before this machine's time " + now.UTC().Format(time.RFC3339) + "; check this machine's clock"}
	}
	sel := raw.RepositorySelection
	if sel == "" {
		sel = inst.RepositorySelection
	}
	perms := raw.Permissions
	if perms == nil {
		perms = inst.Permissions
	}
	return &Token{
		Token: raw.Token, ExpiresAt: raw.ExpiresAt, AppID: a.id, InstallationID: inst.ID,
		Source: a.path + " installation " + id, RepositorySelection: sel, Permissions: perms, minted: now,
	}, raw.ExpiresAt, nil
}

// listRepositories lists a selected-repositories installation's
// repositories with its token: GET /installation/repositories, 100 a page,
// following Link rel="next" on the API's own host only (a link elsewhere
// leaves the set partial), each page once.
func (a *App) listRepositories(ctx context.Context, id int64, tok *Token) (*repoSet, error) {
	const op = "githubapp.Token"
	set := &repoSet{names: make(map[string]struct{}), fetched: a.now()}
	next := a.apiBase + "/installation/repositories?per_page=100"
	seen := map[string]bool{}
	for page := 0; next != ""; page++ {
		if k := samePage(next); seen[k] {
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: a.host,
				Msg: "GitHub's listing of installation " + strconv.FormatInt(id, 10) + "'s repositories links back to a page it already sent"}
		} else {
			seen[k] = true
		}
		if page == maxRepoPages {
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: a.host,
				Msg: "installation " + strconv.FormatInt(id, 10) + " lists more than " + strconv.Itoa(maxRepoPages*100) + " repositories; give it access to all repositories instead"}
		}
		c := call{op: op, method: http.MethodGet, url: next, what: "GET /installation/repositories",
			bearer: tok.Token, auth: "installation", maxBody: maxListBody}
		// Kept per installation: every token of the installation lists
		// the same repositories (GitHub may still answer a new token's
		// If-None-Match in full, as its ETags vary with the credential).
		body, link, err := getPage(ctx, a, c, "repositories "+strconv.FormatInt(id, 10)+" "+next, func(repoPage) bool { return true })
		if err != nil {
			return nil, err
		}
		for _, r := range body.Repositories {
			set.names[strings.ToLower(r.Name)] = struct{}{}
		}
		// A next link to another host ends the listing here, partial: a
		// repository on a page not read gets no token, and is not said
		// to be outside the selection either.
		var refused bool
		if next, refused = a.nextLink(link, next); refused {
			set.partial = true
		}
	}
	return set, nil
}

// samePage is a key that two URLs of one page share however their query
// is ordered or escaped.
func samePage(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Path + "?" + p.Query().Encode()
}

// nextLink returns the URL of the page a Link header names rel="next":
// the link's query on cur's path (cur is the page the header came with;
// GitHub's next links name the listing's own path, so the token goes to
// that path only, however the link spells it), or "" when there is no
// next page. refused reports a next link that is not on the API's own
// scheme and host: the listing must neither follow it (the token must not
// go anywhere else) nor take the page for its last.
func (a *App) nextLink(link, cur string) (next string, refused bool) {
	for part := range strings.SplitSeq(link, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.Contains(params, `rel="next"`) {
			continue
		}
		target = strings.Trim(strings.TrimSpace(target), "<>")
		u, err := url.Parse(target)
		c, cerr := url.Parse(cur)
		if err != nil || cerr != nil || u.Scheme != a.apiURL.Scheme || u.Host != a.apiURL.Host {
			return "", true
		}
		c.RawQuery, c.Fragment = u.RawQuery, ""
		return c.String(), false
	}
	return "", false
}

// firstInstallation finds the app's first active installation (of an
// owner allowedInstallationOwners allows), for publicAccess: GET
// /app/installations, page by page until one qualifies.
func (a *App) firstInstallation(ctx context.Context) (*Installation, time.Time, error) {
	const op = "githubapp.PublicToken"
	var first *Installation
	more, err := a.listInstallations(ctx, op, maxInstallationPages, func(list []installationJSON, _ int) bool {
		for i := range list {
			// An installation of an owner that allowedInstallationOwners
			// excludes is never used, not even for public reads.
			if inst := list[i].installation(""); inst.ID > 0 && !inst.Suspended && a.Allows(inst.Account) {
				first = inst
				return false
			}
		}
		return true
	})
	switch {
	case err != nil:
		return nil, time.Time{}, err
	case first != nil:
		return first, a.now().Add(a.installTTL), nil
	case more:
		// Remembered like "not installed": listing it all again on every
		// call would cost 100 requests each time.
		return nil, time.Time{}, tokencache.Remember(&errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: a.host,
			Msg: "none of the first " + strconv.Itoa(maxInstallationPages*100) + " installations of " + a.label +
				" is active (and of an owner in allowedInstallationOwners, if set); list an owner whose installation it may use in allowedInstallationOwners"},
			a.now().Add(a.notInstalledTTL))
	}
	return nil, time.Time{}, tokencache.Remember(&errcode.Error{Code: errcode.NotFound, Op: op, Provider: provider, Host: a.host,
		Msg: a.label + " has publicAccess but no active installation (of an owner in allowedInstallationOwners, if set) to mint a token with; install it on at least one account",
		Err: ErrNotInstalled}, a.now().Add(a.notInstalledTTL))
}

// repoPage is a page of GET /installation/repositories.
type repoPage struct {
	Repositories []struct {
		Name string `json:"name"`
	} `json:"repositories"`
}
