package main

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/scmkit/scmkit/scm"
)

// auditLog keeps the portal's recent SCM audit events (who acted, as
// whom) and writes each to the log.
type auditLog struct {
	mu     sync.Mutex
	events []scm.AuditEvent
	log    scm.AuditFunc
}

const auditKeep = 100

func newAuditLog(l *slog.Logger) *auditLog { return &auditLog{log: scm.AuditLog(l)} }

// record is the scm.Options.Audit hook: quick, never blocking on I/O
// beyond the logger's.
func (a *auditLog) record(ctx context.Context, e scm.AuditEvent) {
	a.log(ctx, e)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.events) == auditKeep {
		a.events = slices.Delete(a.events, 0, 1)
	}
	a.events = append(a.events, e)
}

// recent returns the kept events, oldest first.
func (a *auditLog) recent() []scm.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.events)
}
