package fakegithub

import (
	"net/http"
	"slices"
	"strings"
)

const (
	docTeamRepo     = "https://docs.github.com/rest/teams/teams#add-or-update-team-repository-permissions"
	docCollaborator = "https://docs.github.com/rest/collaborators/collaborators#add-a-repository-collaborator"
)

// Grant is a permission given on a repository, as [Server.Grants] lists
// it: a team's or a user's, with GitHub's permission name (pull, triage,
// push, maintain, admin).
type Grant struct {
	Team, User, Permission string
	// Invited is set for a user who was not yet a collaborator: GitHub
	// answered with an invitation, which the fake does not accept.
	Invited bool
}

// accessWorld holds the grants of every repository, guarded by Server.mu.
type accessWorld struct {
	grants map[string][]Grant // by key(owner, repo)
}

// Grants returns the grants on owner/name, in the order they were made;
// a later grant to the same team or user replaces the earlier.
func (s *Server) Grants(owner, name string) []Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.access.grants[key(owner, name)])
}

// accessRoutes adds PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}
// and PUT /repos/{owner}/{repo}/collaborators/{username}.
func (s *Server) accessRoutes(mux *http.ServeMux) {
	s.handle(mux, "PUT /orgs/{org}/teams/{team}/repos/{owner}/{repo}", s.putTeamRepo)
	s.handle(mux, "PUT /repos/{owner}/{repo}/collaborators/{user}", s.putCollaborator)
}

var githubPermissions = []string{"pull", "triage", "push", "maintain", "admin"}

// grantLocked records g on rp, replacing an earlier grant to the same
// team or user.
func (s *Server) grantLocked(rp *repo, g Grant) {
	if s.access.grants == nil {
		s.access.grants = map[string][]Grant{}
	}
	k := key(rp.owner.login, rp.name)
	gs := slices.DeleteFunc(s.access.grants[k], func(o Grant) bool {
		return o.Team != "" && strings.EqualFold(o.Team, g.Team) || o.User != "" && strings.EqualFold(o.User, g.User)
	})
	s.access.grants[k] = append(gs, g)
}

// putTeamRepo answers 204 as GitHub does; 404 for an unknown organization,
// team or repository (or a repository outside the organization), 422 for
// an unknown permission.
func (s *Server) putTeamRepo(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Permission string `json:"permission"`
	}
	if r.ContentLength != 0 && !s.decode(w, r, &body, docTeamRepo) {
		return
	}
	perm := body.Permission
	if perm == "" {
		perm = "push"
	}
	if !slices.Contains(githubPermissions, perm) {
		s.validation(w, r, docTeamRepo, map[string]any{"resource": "TeamRepository", "code": "invalid", "field": "permission"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	org := s.org.orgs[strings.ToLower(r.PathValue("org"))]
	rp := s.visibleRepo(r)
	if org == nil || rp == nil || !strings.EqualFold(org.login, rp.owner.login) {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docTeamRepo)
		return
	}
	t := org.bySlug[strings.ToLower(r.PathValue("team"))]
	if t == nil {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docTeamRepo)
		return
	}
	s.grantLocked(rp, Grant{Team: t.slug, Permission: perm})
	w.WriteHeader(http.StatusNoContent)
}

// putCollaborator answers as GitHub does: 201 with an invitation for a
// user who is not a member of the owning organization, 204 for a member;
// 404 for an unknown user or repository, 422 for an unknown permission.
// A user is known when she owns an account in the fake or is a member
// of one of its organizations.
func (s *Server) putCollaborator(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Permission string `json:"permission"`
	}
	if r.ContentLength != 0 && !s.decode(w, r, &body, docCollaborator) {
		return
	}
	perm := body.Permission
	if perm == "" {
		perm = "push"
	}
	if !slices.Contains(githubPermissions, perm) {
		s.validation(w, r, docCollaborator, map[string]any{"resource": "Repository", "code": "invalid", "field": "permission"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.visibleRepo(r)
	if rp == nil {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docCollaborator)
		return
	}
	login := r.PathValue("user")
	known, member := false, false
	if o := s.owners[strings.ToLower(login)]; o != nil && o.typ == User {
		known = true
	}
	for _, o := range s.org.orgs {
		if u := o.byLogin[strings.ToLower(login)]; u != nil {
			known = true
			member = member || strings.EqualFold(o.login, rp.owner.login)
		}
	}
	if !known {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docCollaborator)
		return
	}
	s.grantLocked(rp, Grant{User: login, Permission: perm, Invited: !member})
	if member {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	j := s.repoJSON(r, rp)
	s.writeJSON(w, r, http.StatusCreated, map[string]any{
		"id": s.newID(), "permissions": perm, "created_at": s.now().UTC().Format("2006-01-02T15:04:05Z"),
		"invitee": map[string]any{"login": login, "type": "User"}, "repository": j,
		"html_url": j["html_url"].(string) + "/invitations",
	})
}
