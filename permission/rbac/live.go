package rbac

import (
	"context"
	"io/fs"
	"sync/atomic"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/permission"
)

// Live is a [Policy] that can be reloaded while it serves decisions, as
// permission.rbac.policyFileReload does: [Live.Reload] builds a new policy
// from the files and organisation and swaps it in atomically; when the
// files are bad it returns the error and the policy in force stays as it
// was — nothing is half loaded. The zero Live denies everything until the
// first successful load. It is safe for concurrent use: decisions,
// reloads and SetMembership may run at the same time.
type Live struct {
	p atomic.Pointer[Policy]
}

// NewLive returns a Live serving p (nil: deny until loaded).
func NewLive(p *Policy) *Live {
	l := &Live{}
	if p != nil {
		l.p.Store(p)
	}
	return l
}

// Reload loads the files c names from fsys against m, as [Load], and
// serves the result from the next decision on. On error the current
// policy is kept.
func (l *Live) Reload(fsys fs.FS, c *Config, m *Membership) error {
	p, err := Load(fsys, c, m)
	if err != nil {
		return err
	}
	l.p.Store(p)
	return nil
}

// ReloadFiles is [Live.Reload] against the organisation of the policy in
// force (the last SetMembership or Reload), so that a file watcher does
// not put back an older membership: wire SetMembership to the org
// reader and ReloadFiles to the policy files.
func (l *Live) ReloadFiles(fsys fs.FS, c *Config) error {
	for {
		cur := l.p.Load()
		var m *Membership
		if cur != nil {
			m = cur.m
		}
		p, err := Load(fsys, c, m)
		if err != nil {
			return err
		}
		if l.p.CompareAndSwap(cur, p) {
			return nil
		}
	}
}

// SetMembership rebuilds the policy in force against the organisation m
// (the same files and options; [Policy.WithMembership]) and serves it from
// the next decision on: wire it to an organisation reader's Update, with
// [FromSnapshot] of the snapshot it returns. A Reload that swaps in new
// files meanwhile is not lost: SetMembership builds on the files in force
// when it swaps (a later Reload uses the membership it is given). Without
// a policy loaded, SetMembership is Unavailable.
func (l *Live) SetMembership(m *Membership) error {
	for {
		cur := l.p.Load()
		if cur == nil {
			return errcode.New(errcode.Unavailable, "rbac.Live.SetMembership", "no policy loaded")
		}
		next, err := cur.WithMembership(m)
		if err != nil {
			return err
		}
		if l.p.CompareAndSwap(cur, next) {
			return nil
		}
	}
}

// Policy returns the policy in force, or nil.
func (l *Live) Policy() *Policy { return l.p.Load() }

// Decide implements [permission.Policy] with the policy in force.
func (l *Live) Decide(ctx context.Context, q permission.Query, user *identity.User) (permission.Decision, error) {
	p := l.p.Load()
	if p == nil {
		return permission.Decision{}, errcode.New(errcode.Unavailable, "rbac.Live", "no policy loaded")
	}
	return p.Decide(ctx, q, user)
}
