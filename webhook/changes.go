package webhook

import (
	"errors"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/integrations"
)

// commitFiles is what one commit of a push did to files.
type commitFiles struct {
	added, modified, removed []string
}

// netChanges folds the commits of a push, oldest first, into the net
// change of each catalog file: a file added then modified is added, added
// then removed is nothing, removed then added is modified.
func (r *Receiver) netChanges(commits []commitFiles) map[string]Action {
	type state struct {
		existedBefore, existsNow bool
	}
	files := map[string]*state{}
	touch := func(p string, existedIfNew bool) *state {
		s, ok := files[p]
		if !ok {
			s = &state{existedBefore: existedIfNew, existsNow: existedIfNew}
			files[p] = s
		}
		return s
	}
	for _, c := range commits {
		for _, p := range c.added {
			if r.isCatalog(p) {
				touch(p, false).existsNow = true
			}
		}
		for _, p := range c.modified {
			if r.isCatalog(p) {
				touch(p, true).existsNow = true
			}
		}
		for _, p := range c.removed {
			if r.isCatalog(p) {
				touch(p, true).existsNow = false
			}
		}
	}
	out := map[string]Action{}
	for p, s := range files {
		switch {
		case !s.existedBefore && s.existsNow:
			out[p] = Added
		case s.existedBefore && s.existsNow:
			out[p] = Modified
		case s.existedBefore && !s.existsNow:
			out[p] = Removed
		}
	}
	return out
}

// isCatalog reports whether a repository path is a catalog file.
func (r *Receiver) isCatalog(p string) bool {
	p = strings.TrimPrefix(p, "/")
	for _, pat := range r.patterns {
		target := p
		if !strings.Contains(pat, "/") {
			target = path.Base(p)
		}
		if ok, _ := path.Match(pat, target); ok {
			return true
		}
	}
	return false
}

// fill sets the event's repository URL and the changes' URLs, sorted by
// path, on ev.Branch.
func (r *Receiver) fill(ev *Event, changes map[string]Action) {
	loc := integrations.Location{Kind: r.in.Kind, Host: r.in.Host, Owner: ev.Owner, Repo: ev.Repo, Tree: true}
	if u, err := r.reg.URL(loc); err == nil {
		ev.RepoURL = u
	}
	for _, p := range slices.Sorted(maps.Keys(changes)) {
		u, err := r.reg.URL(integrations.Location{Kind: r.in.Kind, Host: r.in.Host, Owner: ev.Owner, Repo: ev.Repo, Ref: ev.Branch, Path: p})
		if err != nil {
			// Not a path in the repository ("..", absolute, empty
			// segments): left out rather than reported without a URL.
			if ev.Complete {
				ev.Complete, ev.Incomplete = false, "the payload names a file path that is not a path in the repository"
			}
			continue
		}
		ev.Changes = append(ev.Changes, Change{Path: p, URL: u, Action: changes[p]})
	}
}

// settle applies the default-branch rule once Branch and DefaultBranch are
// known: a push to another branch is ignored.
func settle(ev *Event) bool {
	if ev.Branch == "" {
		if ev.Ignored == "" {
			ev.Ignored = "not a branch push"
		}
		return false
	}
	if ev.DefaultBranch != "" && ev.Branch != ev.DefaultBranch {
		ev.Ignored = "push to " + ev.Branch + ", not the default branch " + ev.DefaultBranch
		return false
	}
	return true
}

// branchOf returns the branch of a full ref name, or "" for a tag or other
// ref.
func branchOf(ref string) string {
	b, ok := strings.CutPrefix(ref, "refs/heads/")
	if !ok {
		return ""
	}
	return b
}

// zeroSHA reports whether a commit id is the all-zero id providers use for
// "no commit" (a new or deleted branch).
func zeroSHA(s string) bool {
	return s == "" || strings.Trim(s, "0") == ""
}

// errorsAs is errors.As, kept here so providers.go reads as payload code.
func errorsAs(err error, target any) bool { return errors.As(err, target) }
