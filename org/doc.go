// Package org is the organisational model shared by every org-data reader:
// Backstage User and Group entities, entity references, a [Snapshot] of an
// organisation that reads and writes Backstage catalog YAML, and an [Index]
// answering membership questions in constant time.
//
// The entities have Backstage's shape (apiVersion backstage.io/v1alpha1), so
// a snapshot written by [Snapshot.WriteYAML] is a catalog file Backstage
// accepts, and refs produced from GitHub, GitLab, LDAP and Microsoft Graph
// match when the names do. Names are normalised with [NormalizeName] exactly
// as Backstage's Microsoft Graph provider does.
//
// Readers live in subpackages (org/githuborg, org/gitlaborg, org/msgraph)
// and implement [Reader]. A reader never returns a partial snapshot as
// complete: a fault part-way through returns an error and no snapshot.
// Where Backstage's naming rules make one entity name of two groups or two
// users (Graph's normalised mailNickname, GitLab's full path with '/' as
// '-'), the readers give the name to neither and warn naming both, rather
// than to the first listed: whoever can create a group chooses its name
// and so its place in the listing, and the name carries the roles bound to
// it. LDAP references that could name two entries resolve to neither, the
// same way.
//
// Several providers make one catalog through [Merge], never by appending
// their snapshots: the first snapshot's entity of a name is kept, the
// others' are left out with a warning naming both providers
// ([Snapshot.Source]), and memberships are not combined across providers.
// A GitHub team and an LDAP group that share a name are the first
// provider's group, with its members only; users who really are the same
// person are linked at sign-in (a resolver matching what the other
// provider verifies, such as a verified e-mail address), not by name.
//
// The package has no dependency beyond a YAML codec and the module's error
// type; errors are *errcode.Error values, classified by errcode.CodeOf.
package org
