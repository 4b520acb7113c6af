package fakegitlab

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Organisation data: users and group memberships ([Server.AddGroupMember]),
// served by GraphQL (Group.groupMembers, graphql.go; Query.groups, every
// group an authenticated request sees), by GET
// /api/v4/groups/:id/members/all and by GET /api/v4/users (active users,
// offset pagination). [Server.SetTokenScopes] makes a token without
// read_api (or api) get GitLab's 403 insufficient_scope.

// Member is a user and its membership of a group, for
// [Server.AddGroupMember].
type Member struct {
	Username    string
	Name        string // default Username
	PublicEmail string
	AvatarURL   string
	// State is "active" (default), "blocked", "deactivated", ...
	State string
	// Bot marks project and group access token users.
	Bot bool
	// AccessLevel is GitLab's number: 10 guest, 20 reporter, 30 developer
	// (default), 40 maintainer, 50 owner.
	AccessLevel int
	// NoSeat marks a membership that uses no licensed seat on gitlab.com:
	// GET /groups/:id/members/all?show_seat_info=true answers
	// is_using_seat false for it (true otherwise).
	NoSeat bool
}

// orgWorld is the organisation data, guarded by Server.mu.
type orgWorld struct {
	users   []*orgUser
	byName  map[string]*orgUser         // lower-case username
	members map[string][]*orgMembership // lower-case group path
	descr   map[string]string           // lower-case group path -> description
	scopes  map[string][]string         // token -> scopes
	nextID  int64
}

type orgUser struct {
	id                                   int64
	username, name, email, avatar, state string
	bot                                  bool
}

// orgMembership is a user's membership of a group.
type orgMembership struct {
	user   *orgUser
	group  *namespace
	level  int
	noSeat bool
}

// AddGroupMember makes m a direct member of the group at groupPath (created
// with its parents if missing). The user is created on first use and
// updated by later calls.
func (s *Server) AddGroupMember(groupPath string, m Member) error {
	if m.Username == "" {
		return fmt.Errorf("fakegitlab: AddGroupMember: username is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.groupLocked(groupPath)
	if err != nil {
		return err
	}
	u, key := s.org.userLocked(m), strings.ToLower(g.fullPath)
	if i := slices.IndexFunc(s.org.members[key], func(x *orgMembership) bool { return x.user == u }); i >= 0 {
		s.org.members[key][i].level, s.org.members[key][i].noSeat = cmp.Or(m.AccessLevel, 30), m.NoSeat
		return nil
	}
	s.org.members[key] = append(s.org.members[key], &orgMembership{user: u, group: g, level: cmp.Or(m.AccessLevel, 30), noSeat: m.NoSeat})
	return nil
}

// AddOrgUser creates (or updates) a user that need not belong to a group.
func (s *Server) AddOrgUser(m Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.org.userLocked(m)
}

// SetGroupDescription sets a group's description.
func (s *Server) SetGroupDescription(groupPath, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.org.descr[strings.ToLower(strings.Trim(groupPath, "/"))] = description
}

// SetTokenScopes records a personal access token's scopes: organisation
// requests from a token with recorded scopes but neither read_api nor api
// get 403 insufficient_scope.
func (s *Server) SetTokenScopes(token string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.org.scopes[token] = slices.Clone(scopes)
}

func (w *orgWorld) userLocked(m Member) *orgUser {
	u := w.byName[strings.ToLower(m.Username)]
	if u == nil {
		w.nextID++
		u = &orgUser{id: 5000 + w.nextID}
		w.byName[strings.ToLower(m.Username)] = u
		w.users = append(w.users, u)
	}
	u.username, u.name, u.email, u.state, u.bot = m.Username, cmp.Or(m.Name, m.Username), m.PublicEmail, cmp.Or(m.State, "active"), m.Bot
	u.avatar = cmp.Or(m.AvatarURL, fmt.Sprintf("https://secure.gravatar.com/avatar/%d?s=80&d=identicon", u.id))
	return u
}

// orgRead adapts an organisation handler, which it calls with s.mu held:
// 401 for an anonymous request, 403 for a token without one of the
// accepted scopes.
func (s *Server) orgRead(h http.HandlerFunc, accepted ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.requireAuth(w, r) && !s.scopeDenied(w, r, accepted...) {
			h(w, r)
		}
	}
}

// scopeDenied writes GitLab's 403 for a token with recorded scopes of
// which none is accepted, and reports whether it did. The caller holds
// s.mu.
func (s *Server) scopeDenied(w http.ResponseWriter, r *http.Request, accepted ...string) bool {
	tok := r.Header.Get("PRIVATE-TOKEN")
	if h := r.Header.Get("Authorization"); h != "" {
		_, tok, _ = strings.Cut(h, " ")
	}
	scopes, ok := s.org.scopes[tok]
	if !ok || slices.ContainsFunc(scopes, func(sc string) bool { return slices.Contains(accepted, sc) }) {
		return false
	}
	s.writeJSON(w, r, http.StatusForbidden, map[string]any{"error": "insufficient_scope",
		"error_description": "The request requires higher privileges than provided by the access token.", "scope": strings.Join(accepted, " ")})
	return true
}

// listAllGroupMembers answers GET /api/v4/groups/:id/members/all: the
// group's direct and inherited (ancestors') members, each user once with
// the highest access level, offset pages; with show_seat_info=true each
// member carries is_using_seat, as on gitlab.com.
func (s *Server) listAllGroupMembers(w http.ResponseWriter, r *http.Request) {
	ns := s.lookupNamespace(w, r, "group", "Group")
	if ns == nil {
		return
	}
	var groups []*namespace
	for g := ns; g != nil; g = g.parent {
		groups = append(groups, g)
	}
	list := []map[string]any{}
	for _, m := range s.org.bestMemberships(groups) {
		e := s.orgUserJSON(m.user)
		e["access_level"], e["membership_state"] = m.level, "active"
		if m.user.email != "" {
			e["email"] = m.user.email
		}
		if r.URL.Query().Get("show_seat_info") == "true" {
			e["is_using_seat"] = !m.noSeat
		}
		list = append(list, e)
	}
	start, end := s.offsetPage(w, r, len(list))
	s.writeJSON(w, r, http.StatusOK, list[start:end])
}

// listOrgUsers answers GET /api/v4/users (active=true, offset pages).
func (s *Server) listOrgUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	active, username := q.Get("active") == "true", q.Get("username")
	withoutBots := q.Get("exclude_internal") == "true" || q.Get("without_project_bots") == "true"
	list := []map[string]any{}
	for _, u := range s.org.users {
		if (active && u.state != "active") || (withoutBots && u.bot) || username != "" && !strings.EqualFold(u.username, username) {
			continue
		}
		e := s.orgUserJSON(u)
		e["public_email"] = u.email
		list = append(list, e)
	}
	start, end := s.offsetPage(w, r, len(list))
	s.writeJSON(w, r, http.StatusOK, list[start:end])
}

// orgUserJSON is the REST API's user object of u.
func (s *Server) orgUserJSON(u *orgUser) map[string]any {
	return map[string]any{"id": u.id, "username": u.username, "name": u.name, "state": u.state,
		"locked": false, "avatar_url": u.avatar, "web_url": s.URL() + "/" + u.username, "bot": u.bot}
}

// bestMemberships returns the memberships of groups, each user once (in
// order of first appearance) with the highest access level, as GitLab
// lists them. The caller holds Server.mu.
func (w *orgWorld) bestMemberships(groups []*namespace) []*orgMembership {
	var out []*orgMembership
	for _, g := range groups {
		for _, m := range w.members[strings.ToLower(g.fullPath)] {
			switch i := slices.IndexFunc(out, func(x *orgMembership) bool { return x.user == m.user }); {
			case i < 0:
				out = append(out, m)
			case m.level > out[i].level:
				out[i] = m
			}
		}
	}
	return out
}

// visibleGroups answers Query.groups: every group the request may see (an
// authenticated request sees all of the fake's groups, as an
// administrator's token does; the fake's groups are private, so an
// anonymous one sees none), filtered by ids, topLevelOnly, parentPath
// (its direct subgroups) and search (name or full path), sorted by sort
// ("name_asc", GitLab's default, "name_desc", "id_asc", "id_desc"; ties
// by id). The caller holds s.mu.
func (s *Server) visibleGroups(r *http.Request, args map[string]any) []*namespace {
	if !authenticated(r) {
		return nil
	}
	top, _ := args["topLevelOnly"].(bool)
	parent, _ := args["parentPath"].(string)
	search, _ := args["search"].(string)
	var out []*namespace
	for _, g := range s.namespaces {
		switch {
		case g.kind != "group",
			!listHas(args, "ids", "gid://gitlab/Group/"+strconv.FormatInt(g.id, 10)),
			top && g.parent != nil,
			parent != "" && (g.parent == nil || !strings.EqualFold(g.parent.fullPath, strings.Trim(parent, "/"))),
			search != "" && !strings.Contains(strings.ToLower(g.name), strings.ToLower(search)) &&
				!strings.Contains(strings.ToLower(g.fullPath), strings.ToLower(search)):
			continue
		}
		out = append(out, g)
	}
	sort, _ := args["sort"].(string)
	slices.SortFunc(out, func(a, b *namespace) int {
		c := cmp.Compare(a.name, b.name)
		if strings.HasPrefix(sort, "id_") {
			c = cmp.Compare(a.id, b.id)
		}
		if strings.HasSuffix(sort, "_desc") {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.id, b.id))
	})
	return out
}
