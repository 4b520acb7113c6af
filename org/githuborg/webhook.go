package githuborg

import "github.com/scmkit/scmkit/webhook"

// ChangeOf returns the Change that a verified organisation event
// (webhook.Event.Org, set for GitHub's organization, membership, team,
// installation and installation_target events) asks [Reader.Update] to
// apply; the zero Change for nil. Use it rather than copying the fields,
// or converting with Change(*ev.Org), which compiles only while both
// types have the same fields and would break, or drop what one gains,
// when they part:
//
//	if ev.Org != nil {
//		snap, err := reader.Update(ctx, current, githuborg.ChangeOf(ev.Org))
//		...
//	}
func ChangeOf(oc *webhook.OrgChange) Change {
	if oc == nil {
		return Change{}
	}
	return Change{Org: oc.Org, User: oc.User, Team: oc.Team, Action: oc.Action, From: oc.From}
}
