package org

import (
	"context"
	"time"
)

// Reader reads an organisation from one source (a GitHub organisation, GitLab
// groups, an LDAP directory, a Microsoft Entra ID tenant).
//
// Read returns a sorted, valid snapshot of the whole organisation, or an
// error and no snapshot: a fault part-way through (page 37 of 100) is never
// returned as a complete snapshot. Entities the reader had to skip (a user
// with no usable name) are listed in Snapshot.Warnings. Read stops when ctx
// is cancelled. Errors are *errcode.Error values; a missing permission has
// code PermissionDenied and a message naming the permission to grant.
//
// Readers that hold connections (ldaporg's, which keeps a pool) also
// implement io.Closer: to shut down a []Reader without knowing which
// those are, close each that implements it.
type Reader interface {
	Read(ctx context.Context) (*Snapshot, error)
}

// Decoder reads the configuration at a dotted path, such as
// "catalog.providers.githubOrg", into a Go value; *config.Config is one.
// Each reader's DecodeConfig takes one, so that package org and the
// readers do not depend on package config.
type Decoder interface {
	// Decode decodes the value at path into out (a pointer), leaving it
	// unchanged when nothing is configured there.
	Decode(path string, out any) error
	// Has reports whether a value is configured at path.
	Has(path string) bool
}

// Progress is what a reader reports while it reads, through a
// [ProgressFunc] given in its options.
type Progress struct {
	Source   string // the reader's config id or source, e.g. "githubOrg:production"
	Phase    string // what is being read: "users", "groups", "members", "done"
	Users    int    // users read so far
	Groups   int    // groups read so far
	Requests int    // HTTP requests sent so far

	// RateLimitRemaining is the provider's remaining request budget as last
	// reported (X-RateLimit-Remaining), or -1 when unknown.
	RateLimitRemaining int
	// RateLimitReset is when that budget resets; zero when unknown.
	RateLimitReset time.Time
}

// ProgressFunc receives progress reports. Readers never call it
// concurrently (calls may come from goroutines other than Read's, one at a
// time, each finished before the next starts), and at most a few times a
// second per phase.
type ProgressFunc func(Progress)
