package fakegithub

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gql"
)

// Organisation data: members and teams of organisations, seeded with
// [Server.AddOrgMember] and [Server.AddTeam] and served by GraphQL
// (Query.organization, graphql.go), with GitHub's rules that readers trip
// over: first or last on every connection, at most 100 per page, a node
// limit ([OrgLimits.MaxNodes], answered RESOURCE_LIMITS_EXCEEDED), the
// read:org scope of classic tokens ([Server.SetTokenScopes]:
// INSUFFICIENT_SCOPES) and the Members permission of GitHub App
// installations (FORBIDDEN).

// OrgMember is a member of an organisation, for [Server.AddOrgMember].
type OrgMember struct {
	Login     string
	Name      string // display name, may be empty
	Email     string // public e-mail, may be empty
	AvatarURL string // default https://avatars.githubusercontent.com/u/<n>
	// Bio is the profile's bio, may be empty.
	Bio string
	// VerifiedEmails are organizationVerifiedDomainEmails (for any org).
	VerifiedEmails []string
	// Private makes her membership private as a GitHub App's
	// installation token sees it: GraphQL's User.organization does not
	// show it; REST's GET /orgs/{org}/members/{username} does, to a
	// requester who belongs to the organisation (anyone else gets 302).
	Private bool
}

// orgMembership answers GET /orgs/{org}/members/{username} as GitHub
// does: to a requester who belongs to the organisation (a member's token,
// or an installation token of the organisation's own installation with
// the Members permission), 204 for a member, public or private, and 404
// for anyone else; to any other requester 302 Found to
// /orgs/{org}/public_members/{username}, since it may not see private
// memberships; 403 to an installation of the organisation without the
// Members permission; 404 for an organisation that does not exist.
func (s *Server) orgMembership(w http.ResponseWriter, r *http.Request) {
	c, actor := callerOf(r), s.actor(r)
	s.site.Lock()
	o := s.org.orgs[strings.ToLower(r.PathValue("org"))]
	inside, noPermission := false, false
	switch {
	case o == nil:
	case c.token != nil:
		if c.token.inst.account != nil && strings.EqualFold(c.token.inst.account.Key, o.login) {
			inside, noPermission = true, c.token.permissions["members"] == ""
		}
	case c.authed:
		inside = o.member(actor) != nil
	}
	isMember := inside && o.member(r.PathValue("user")) != nil
	s.site.Unlock()
	switch {
	case o == nil: // no such organisation
		s.writeError(w, r, http.StatusNotFound, "Not Found", docREST+"/orgs/members#check-organization-membership-for-a-user")
	case noPermission:
		s.writeError(w, r, http.StatusForbidden, msgNotAccessible, docREST+"/orgs/members#check-organization-membership-for-a-user")
	case !inside:
		w.Header().Set("Location", s.APIBaseURL()+"/orgs/"+url.PathEscape(r.PathValue("org"))+"/public_members/"+url.PathEscape(r.PathValue("user")))
		w.WriteHeader(http.StatusFound)
	case isMember:
		w.WriteHeader(http.StatusNoContent)
	default:
		s.writeError(w, r, http.StatusNotFound, "Not Found", docREST+"/orgs/members#check-organization-membership-for-a-user")
	}
}

// RemoveOrgMember removes login from the organisation org and its teams,
// as GitHub does when a member leaves.
func (s *Server) RemoveOrgMember(org, login string) {
	s.site.Lock()
	defer s.site.Unlock()
	o := s.org.orgs[strings.ToLower(org)]
	if o == nil || o.member(login) == nil {
		return
	}
	delete(o.byLogin, strings.ToLower(login))
	o.members = slices.DeleteFunc(o.members, func(u *orgUser) bool { return strings.EqualFold(u.Login, login) })
	for _, t := range o.teams {
		t.Members = slices.DeleteFunc(t.Members, func(m string) bool { return strings.EqualFold(m, login) })
	}
}

// RemoveTeam deletes the team slug of org; it must have no child teams.
func (s *Server) RemoveTeam(org, slug string) error {
	s.site.Lock()
	defer s.site.Unlock()
	o := s.org.orgs[strings.ToLower(org)]
	if o == nil || o.team(slug) == nil {
		return fmt.Errorf("fakegithub: RemoveTeam: no team %q in %s", slug, org)
	}
	if len(o.children(o.team(slug))) > 0 {
		return fmt.Errorf("fakegithub: RemoveTeam %s: it has child teams", slug)
	}
	delete(o.bySlug, strings.ToLower(slug))
	o.teams = slices.DeleteFunc(o.teams, func(t *fakeTeam) bool { return strings.EqualFold(t.Slug, slug) })
	return nil
}

// Team is a team of an organisation, for [Server.AddTeam].
type Team struct {
	Slug        string
	Name        string // default Slug
	Description string
	// Parent is the parent team's slug, or "".
	Parent string
	// Members are the logins of the team's immediate members; each must
	// be a member of the organisation.
	Members []string
}

// OrgLimits tunes the GraphQL limits (for every query, organisation
// queries being those that reach them).
type OrgLimits struct {
	// MaxNodes, when > 0, is the number of nodes a query may ask for (the
	// product of nested connections' page sizes, summed as GitHub counts
	// them); a larger query is answered with a RESOURCE_LIMITS_EXCEEDED
	// error and no data, as GitHub answers queries it cannot finish.
	MaxNodes int
}

// orgWorld is the organisation state of a Server, guarded by Server.mu;
// its zero value is empty.
type orgWorld struct {
	orgs   map[string]*fakeOrg // by lower-case login
	limits OrgLimits
	scopes map[string][]string // token -> classic scopes
	nextID int
	used   int // GraphQL rate-limit points used
	// userIDs are the users' node ids by lower-case login: one per user,
	// whichever organisation lists her and whatever /user answers.
	userIDs map[string]string
	// suspended are the users' suspension times (SuspendUser), by
	// lower-case login, as User.suspendedAt answers them.
	suspended map[string]*string
}

type fakeOrg struct {
	login, id string
	web       string // the web URL (the server's), for editTeamUrl
	members   []*orgUser
	teams     []*fakeTeam
	byLogin   map[string]*orgUser  // members by lower-case login
	bySlug    map[string]*fakeTeam // teams by lower-case slug
}

// orgUser is a member as added, with her node id and suspension time.
type orgUser struct {
	OrgMember
	id        string
	suspended *string // the world's, shared by her every membership
}

// fakeTeam is a team as added, with its node id.
type fakeTeam struct {
	Team
	id string
}

// member returns the member login of o, or nil.
func (o *fakeOrg) member(login string) *orgUser { return o.byLogin[strings.ToLower(login)] }

// team returns the team slug of o, or nil.
func (o *fakeOrg) team(slug string) *fakeTeam { return o.bySlug[strings.ToLower(slug)] }

// children returns the teams right below t, in the order they were added.
func (o *fakeOrg) children(t *fakeTeam) []*fakeTeam {
	return slices.DeleteFunc(slices.Clone(o.teams), func(c *fakeTeam) bool { return !strings.EqualFold(c.Parent, t.Slug) })
}

func (w *orgWorld) orgLocked(login string) *fakeOrg {
	if w.orgs == nil {
		w.orgs = map[string]*fakeOrg{}
	}
	o := w.orgs[strings.ToLower(login)]
	if o == nil {
		w.nextID++
		o = &fakeOrg{login: login, id: orgNodeID("O_kgDO", w.nextID), byLogin: map[string]*orgUser{}, bySlug: map[string]*fakeTeam{}}
		w.orgs[strings.ToLower(login)] = o
	}
	return o
}

// userIDLocked returns the node id of the user login, made on first use.
func (w *orgWorld) userIDLocked(login string) string {
	key := strings.ToLower(login)
	if id, ok := w.userIDs[key]; ok {
		return id
	}
	if w.userIDs == nil {
		w.userIDs = map[string]string{}
	}
	w.nextID++
	w.userIDs[key] = orgNodeID("U_kgDO", w.nextID)
	return w.userIDs[key]
}

// suspendedLocked returns the suspension time of the user login ("" for
// none), one per user, made on first use.
func (w *orgWorld) suspendedLocked(login string) *string {
	if w.suspended == nil {
		w.suspended = map[string]*string{}
	}
	key := strings.ToLower(login)
	if w.suspended[key] == nil {
		w.suspended[key] = new(string)
	}
	return w.suspended[key]
}

// SuspendUser suspends the user login at the time at, as a GitHub
// Enterprise Server site administrator does (the account, in every
// organisation); the zero time unsuspends her. Her memberships stay;
// GraphQL's User.suspendedAt tells, with Options.EnterpriseServer.
func (s *Server) SuspendUser(login string, at time.Time) {
	s.site.Lock()
	defer s.site.Unlock()
	*s.org.suspendedLocked(login) = ""
	if !at.IsZero() {
		*s.org.suspendedLocked(login) = at.UTC().Format(time.RFC3339)
	}
}

// orgNodeID returns a GitHub-shaped global node id.
func orgNodeID(prefix string, n int) string {
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%08d", n)))
}

// AddOrgMember makes m a member of the organisation org (created, as an
// Organization owner, if needed). Adding a login again updates it.
func (s *Server) AddOrgMember(org string, m OrgMember) error {
	if org == "" || m.Login == "" {
		return fmt.Errorf("fakegithub: AddOrgMember: org and login are required")
	}
	s.site.Lock()
	defer s.site.Unlock()
	s.ownerLocked(org, Organization)
	o := s.org.orgLocked(org)
	o.web = s.URL()
	u := o.member(m.Login)
	if u == nil {
		u = &orgUser{id: s.org.userIDLocked(m.Login), suspended: s.org.suspendedLocked(m.Login)}
		o.byLogin[strings.ToLower(m.Login)] = u
		o.members = append(o.members, u)
	}
	u.OrgMember = m
	if u.AvatarURL == "" {
		u.AvatarURL = fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", s.org.nextID)
	}
	return nil
}

// AddTeam adds (or replaces) a team of org. Its parent must exist and its
// members must be members of org.
func (s *Server) AddTeam(org string, t Team) error {
	if org == "" || t.Slug == "" {
		return fmt.Errorf("fakegithub: AddTeam: org and slug are required")
	}
	s.site.Lock()
	defer s.site.Unlock()
	s.ownerLocked(org, Organization)
	o := s.org.orgLocked(org)
	o.web = s.URL()
	if t.Parent != "" && o.team(t.Parent) == nil {
		return fmt.Errorf("fakegithub: AddTeam %s: no parent team %q in %s", t.Slug, t.Parent, org)
	}
	for _, m := range t.Members {
		if o.member(m) == nil {
			return fmt.Errorf("fakegithub: AddTeam %s: %q is not a member of %s", t.Slug, m, org)
		}
	}
	ft := o.team(t.Slug)
	if ft == nil {
		s.org.nextID++
		ft = &fakeTeam{id: orgNodeID("T_kwDO", s.org.nextID)}
		o.bySlug[strings.ToLower(t.Slug)] = ft
		o.teams = append(o.teams, ft)
	}
	ft.Team = t
	ft.Name = cmp.Or(t.Name, t.Slug)
	ft.Members = slices.Clone(t.Members)
	return nil
}

// SetOrgLimits sets the GraphQL limits.
func (s *Server) SetOrgLimits(l OrgLimits) {
	s.site.Lock()
	defer s.site.Unlock()
	s.org.limits = l
}

// SetTokenScopes records the OAuth scopes of a classic token (one of
// Options.Tokens). Org queries from a token with recorded scopes but none of
// read:org, write:org or admin:org get GitHub's INSUFFICIENT_SCOPES error.
// Tokens without recorded scopes may read every organisation.
func (s *Server) SetTokenScopes(token string, scopes ...string) {
	s.site.Lock()
	defer s.site.Unlock()
	if s.org.scopes == nil {
		s.org.scopes = map[string][]string{}
	}
	s.org.scopes[token] = slices.Clone(scopes)
}

// orgValue is an organisation, as Query.organization answers it.
func orgValue(o *fakeOrg) map[string]any {
	team := func(t *fakeTeam) any { return teamValue(o, t) }
	return map[string]any{"__typename": "Organization", "id": o.id, "login": o.login, "name": o.login,
		"membersWithRole": fn(func(f *gql.Field) (any, error) { return gql.Page(paging, o.members, f.Args, userValue), nil }),
		"teams": fn(func(f *gql.Field) (any, error) {
			root, _ := f.Args["rootTeamsOnly"].(bool)
			logins, _ := f.Args["userLogins"].([]any)
			var nodes []*fakeTeam
			for _, t := range o.teams {
				if (!root || t.Parent == "") && (len(logins) == 0 || slices.ContainsFunc(logins, func(l any) bool {
					login, _ := l.(string)
					return containsFold(t.Members, login)
				})) {
					nodes = append(nodes, t)
				}
			}
			return gql.Page(paging, nodes, f.Args, team), nil
		}),
		"team": fn(func(f *gql.Field) (any, error) {
			if t := o.team(arg(f.Args, "slug")); t != nil {
				return team(t), nil
			}
			return nil, nil
		}),
	}
}

func userValue(u *orgUser) any {
	return map[string]any{"__typename": "User", "id": u.id, "login": u.Login, "name": nilIfEmpty(u.Name), "email": u.Email,
		"avatarUrl": u.AvatarURL, "bio": nilIfEmpty(u.Bio), "organizationVerifiedDomainEmails": append([]string{}, u.VerifiedEmails...),
		"suspendedAt": nilIfEmpty(*u.suspended)}
}

// memberValue is an organisation member as Query.user answers it: with
// User.organization(login), the organisations among w's that she is a
// member of.
func (w *orgWorld) memberValue(u *orgUser) any {
	v := userValue(u).(map[string]any)
	v["organization"] = fn(func(f *gql.Field) (any, error) {
		if o := w.orgs[strings.ToLower(arg(f.Args, "login"))]; o != nil && o.member(u.Login) != nil && !o.member(u.Login).Private {
			return orgValue(o), nil
		}
		return nil, nil
	})
	return v
}

func teamValue(o *fakeOrg, t *fakeTeam) any {
	return map[string]any{"id": t.id, "slug": t.Slug, "name": t.Name, "description": nilIfEmpty(t.Description),
		"combinedSlug": o.login + "/" + t.Slug, "avatarUrl": nil,
		"editTeamUrl": o.web + "/orgs/" + o.login + "/teams/" + t.Slug + "/edit",
		"parentTeam": fn(func(*gql.Field) (any, error) {
			if p := o.team(t.Parent); p != nil {
				return teamValue(o, p), nil
			}
			return nil, nil
		}),
		"childTeams": fn(func(f *gql.Field) (any, error) {
			return gql.Page(paging, o.children(t), f.Args, func(c *fakeTeam) any { return teamValue(o, c) }), nil
		}),
		"members": fn(func(f *gql.Field) (any, error) {
			var nodes []*orgUser
			for _, l := range teamMembers(o, t, arg(f.Args, "membership")) {
				if u := o.member(l); u != nil {
					nodes = append(nodes, u)
				}
			}
			return gql.Page(paging, nodes, f.Args, userValue), nil
		}),
	}
}

// teamMembers lists a team's members: IMMEDIATE, CHILD_TEAM (members of
// the teams below only) or ALL (both, de-duplicated), in a stable order.
func teamMembers(o *fakeOrg, t *fakeTeam, membership string) []string {
	if membership == "IMMEDIATE" {
		return t.Members
	}
	seen := map[string]bool{}
	var out []string
	var walk func(t *fakeTeam, depth int)
	walk = func(t *fakeTeam, depth int) {
		if depth > 64 {
			return
		}
		for _, m := range t.Members {
			if (depth > 0 || membership != "CHILD_TEAM") && !seen[strings.ToLower(m)] {
				seen[strings.ToLower(m)] = true
				out = append(out, m)
			}
		}
		for _, c := range o.children(t) {
			walk(c, depth+1)
		}
	}
	walk(t, 0)
	return out
}
