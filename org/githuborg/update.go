package githuborg

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/internal/orgx"
)

// Change names what an organisation event changed, for [Reader.Update]:
// a member who joined or left (GitHub's organization event,
// member_added or member_removed), a team created, edited or deleted (the
// team event), or a member added to or removed from a team (the
// membership event: both). webhook.Event.Org carries them.
type Change struct {
	// Org is the organisation's login.
	Org string
	// User is the member's login; "" when no member changed.
	User string
	// Team is the team's slug; "" when no team changed.
	Team string
	// Action is the event's action (webhook.OrgChange.Action), optional:
	// "edited" tells that a team new to the snapshot was renamed (GitHub
	// gives a renamed team a new slug, and the event names only the new
	// one), which only a full Read can apply.
	Action string
	// From is the organisation's former login when it was renamed
	// (webhook.OrgChange.From): a Reader of configured organisations
	// knows the rename by it.
	From string
}

// maxUpdateReads bounds the further reads one Update makes: the members
// of a re-read team that the snapshot lacks, and the parents of a team
// moved under a team the snapshot lacks. Past it, only Read can tell.
const maxUpdateReads = 20

// Update returns snap with ch applied: what ch names is read again from
// GitHub, never taken from an event's payload (a webhook delivery may be
// replayed or arrive out of order), and the organisation's users and
// groups are rebuilt as Read builds them. snap is a snapshot this
// Reader's Read or Update returned; it is not modified.
//
// A team is re-read with its parent and direct members (one GraphQL
// query, more for a team of over PageSizes.TeamMembers members), a member
// with her profile and whether she still belongs to the organisation (one
// query): an event costs one query where Read costs about one per 100
// members and 50 teams. A team or member GitHub no longer has is removed,
// with its memberships. Members of a re-read team that snap lacks (their
// own event not handled yet) and a new parent team are read too, one
// query each, up to 20.
//
// Membership is asked of GraphQL (User.organization) with the profile;
// one GraphQL does not show (a private membership, to a GitHub App's
// installation token) is asked of the REST API before the member is
// removed (GET /orgs/{org}/members/{username}: one request more).
// With Config.ExcludeSuspendedUsers, a member read again who is suspended
// now is left out with her memberships, and a team's suspended members are
// neither read nor its members.
//
// Errors are *errcode.Error: InvalidArgument for a Change without an
// organisation, or naming one this Reader does not read; Conflict for a
// change of the organisation itself (renamed, deleted, or the GitHub
// App's installation there created, deleted, suspended, unsuspended or
// given new permissions: a Change with an Action and neither User nor
// Team);
// Conflict when only a full Read can tell (a team renamed, a deleted
// team had child teams, a member whose verified address matches
// another's but for a +tag (with useVerifiedEmails),
// more than 20 further reads, snap holds another organisation's teams
// where this Reader reads one, or, with the organisations found from the
// app's installations, nothing in snap shows the event's organisation is
// among them); and Read's errors. A snapshot of a single organisation
// without teams shows nothing of its organisation: this Reader remembers
// which organisation its last few such snapshots (of Read, and of Update)
// are of (by a digest of their entities, so a copy read back from
// storage is known too), so an event is applied to the latest one, and
// Conflict answers one it does not know (another Reader's, one of before
// this process started, one changed since).
func (r *Reader) Update(ctx context.Context, snap *org.Snapshot, ch Change) (*org.Snapshot, error) {
	const op = "githuborg.Update"
	if snap == nil || ch.Org == "" || (ch.User == "" && ch.Team == "" && ch.Action == "") {
		return nil, errcode.New(errcode.InvalidArgument, op, "a snapshot and a change naming an organisation and a member or a team are required")
	}
	if !validLogin(ch.Org) || (ch.User != "" && !validMember(ch.User)) || (ch.From != "" && !validLogin(ch.From)) {
		return nil, errcode.New(errcode.InvalidArgument, op, "the change names an organisation or member that is not a GitHub login")
	}
	login := ch.Org
	if len(r.cfg.Orgs) > 0 {
		i := slices.IndexFunc(r.cfg.Orgs, func(o string) bool {
			return strings.EqualFold(o, ch.Org) || ch.From != "" && strings.EqualFold(o, ch.From)
		})
		if i < 0 {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "organisation %q is not one of %s (id %q) orgs", ch.Org, ConfigPath, r.cfg.ID)
		}
		login = r.cfg.Orgs[i] // as Read spells it
	}
	if ch.User == "" && ch.Team == "" {
		// The organisation itself changed (renamed, deleted; the app
		// installed there, removed, suspended or given new permissions):
		// its logins, namespace and annotations with it, or which
		// organisations are read.
		return nil, errcode.Newf(errcode.Conflict, op, "organisation %s itself changed (%s): read the organisations again", ch.Org, ch.Action)
	}
	multi := len(r.cfg.Orgs) > 1 || (len(r.cfg.Orgs) == 0 && namespaced(snap))
	ns := ""
	if multi && strings.ToLower(login) != org.DefaultNamespace {
		ns = strings.ToLower(login)
	}
	prefix := strings.ToLower(login) + "/"
	out := &org.Snapshot{Source: "githubOrg:" + r.cfg.ID}
	hc := r.http.ResolverClient(&orgx.Meter{}, r.opts.Resolver,
		credentials.Request{Host: r.in.Host, Owner: login, Policy: credentials.NoUser | credentials.NoAnonymous})
	o := r.newOrgRead(login, hc, func(int, int) {})
	// With the organisations found from the app's installations, the
	// snapshot must show this one is among them: a team of it, or (several
	// organisations) a user in its namespace. A single organisation's
	// users name no organisation, and an event of another installation
	// must not be applied to them.
	hasTeam := slices.ContainsFunc(snap.Groups, func(g org.Group) bool {
		return strings.HasPrefix(strings.ToLower(g.Metadata.Annotations["github.com/team-slug"]), prefix)
	})
	if len(r.cfg.Orgs) == 0 && !hasTeam && (!multi || !slices.ContainsFunc(snap.Users, func(u org.User) bool { return u.Metadata.Namespace == ns })) &&
		(multi || !r.origins.of(snap, login)) {
		return nil, errcode.Newf(errcode.Conflict, op, "nothing in the snapshot shows organisation %s among the app's installations: read the organisations again", login)
	}
	for _, g := range snap.Groups {
		slug := g.Metadata.Annotations["github.com/team-slug"]
		mine := strings.HasPrefix(strings.ToLower(slug), prefix)
		if !multi && !mine {
			return nil, errcode.Newf(errcode.Conflict, op, "the snapshot holds team %q, not a team of %s: read the organisations again", slug, login)
		}
		if !mine {
			out.Groups = append(out.Groups, cloneGroup(g))
			continue
		}
		t := &team{Slug: g.Metadata.Name, Name: g.Spec.Profile.DisplayName, Description: ptrIf(g.Metadata.Description), AvatarURL: ptrIf(g.Spec.Profile.Picture),
			EditTeamURL: g.Metadata.Annotations["backstage.io/edit-url"]}
		if g.Spec.Parent != "" {
			t.ParentTeam = &struct {
				Slug string `json:"slug"`
			}{g.Spec.Parent}
		}
		t.logins = slices.Clone(g.Spec.Members)
		o.teams = append(o.teams, t)
	}
	for _, u := range snap.Users {
		if multi && u.Metadata.Namespace != ns {
			out.Users = append(out.Users, cloneUser(u))
			continue
		}
		o.members = append(o.members, member{Login: cmpOr(u.Metadata.Annotations["github.com/user-login"], u.Metadata.Name),
			ID: u.Metadata.Annotations["github.com/user-id"], Name: ptrIf(u.Spec.Profile.DisplayName), Email: u.Spec.Profile.Email, AvatarURL: u.Spec.Profile.Picture,
			Bio: ptrIf(u.Metadata.Description)})
	}
	if err := o.apply(ctx, ch); err != nil {
		if c := errcode.FromContext(ctx, op); c != nil {
			return nil, c
		}
		return nil, err
	}
	built := buildSnapshot([]*orgRead{o}, multi, r.in.Host)
	if r.cfg.DefaultUserTransformer.UseVerifiedEmails {
		// Which of two accounts keeps an address whole depends on both
		// accounts' verified addresses, and the snapshot keeps only the
		// chosen one: when a member read again or removed had, or has, an
		// address another user's matches without the +tags, only a full
		// read can tell.
		for _, u := range built.Users {
			ul := strings.ToLower(cmpOr(u.Metadata.Annotations["github.com/user-login"], u.Metadata.Name))
			for l, addrs := range o.touched {
				if l != ul && u.Spec.Profile.Email != "" && slices.Contains(addrs, untagged(u.Spec.Profile.Email)) {
					return nil, errcode.Newf(errcode.Conflict, op, "members of %s whose e-mail addresses differ only by a +tag changed: read the organisation again", login)
				}
			}
		}
	}
	out.Users = append(out.Users, built.Users...)
	out.Groups = append(out.Groups, built.Groups...)
	// The warnings of this organisation are those of the rebuild; the
	// others' stay.
	for _, w := range snap.Warnings {
		if !strings.HasPrefix(strings.ToLower(w), "organisation "+strings.ToLower(login)+":") {
			out.Warnings = append(out.Warnings, w)
		}
	}
	out.Warnings = append(out.Warnings, built.Warnings...)
	out.Sort()
	out.Clean()
	slices.Sort(out.Warnings) // Clean's warnings name no organisation: once each
	out.Warnings = slices.Compact(out.Warnings)
	if err := out.Validate(); err != nil {
		return nil, err
	}
	if len(r.cfg.Orgs) == 0 && !multi {
		r.origins.remember(out, login)
	}
	return out, nil
}

// apply reads again what ch names and changes o's members and teams.
func (o *orgRead) apply(ctx context.Context, ch Change) error {
	reads := 0
	more := func(what string) error {
		if reads++; reads > maxUpdateReads {
			return o.errs.Fail(errcode.Conflict, 0, "more than 20 further reads ("+what+"): read the organisation again", nil)
		}
		return nil
	}
	if ch.Team != "" {
		t, err := o.readTeam(ctx, ch.Team)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(o.teams, func(x *team) bool { return strings.EqualFold(x.Slug, ch.Team) })
		switch {
		case t == nil && i >= 0:
			if slices.ContainsFunc(o.teams, func(x *team) bool { return x.ParentTeam != nil && strings.EqualFold(x.ParentTeam.Slug, ch.Team) }) {
				return o.errs.Fail(errcode.Conflict, 0, "team "+ch.Team+" was deleted with child teams: read the organisation again", nil)
			}
			o.teams = slices.Delete(o.teams, i, i+1)
		case t != nil && i >= 0:
			o.teams[i] = t
		case t != nil && ch.Action == "edited":
			return o.errs.Fail(errcode.Conflict, 0, "team "+ch.Team+" was renamed (its slug changed): read the organisation again", nil)
		case t != nil:
			o.teams = append(o.teams, t)
		}
		// A new parent the snapshot lacks (its own event not handled yet).
		for p := t; p != nil && p.ParentTeam != nil && !slices.ContainsFunc(o.teams, func(x *team) bool { return strings.EqualFold(x.Slug, p.ParentTeam.Slug) }); {
			if err := more("parent teams"); err != nil {
				return err
			}
			parent, err := o.readTeam(ctx, p.ParentTeam.Slug)
			if err != nil {
				return err
			}
			if parent != nil {
				o.teams = append(o.teams, parent)
			}
			p = parent
		}
		// Members the snapshot lacks (their own event not handled yet).
		if t != nil {
			for _, l := range t.logins {
				if l == "" || strings.EqualFold(l, ch.User) || slices.ContainsFunc(o.members, func(m member) bool { return strings.EqualFold(m.Login, l) }) {
					continue
				}
				if err := more("members of team " + t.Slug); err != nil {
					return err
				}
				if err := o.rereadMember(ctx, l); err != nil {
					return err
				}
			}
		}
	}
	if ch.User != "" {
		return o.rereadMember(ctx, ch.User)
	}
	return nil
}

// rereadMember reads login again: kept (with her profile as it is now)
// while she belongs to the organisation, else removed with her team
// memberships.
func (o *orgRead) rereadMember(ctx context.Context, login string) error {
	m, err := o.readMember(ctx, login)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(o.members, func(x member) bool { return strings.EqualFold(x.Login, login) })
	if o.touched == nil {
		o.touched = map[string][]string{}
	}
	k := strings.ToLower(login)
	if i >= 0 && o.members[i].Email != "" {
		o.touched[k] = append(o.touched[k], untagged(o.members[i].Email))
	}
	if m != nil {
		if e, _ := m.email(); e != "" {
			o.touched[k] = append(o.touched[k], untagged(e))
		}
	}
	switch {
	case m == nil && i >= 0:
		o.members = slices.Delete(o.members, i, i+1)
		for _, t := range o.teams {
			t.logins = slices.DeleteFunc(t.logins, func(l string) bool { return strings.EqualFold(l, login) })
		}
	case m != nil && i >= 0:
		o.members[i] = *m
	case m != nil:
		o.members = append(o.members, *m)
	}
	return nil
}

// readTeam reads the team slug of the organisation with its parent and
// all its direct members; nil when the organisation has no such team.
func (o *orgRead) readTeam(ctx context.Context, slug string) (*team, error) {
	q := "query($org: String!, $slug: String!, $first: Int!) { organization(login: $org) { team(slug: $slug) { slug name description avatarUrl editTeamUrl parentTeam { slug }" +
		" members(first: $first, membership: IMMEDIATE) { pageInfo { hasNextPage endCursor } nodes { login" + o.r.suspendedField() + " } } } } }"
	var data struct {
		Organization *struct {
			Team *team `json:"team"`
		} `json:"organization"`
	}
	err := o.query(ctx, func(ps sizes) (string, map[string]any) {
		return q, map[string]any{"org": o.login, "slug": slug, "first": ps.TeamMembers}
	}, &data)
	if err != nil {
		return nil, err
	}
	if data.Organization == nil {
		return nil, o.errs.Fail(errcode.NotFound, 0, "not found", nil)
	}
	t := data.Organization.Team
	if t == nil {
		return nil, nil
	}
	if more, err := t.firstMembers(o.errs); err != nil {
		return nil, err
	} else if more {
		if err := o.moreTeamMembers(ctx, []*team{t}); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// readMember reads login's profile; nil when GitHub has no such user or
// she does not belong to the organisation (as the credential sees it).
func (o *orgRead) readMember(ctx context.Context, login string) (*member, error) {
	q := "query($org: String!, $login: String!) { user(login: $login) { " + o.r.memberFields() + " organization(login: $org) { id } } }"
	var data struct {
		User *struct {
			member
			Organization *struct {
				ID string `json:"id"`
			} `json:"organization"`
		} `json:"user"`
	}
	err := o.query(ctx, func(sizes) (string, map[string]any) {
		return q, map[string]any{"org": o.login, "login": login}
	}, &data)
	if errcode.CodeOf(err) == errcode.NotFound {
		return nil, nil // no such user (GitHub's NOT_FOUND): gone
	}
	if err != nil {
		return nil, err
	}
	if data.User == nil {
		return nil, nil
	}
	if data.User.Organization == nil {
		// GraphQL shows only the memberships the credential may see (a
		// GitHub App's installation token is a member of nothing): ask the
		// REST API, which answers for private memberships too, before
		// taking her for gone.
		member, err := o.isMember(ctx, login)
		if err != nil || !member {
			return nil, err
		}
	}
	m := data.User.member
	return &m, nil
}

// isMember asks GitHub's REST API whether login belongs to the
// organisation, by a public or a private membership: 204 yes, 404 no. A
// redirect means the credential may not see private memberships, and is
// an error rather than a no.
func (o *orgRead) isMember(ctx context.Context, login string) (bool, error) {
	u := strings.TrimRight(o.r.in.APIBaseURL, "/") + "/orgs/" + url.PathEscape(o.login) + "/members/" + url.PathEscape(login)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, errcode.Wrap(errcode.InvalidArgument, o.errs.Op, err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	c := *o.gql.Client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return false, o.errs.Transport(ctx, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	case http.StatusFound:
		// GitHub's answer to a requester who is not a member of the
		// organisation: it may see public memberships only.
		return false, o.errs.Fail(errcode.PermissionDenied, resp.StatusCode, "GitHub would not say whether "+login+" is a private member: the credential's user is not a member of "+o.login+"; use a member's token, or the GitHub App with the Organization permission Members (read)", nil)
	}
	return false, o.r.httpError(o.errs, resp)
}

// namespaced reports whether snap's entities are in namespaces: a
// snapshot of several organisations.
func namespaced(snap *org.Snapshot) bool {
	return slices.ContainsFunc(snap.Users, func(u org.User) bool { return u.Metadata.Namespace != "" }) ||
		slices.ContainsFunc(snap.Groups, func(g org.Group) bool { return g.Metadata.Namespace != "" })
}

func ptrIf(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func cloneUser(u org.User) org.User {
	u.Metadata.Annotations = maps.Clone(u.Metadata.Annotations)
	u.Spec.MemberOf = slices.Clone(u.Spec.MemberOf)
	return u
}

func cloneGroup(g org.Group) org.Group {
	g.Metadata.Annotations = maps.Clone(g.Metadata.Annotations)
	g.Spec.Members = slices.Clone(g.Spec.Members)
	g.Spec.Children = slices.Clone(g.Spec.Children)
	return g
}
