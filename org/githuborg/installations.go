package githuborg

import (
	"errors"
	"sync"
)

// installPages keeps each page of the GitHub App's installations a Reader
// listed, with its ETag and Link header, so that the next Read asks again
// with If-None-Match for a page that named a next page (Link rel="next"),
// and an unchanged one costs a 304 Not Modified, which GitHub does not
// count against the rate limit. The last page is always read in full: the
// listing is a bare JSON array, so a new installation that starts a new
// page leaves the last page's body, and so its ETag, the same; only its
// Link header would say so, and a 304 need not send it. Its keys name the
// app (whose JWT asks) and the page's URL.
type installPages struct {
	mu sync.Mutex
	m  map[string]installPage
}

type installPage struct {
	etag string
	list []installationJSON // never modified once stored
	link string
}

// maxInstallPages bounds the pages kept.
const maxInstallPages = 1024

func (p *installPages) get(key string) (installPage, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pg, ok := p.m[key]
	return pg, ok
}

func (p *installPages) put(key string, pg installPage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= maxInstallPages {
		p.m = make(map[string]installPage)
	}
	p.m[key] = pg
}

// errNotModified is the listing's error for a 304 answer.
var errNotModified = errors.New("githuborg: not modified")

// installationJSON is an installation as GET /app/installations lists it.
type installationJSON struct {
	ID      int64 `json:"id"`
	AppID   int64 `json:"app_id"`
	Account struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"account"`
	RepositorySelection string            `json:"repository_selection"`
	Permissions         map[string]string `json:"permissions"`
	SuspendedAt         *string           `json:"suspended_at"`
}
