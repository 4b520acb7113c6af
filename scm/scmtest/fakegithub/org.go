package fakegithub

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
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
}

type fakeOrg struct {
	login, id string
	members   []*orgUser
	byLogin   map[string]*orgUser
	teams     []*fakeTeam
	bySlug    map[string]*fakeTeam
}

type orgUser struct {
	login, name, email, avatar, id string
}

type fakeTeam struct {
	slug, name, description, parent, id string
	members                             []string
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

// nodeID returns a GitHub-shaped global node id.
func orgNodeID(prefix string, n int) string {
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%08d", n)))
}

// AddOrgMember makes m a member of the organisation org (created, as an
// Organization owner, if needed). Adding a login again updates it.
func (s *Server) AddOrgMember(org string, m OrgMember) error {
	if org == "" || m.Login == "" {
		return fmt.Errorf("fakegithub: AddOrgMember: org and login are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ownerLocked(org, Organization)
	w := &s.org
	o := w.orgLocked(org)
	u := o.byLogin[strings.ToLower(m.Login)]
	if u == nil {
		u = &orgUser{id: w.userIDLocked(m.Login)}
		o.byLogin[strings.ToLower(m.Login)] = u
		o.members = append(o.members, u)
	}
	u.login, u.name, u.email, u.avatar = m.Login, m.Name, m.Email, m.AvatarURL
	if u.avatar == "" {
		u.avatar = fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", w.nextID)
	}
	return nil
}

// AddTeam adds (or replaces) a team of org. Its parent must exist and its
// members must be members of org.
func (s *Server) AddTeam(org string, t Team) error {
	if org == "" || t.Slug == "" {
		return fmt.Errorf("fakegithub: AddTeam: org and slug are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ownerLocked(org, Organization)
	w := &s.org
	o := w.orgLocked(org)
	if t.Parent != "" && o.bySlug[strings.ToLower(t.Parent)] == nil {
		return fmt.Errorf("fakegithub: AddTeam %s: no parent team %q in %s", t.Slug, t.Parent, org)
	}
	for _, m := range t.Members {
		if o.byLogin[strings.ToLower(m)] == nil {
			return fmt.Errorf("fakegithub: AddTeam %s: %q is not a member of %s", t.Slug, m, org)
		}
	}
	ft := o.bySlug[strings.ToLower(t.Slug)]
	if ft == nil {
		w.nextID++
		ft = &fakeTeam{id: orgNodeID("T_kwDO", w.nextID)}
		o.bySlug[strings.ToLower(t.Slug)] = ft
		o.teams = append(o.teams, ft)
	}
	ft.slug, ft.name, ft.description, ft.parent = t.Slug, t.Name, t.Description, t.Parent
	if ft.name == "" {
		ft.name = t.Slug
	}
	ft.members = slices.Clone(t.Members)
	return nil
}

// SetOrgLimits sets the GraphQL limits.
func (s *Server) SetOrgLimits(l OrgLimits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.org.limits = l
}

// SetTokenScopes records the OAuth scopes of a classic token (one of
// Options.Tokens). Org queries from a token with recorded scopes but none of
// read:org, write:org or admin:org get GitHub's INSUFFICIENT_SCOPES error.
// Tokens without recorded scopes may read every organisation.
func (s *Server) SetTokenScopes(token string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.org.scopes == nil {
		s.org.scopes = map[string][]string{}
	}
	s.org.scopes[token] = slices.Clone(scopes)
}
