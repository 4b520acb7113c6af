package githuborg

import (
	"errors"
	"sync"
)

// installPages keeps each page of the GitHub App's installations a Reader
// listed, with its ETag, so that the next Read lists them with
// If-None-Match and an unchanged page costs a 304 Not Modified, which
// GitHub does not count against the rate limit. Its keys name the app
// (whose JWT asks) and the page's URL.
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
