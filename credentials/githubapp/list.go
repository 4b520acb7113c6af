package githubapp

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/credentials/internal/tokencache"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/listpage"
)

const (
	// maxInstallationPages bounds a listing of the app's installations
	// (GET /app/installations, 100 a page) looking for one that
	// qualifies: 10,000 installations.
	maxInstallationPages = 100
	// maxRosterPages bounds the listing that answers several cold owners
	// at once: an app with more installations (1,000) is looked up owner
	// by owner, as listing them all would cost more than it saves.
	maxRosterPages = 10
	// coldWindow: an owner lookup that starts less than this after
	// another owner's (or while it runs) lists the installations instead.
	coldWindow = 10 * time.Second
	// maxCachedPages bounds the pages kept for conditional re-listing.
	maxCachedPages = 1024
)

// pageCache keeps the last answer to each listed page with its ETag, so
// that listing it again sends If-None-Match and an unchanged page costs a
// 304 Not Modified, which GitHub does not count against the rate limit.
// Its keys name what was listed and with which credential.
type pageCache struct {
	mu sync.Mutex
	m  map[string]cachedPage
}

type cachedPage struct {
	etag string
	v    any // the decoded page; never modified once stored
	link string
	// revalidate: sent again with etag even when link names no next
	// page (see getPage).
	revalidate bool
}

func (p *pageCache) get(key string) (cachedPage, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.m[key]
	return c, ok
}

func (p *pageCache) put(key string, c cachedPage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= maxCachedPages {
		p.m = make(map[string]cachedPage)
	}
	p.m[key] = c
}

// getPage sends c (a GET of one page of a listing) and returns the page
// and its Link header: the one just sent, or the one kept when GitHub
// answers 304 Not Modified. A page read before under key is sent with its
// ETag (If-None-Match) when its last answer named a next page (Link
// rel="next"), or when lastOK, called with a page that named none, said
// that such a last page may be revalidated: one of a listing whose every
// page states the total (GET /installation/repositories' total_count,
// which a new item starting a new page changes), or one with room left
// (fewer items than a page holds, see
// [github.com/scmkit/scmkit/internal/listpage]: any change of the listing
// changes it). A full last page of a listing without a total (GET
// /app/installations, a bare JSON array) is read in full: a new
// installation may start a new page while the last page's body, and so
// its ETag, stays the same; only its Link header would say so, and a 304
// need not send it.
func getPage[T any](ctx context.Context, a *App, c call, key string, lastOK func(T) bool) (T, string, error) {
	var zero T
	prev, had := a.pages.get(key)
	if n, _ := a.nextLink(prev.link, c.url); had && (prev.revalidate || n != "") {
		c.etag = prev.etag
	} else {
		had = false
	}
	var v T
	hdr, err := a.do(ctx, c, &v)
	if errors.Is(err, errNotModified) {
		if pv, ok := prev.v.(T); ok && had {
			return pv, prev.link, nil
		}
		return zero, "", &errcode.Error{Code: errcode.Unavailable, Op: c.op, Provider: provider, Host: a.host, Status: http.StatusNotModified,
			Msg: "GitHub answered " + c.what + " with 304 Not Modified to an ETag it did not send"}
	}
	if err != nil {
		return zero, "", err
	}
	link := hdr.Get("Link")
	if et := hdr.Get("ETag"); et != "" {
		a.pages.put(key, cachedPage{etag: et, v: v, link: link, revalidate: lastOK(v)})
	}
	return v, link, nil
}

// roomLeft reports whether list, a page of GET /app/installations asked
// for with rawURL, has fewer installations than such a page holds.
func roomLeft(rawURL string, list []installationJSON) bool {
	u, err := url.Parse(rawURL)
	return err == nil && listpage.RoomLeft(u, nil, len(list))
}

// listInstallations reads the app's installations, GET /app/installations
// (100 a page, each but a full last one conditionally (see getPage), following
// Link rel="next" on the API's own host), calling page with each page's
// installations and the number of pages GitHub announces (Link rel="last";
// 0 when it names none) until page returns false. It reads at most
// maxPages pages; more reports whether the listing goes on beyond the
// pages read.
func (a *App) listInstallations(ctx context.Context, op string, maxPages int, page func(list []installationJSON, last int) bool) (more bool, err error) {
	jwt, err := a.JWT(ctx)
	if err != nil {
		return false, err
	}
	next := a.apiBase + "/app/installations?per_page=100"
	seen := map[string]bool{}
	for n := 0; next != ""; n++ {
		if n == maxPages {
			return true, nil
		}
		if k := samePage(next); seen[k] {
			return false, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: a.host,
				Msg: "GitHub's listing of the installations of " + a.label + " links back to a page it already sent"}
		} else {
			seen[k] = true
		}
		c := call{op: op, method: http.MethodGet, url: next, what: "GET /app/installations",
			bearer: jwt.Token, auth: "jwt", maxBody: maxListBody}
		list, link, err := getPage(ctx, a, c, "installations "+next, func(list []installationJSON) bool { return roomLeft(c.url, list) })
		if err != nil {
			return false, err
		}
		var refused bool
		if next, refused = a.nextLink(link, next); refused {
			// Not the end of the listing: taken for it, an installation
			// on the pages not read would be "not installed".
			return false, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: a.host,
				Msg: "GitHub's listing of the installations of " + a.label + " names a next page that is not on " + a.host + "; it was not followed there"}
		}
		if !page(list, lastPage(link)) {
			return next != "", nil
		}
	}
	return false, nil
}

// maxListedPages bounds [App.Installations]: 1,000 pages of 100, 100,000
// installations.
const maxListedPages = 1000

// Installations lists the app's installations, as GitHub lists them to
// the app's JWT (GET /app/installations, 100 a page, following Link
// rel="next" on the API's own host, to that path only), each once:
// suspended ones, those of users
// and those of owners that allowedInstallationOwners excludes included
// ([Installation.Suspended], [Installation.AccountType], [App.Allows] tell
// them apart). It asks GitHub every time, so that it sees installations
// added since; each page that named a next page, and a last page with
// room left (fewer than 100 installations), is sent with the ETag of its
// last answer, so that an unchanged one costs a 304 Not Modified, which
// GitHub does not count against the rate limit; a full last page is read
// in full (see the package documentation): re-listing an unchanged app
// with up to 99 installations costs no counted request, one with exactly
// 100 costs one. The pages are the ones the owner lookups of a burst list
// (they share their ETags), and the requests go through the App's client,
// retries and rate-limit waits.
//
// Every installation listed is then remembered for its owner, as
// [App.SeedInstallations] does, so that a token for one of their owners
// costs the mint alone, no lookup.
//
// A listing that does not end (a page that names a next page but lists
// no installation not listed before, or a link back to a page already read)
// or that goes on beyond 100,000 installations is an Unavailable error; an
// empty page ends the listing. Errors are the App's (see the package
// documentation); the operation is "githubapp.Installations".
func (a *App) Installations(ctx context.Context) ([]Installation, error) {
	const op = "githubapp.Installations"
	var all []Installation
	seen := map[string]bool{}   // every installation listed, by id (by login when GitHub gives none)
	var empty, stale, over bool // why the listing stopped before its end
	more, err := a.listInstallations(ctx, op, maxListedPages, func(list []installationJSON, _ int) bool {
		fresh := false
		for i := range list {
			inst := list[i].installation("")
			k := "login " + lowerASCII(inst.Account)
			if inst.ID != 0 {
				k = "id " + strconv.FormatInt(inst.ID, 10)
			}
			if seen[k] {
				continue // pages that overlap, as offset paging does while installations change
			}
			seen[k], fresh = true, true
			all = append(all, *inst)
		}
		empty, stale, over = len(list) == 0, len(list) > 0 && !fresh, len(all) > maxListedPages*100
		return fresh && !over
	})
	switch {
	case err != nil:
		return nil, err
	case over || more && !stale && !empty:
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: a.host,
			Msg: a.label + " has more than " + strconv.Itoa(maxListedPages*100) + " installations, more than are listed"}
	case more && stale:
		return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: provider, Host: a.host,
			Msg: "GitHub's listing of the installations of " + a.label + " names a next page after a page with no installation not listed before: a listing that would never end"}
	}
	a.SeedInstallations(all)
	return all, nil
}

// lastPage is the page number of a Link header's rel="last" URL, or 0.
func lastPage(link string) int {
	for part := range strings.SplitSeq(link, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.Contains(params, `rel="last"`) {
			continue
		}
		u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
		if err != nil {
			return 0
		}
		n, _ := strconv.Atoi(u.Query().Get("page"))
		return max(n, 0)
	}
	return 0
}

// roster is the app's installations as one listing found them, by
// lower-cased account login.
type roster struct {
	owners   map[string]*Installation
	complete bool      // every installation was listed
	listed   time.Time // when the listing started: its answers are that old
}

// listRoster lists the installations to answer several cold owners at
// once, and remembers every allowed one in the owner cache. An app with
// more than maxRosterPages pages of installations is listed no further
// than its first page when GitHub's Link rel="last" shows it that large
// (else no further than maxRosterPages pages), and for InstallationTTL
// not listed again for a burst.
func (a *App) listRoster(ctx context.Context) (*roster, time.Time, error) {
	r := &roster{owners: make(map[string]*Installation), listed: a.now()}
	more, err := a.listInstallations(ctx, "githubapp.Installation", maxRosterPages, func(list []installationJSON, last int) bool {
		for i := range list {
			if inst := list[i].installation(""); inst.ID > 0 && validLogin(inst.Account) {
				r.owners[lowerASCII(inst.Account)] = inst
			}
		}
		return last <= maxRosterPages
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	if more {
		a.coldMu.Lock()
		a.largeUntil = a.now().Add(a.installTTL)
		a.coldMu.Unlock()
	}
	r.complete = !more
	for _, inst := range r.owners {
		a.remember(inst, false, r.listed)
	}
	// Kept no longer than "not installed" is: it answers for owners it
	// does not list.
	return r, r.listed.Add(a.notInstalledTTL), nil
}

// remember puts inst in the owner cache, as if its owner had been looked
// up at seen, if allowedInstallationOwners allows its owner; unless
// replace, an owner whose installation is already cached keeps it.
func (a *App) remember(inst *Installation, replace bool, seen time.Time) {
	if !validLogin(inst.Account) || !a.Allows(inst.Account) {
		return
	}
	key := lowerASCII(inst.Account)
	if !replace {
		if _, err, ok := a.owners.Peek(key); ok && err == nil {
			return
		}
	}
	a.noteKind(inst, "")
	a.owners.Set(key, inst, a.expiryOf(inst, seen))
}

// expiryOf is until when an installation GitHub showed at seen is
// remembered: a suspended one no longer than "not installed", so that an
// owner who unsuspends it sees the app work within minutes.
func (a *App) expiryOf(inst *Installation, seen time.Time) time.Time {
	if inst.Suspended {
		return seen.Add(a.notInstalledTTL)
	}
	return seen.Add(a.installTTL)
}

// coldStart notes the start of a cold owner's lookup and reports whether
// it is part of a burst: another owner's lookup runs (lookups of one
// owner share one flight) or started less than coldWindow ago, and the
// app is not known to have too many installations to list. done must be
// called when the lookup ends.
func (a *App) coldStart(owner string) (burst bool, done func()) {
	key := lowerASCII(owner)
	a.coldMu.Lock()
	defer a.coldMu.Unlock()
	now := a.now()
	recent := !a.lastCold.IsZero() && now.Sub(a.lastCold) < coldWindow && a.lastColdOwner != key
	burst = (a.coldN > 0 || recent) && !now.Before(a.largeUntil)
	a.coldN++
	a.lastCold, a.lastColdOwner = now, key
	return burst, func() {
		a.coldMu.Lock()
		a.coldN--
		a.coldMu.Unlock()
	}
}

// fromRoster answers owner's lookup from a listing of the installations,
// when one is fresh or the lookup is part of a burst (see coldStart). ok
// is false when the owner endpoints must decide: no listing, a listing
// that failed, or one that stopped before the end without the owner.
// Its answers are as old as the listing: an owner absent from a complete
// listing is remembered as not installed until NotInstalledTTL after the
// listing started (an installation can be added at any time), as the
// listing itself is, and an owner it lists as if looked up then.
func (a *App) fromRoster(ctx context.Context, owner string, burst bool) (inst *Installation, expiry time.Time, err error, ok bool) {
	r, rerr, have := a.roster.Peek(struct{}{})
	if !have {
		if !burst {
			return nil, time.Time{}, nil, false
		}
		r, rerr = a.roster.Get(ctx, struct{}{}, a.listRoster)
	}
	if rerr != nil {
		if ctx.Err() != nil {
			return nil, time.Time{}, rerr, true
		}
		return nil, time.Time{}, nil, false
	}
	if in, found := r.owners[lowerASCII(owner)]; found {
		cp := *in
		if cp.Account == "" {
			cp.Account = owner
		}
		a.noteKind(&cp, "")
		return &cp, a.expiryOf(&cp, r.listed), nil, true
	}
	if r.complete {
		return nil, time.Time{}, tokencache.Remember(a.notInstalled(owner, 0), r.listed.Add(a.notInstalledTTL)), true
	}
	return nil, time.Time{}, nil, false
}

// noteKind remembers which owner endpoint answers for inst's account: the
// one its account type calls for, else kind.
func (a *App) noteKind(inst *Installation, kind string) {
	switch inst.AccountType {
	case "User":
		kind = kindUser
	case "Organization":
		kind = kindOrg
	}
	if kind != "" {
		a.setKind(inst.Account, kind)
	}
}

// SeedInstallations records installations of this app that the caller
// listed itself with the app's JWT (GET /app/installations), so that a
// token for one of their owners costs the mint alone, no lookup. Each is
// remembered as if looked up now (for InstallationTTL; NotInstalledTTL if
// suspended), replacing what the app had for its owner. Installations of
// another app (AppID), without an id, of an account that is not a GitHub
// login or that allowedInstallationOwners excludes are ignored.
func (a *App) SeedInstallations(list []Installation) {
	for i := range list {
		inst := list[i]
		if inst.AppID != a.id || inst.ID <= 0 {
			continue
		}
		inst.Permissions = maps.Clone(inst.Permissions) // the caller's map stays the caller's
		a.remember(&inst, true, a.now())
	}
}

// proofKey names the proof that a selected-repositories installation
// covers a repository.
func proofKey(id int64, repo string) string {
	return strconv.FormatInt(id, 10) + "/" + lowerASCII(repo)
}

// prove remembers, for RepositoriesTTL, that GitHub answered GET
// /repos/{owner}/{repo}/installation with installation id: the repository
// is one it covers, so a token asked for it needs no listing of the
// installation's repositories.
func (a *App) prove(id int64, repo string) {
	a.proofs.Set(proofKey(id, repo), struct{}{}, a.now().Add(a.reposTTL))
}

// proven reports whether prove was called for id and repo lately.
func (a *App) proven(id int64, repo string) bool {
	_, err, ok := a.proofs.Peek(proofKey(id, repo))
	return ok && err == nil
}
