package scm

import (
	"crypto/sha256"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/credentials"
)

// listKindTTL is how long a client remembers which listing suits an owner
// for a credential (driver.RepositoryPage.Kind): an owner seldom turns
// from a user into an organization, and a stale kind costs at most this
// long.
const listKindTTL = 10 * time.Minute

// maxListKinds bounds the remembered kinds; past it, expired entries are
// dropped, and if none has expired, all of them.
const maxListKinds = 4096

// listKinds remembers, per integration host, owner and credential, the
// kind of listing a driver found on a first page, so that the next listing
// of that owner skips the requests that found it out (two on GitHub for a
// user). Keys are hashes: no credential is kept.
type listKinds struct {
	mu  sync.Mutex
	m   map[string]listKind
	now func() time.Time
}

type listKind struct {
	kind    string
	expires time.Time
}

// listKindKey names what a call's listing of owner is remembered under:
// its host, the owner as the host compares it (case-insensitive) and the
// credential the call resolved (nil: anonymous), whose token is hashed
// with the rest so that two users' "my own repositories" never meet.
func listKindKey(host, owner string, cred *credentials.Credential) string {
	h := sha256.New()
	parts := []string{"scm list kind v1", host, strings.ToLower(owner)}
	if cred != nil {
		parts = append(parts, string(cred.Kind), cred.Source, cred.Username, cred.Token)
	}
	for _, s := range parts {
		io.WriteString(h, strconv.Itoa(len(s))+":"+s) //nolint:errcheck // hash writes do not fail
	}
	return string(h.Sum(nil))
}

// get returns the kind remembered under key, if it has not expired.
func (l *listKinds) get(key string) string {
	if l == nil || key == "" {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.m[key]
	if !ok || !l.now().Before(e.expires) {
		return ""
	}
	return e.kind
}

// put remembers kind under key; an empty kind forgets it.
func (l *listKinds) put(key, kind string) {
	if l == nil || key == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if kind == "" {
		delete(l.m, key)
		return
	}
	now := l.now()
	if l.m == nil {
		l.m = map[string]listKind{}
	}
	if _, ok := l.m[key]; !ok && len(l.m) >= maxListKinds {
		for k, e := range l.m {
			if !now.Before(e.expires) {
				delete(l.m, k)
			}
		}
		if len(l.m) >= maxListKinds {
			clear(l.m)
		}
	}
	l.m[key] = listKind{kind: kind, expires: now.Add(listKindTTL)}
}
