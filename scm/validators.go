package scm

import (
	"context"
	"net/http"
	"time"

	"github.com/scmkit/scmkit/integrations"
)

// GitHub's ETags belong to the credential that read the answer: "It's
// currently expected for ETags to be auth token specific. To workaround
// this, some of our customers use the If-Modified-Since; however ... not
// all endpoints are supported yet" (GitHub support, quoted in
// eclipse-csi/otterdog issue #201, 2024-03; see also github/docs issue
// #34689), and its answers say "Vary: Accept, Authorization". An
// If-None-Match carrying another token's ETag is answered 200, counted
// against the rate limit, not 304. A GitHub App's installation token is
// renewed every hour, so a FileCache entry read with the last token could
// not be revalidated with If-None-Match by the next one: a catalog
// re-reading 1,000 files would pay 1,000 counted requests after each
// renewal, where its ETags promised none.
//
// The contents API also answers Last-Modified (the recorded answers carry
// it: octokit-fixtures get-content), which does not depend on the token,
// and "a conditional request ... does not count against your primary
// rate limit if a 304 response is returned and the request was made while
// correctly authorized" (REST API best practices, "Use conditional
// requests if appropriate"). So each GitHub entry remembers a fingerprint
// of the credential its ETag belongs to (CachedFile.Cred) and the
// Last-Modified of the answer that gave its content; a read with another
// credential sends If-Modified-Since with that date instead of
// If-None-Match (a server must ignore If-Modified-Since when the request
// has If-None-Match, RFC 9110 §13.1.3, so never both), and a 304 keeps the
// entry and records the ETag the 304 carries, now the new credential's.
// How GitHub computes its ETags is not documented and is not relied on.
//
// A date is a weaker validator than an ETag, in two ways:
//
//   - Last-Modified has a granularity of one second: a file changed twice
//     within one second keeps the date of the first change. A date is
//     kept for If-Modified-Since only when it was at least sinceSettle
//     older than the answer that carried it (its Date, GitHub's own
//     clock): any later change then happens in a later second.
//   - On GitHub it is the date of the newest commit that changed the
//     path, which the committer's clock sets, not GitHub's: a branch
//     moved back to an older commit (a force-push, a moved tag), or a
//     commit dated earlier than the stored date (a skewed clock, a
//     rebased commit keeping an old date), changes the file without a
//     later date, and GitHub answers the date check 304. The entry then
//     keeps the old content, and the ETag that 304 carries, which is the
//     new content's, until the file changes again. A date is therefore
//     used only for maxSinceAge after the entry's content was last read
//     in full (CachedFile.ReadAt): after that a new credential sends the
//     old ETag, is answered in full (counted), and the entry starts
//     again. That bounds how long such a change can go unseen, at the
//     cost of one counted request per file per maxSinceAge with
//     credentials renewed more often (an App's, hourly).
//
// GitHub's recorded contents answer (octokit-fixtures get-content, 2022)
// has the git blob id of the file as its ETag, which no token changes. An
// entry whose ETag is its content's blob id is therefore revalidated with
// If-None-Match whoever asks: exact, and free when it matches (and a 200,
// counted, but never stale, if that ETag turned out to be the token's). A
// 304 to a date check that carries the ETag the entry had, or its blob
// id, confirms the content itself, and restarts the period.
//
// Only GitHub's file reads (GitHub and GitHub Enterprise Server) do this.
// GitLab's ETags are computed from the body, and neither Bitbucket
// Cloud's nor Bitbucket Data Center's documentation describes ETags that
// depend on the credential: their reads are as before. The page cache
// keys its entries by credential (a listing shows what its credential
// may see), so a renewed token starts new listing entries there.
const (
	// sinceSettle is how much older than the answer carrying it a
	// Last-Modified must be to be used for If-Modified-Since.
	sinceSettle = 5 * time.Second
	// maxSinceAge is how long after a file's last full read its entry
	// may be revalidated by date.
	maxSinceAge = 12 * time.Hour
)

// credFingerprint names the credential req carries, as sent: a hash of
// its Authorization header, never the header, or "" for a request without
// one. The same token gives the same fingerprint in every process, so the
// replicas that share one installation token (through a shared
// credentials store) agree on which entries are theirs. Installation,
// OAuth and personal access tokens are random: the hash does not reveal
// them, and redisstore seals the entries that hold it.
func credFingerprint(req *http.Request) string {
	a := req.Header.Get("Authorization")
	if a == "" {
		return ""
	}
	return hashParts("scm etag credential v1", a)[:32]
}

// fileProbe goes with one GitHub file read, on its context: what the
// validator layer may send instead of the driver's If-None-Match, and
// what it saw of the answer.
type fileProbe struct {
	// etag is the entry's ETag, which the driver sends as If-None-Match;
	// cred the fingerprint of its credential ("" when unknown); since
	// its Last-Modified when usable for If-Modified-Since, or zero.
	etag, cred string
	since      time.Time

	// Set by the validator layer, from the last request and answer.
	sent    string // the fingerprint of the credential sent
	bySince bool   // the request carried If-Modified-Since instead
	header  http.Header
}

// fileProbeKey is the context key of a *fileProbe.
type fileProbeKey struct{}

// validatorLayer returns rt under the layer that applies the file
// probes of GitHub reads, for a client with a FileCache; rt otherwise. It
// goes below the credential transport, so that it sees the Authorization
// header each request is sent with.
func (c *Client) validatorLayer(in *integrations.Integration, rt http.RoundTripper) http.RoundTripper {
	if c.s.files == nil || in.Kind != integrations.GitHub {
		return rt
	}
	return &validatorTransport{base: rt}
}

// validatorTransport sends a GitHub file read whose entry belongs to
// another credential with If-Modified-Since instead of If-None-Match,
// and notes the answer's validators in the read's probe.
type validatorTransport struct{ base http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t *validatorTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p, _ := req.Context().Value(fileProbeKey{}).(*fileProbe)
	if p == nil || req.Method != http.MethodGet {
		return t.base.RoundTrip(req)
	}
	p.sent, p.bySince, p.header = credFingerprint(req), false, nil
	out := req
	if p.sent != "" && p.cred != "" && p.sent != p.cred && !p.since.IsZero() && p.etag != "" &&
		req.Header.Get("If-None-Match") == p.etag {
		out = req.Clone(req.Context())
		out.Header.Del("If-None-Match")
		out.Header.Set("If-Modified-Since", p.since.UTC().Format(http.TimeFormat))
		p.bySince = true
	}
	resp, err := t.base.RoundTrip(out)
	if err == nil {
		p.header = http.Header{}
		for _, k := range []string{"ETag", "Last-Modified", "Date"} {
			if v := resp.Header.Get(k); v != "" {
				p.header.Set(k, v)
			}
		}
	}
	return resp, err
}

// withFileProbe returns ctx carrying a probe for a GitHub read of the
// file cached as cached (nil: none), and the probe; ctx and nil for
// other providers.
func (c *Client) withFileProbe(ctx context.Context, cl *call, cached *CachedFile) (context.Context, *fileProbe) {
	if cl.in.Kind != integrations.GitHub {
		return ctx, nil
	}
	p := &fileProbe{}
	if cached != nil {
		p.etag, p.cred = cached.ETag, cached.Cred
		if age := c.s.now().Sub(cached.ReadAt); !cached.LastModified.IsZero() && !cached.ReadAt.IsZero() &&
			age < maxSinceAge && age > -maxSinceAge && !blobETag(cached) {
			p.since = cached.LastModified
		}
	}
	return context.WithValue(ctx, fileProbeKey{}, p), p
}

// stamp fills in e, an entry for the content of a 200 answer, from p: the
// credential its ETag belongs to, when it was read, and its Last-Modified
// when settled (see sinceSettle).
func (p *fileProbe) stamp(e *CachedFile, now time.Time) {
	e.Cred, e.ReadAt = p.sent, now
	lm, err := http.ParseTime(p.header.Get("Last-Modified"))
	if err != nil {
		return
	}
	at, err := http.ParseTime(p.header.Get("Date"))
	if err != nil {
		at = now
	}
	if at.Sub(lm) >= sinceSettle {
		e.LastModified = lm.UTC()
	}
}

// revalidated returns the entry to store after a 304 to a read of cached
// with p, or nil when cached stays as it is: after a date check, the
// entry with the ETag the 304 carries (the credential's own), its content
// confirmed (ReadAt now) when that ETag is the entry's or its blob id;
// after an If-None-Match answered 304 for another credential than the
// entry's, the entry marked as that credential's, its ETag being good
// for it too.
func (p *fileProbe) revalidated(cached *CachedFile, now time.Time) *CachedFile {
	etag := p.header.Get("ETag")
	switch {
	case p.bySince && etag != "":
		e := *cached
		if etag == cached.ETag || (cached.BlobID != "" && sameETag(etag, cached.BlobID)) {
			e.ReadAt = now
		}
		e.ETag, e.Cred = etag, p.sent
		return &e
	case !p.bySince && p.sent != "" && p.sent != cached.Cred && !blobETag(cached):
		e := *cached
		e.Cred = p.sent
		return &e
	}
	return nil
}

// blobETag reports whether e's ETag is the git blob id of its content:
// an ETag of the content alone, which If-None-Match checks exactly
// whoever asks.
func blobETag(e *CachedFile) bool { return e.BlobID != "" && sameETag(e.ETag, e.BlobID) }
