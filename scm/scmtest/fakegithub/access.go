package fakegithub

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
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
	s.site.Lock()
	defer s.site.Unlock()
	return slices.Clone(s.access.grants[key(owner, name)])
}

// accessRoutes adds PUT /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}
// and PUT /repos/{owner}/{repo}/collaborators/{username}.
func (s *Server) accessRoutes(mux *http.ServeMux) {
	s.handle(mux, "PUT /orgs/{org}/teams/{team}/repos/{owner}/{repo}", s.putGrant(
		"https://docs.github.com/rest/teams/teams#add-or-update-team-repository-permissions", "TeamRepository", s.teamGrant))
	s.handle(mux, "PUT /repos/{owner}/{repo}/collaborators/{user}", s.putGrant(
		"https://docs.github.com/rest/collaborators/collaborators#add-a-repository-collaborator", "Repository", s.userGrant))
}

// putGrant answers a PUT of a grant on a repository with a body
// {"permission": p} (default push) as GitHub does: 422 for an unknown
// permission (naming resource), 404 for a repository the caller cannot
// see or when grant, called with s.mu held, finds no grantee; else grant
// records the grant and answers.
func (s *Server) putGrant(doc, resource string, grant func(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, perm string) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Permission string `json:"permission"`
		}
		if r.ContentLength != 0 && !s.decode(w, r, &body, doc) {
			return
		}
		perm := cmp.Or(body.Permission, "push")
		if !slices.Contains([]string{"pull", "triage", "push", "maintain", "admin"}, perm) {
			s.validation(w, r, doc, map[string]any{"resource": resource, "code": "invalid", "field": "permission"})
			return
		}
		s.site.Lock()
		defer s.site.Unlock()
		if rp := s.visibleRepo(r); rp == nil || !grant(w, r, rp, perm) {
			s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
		}
	}
}

// teamGrant gives a team of the organization that owns rp access to it:
// 204.
func (s *Server) teamGrant(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, perm string) bool {
	org := s.org.orgs[strings.ToLower(r.PathValue("org"))]
	if org == nil || !strings.EqualFold(org.login, rp.Owner.Key) {
		return false
	}
	t := org.team(r.PathValue("team"))
	if t == nil {
		return false
	}
	s.grantLocked(rp, Grant{Team: t.Slug, Permission: perm})
	w.WriteHeader(http.StatusNoContent)
	return true
}

// userGrant gives a user access to rp: 204 for a member of the owning
// organization, 201 with an invitation for anyone else. A user is known
// when she owns an account in the fake or is a member of one of its
// organizations.
func (s *Server) userGrant(w http.ResponseWriter, r *http.Request, rp *repostore.Repo, perm string) bool {
	login := r.PathValue("user")
	o := s.site.FindOwner(login)
	known, member := o != nil && o.Type == string(User), false
	for _, org := range s.org.orgs {
		if org.member(login) != nil {
			known = true
			member = member || strings.EqualFold(org.login, rp.Owner.Key)
		}
	}
	if !known {
		return false
	}
	s.grantLocked(rp, Grant{User: login, Permission: perm, Invited: !member})
	if member {
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	j := s.repoJSON(r, rp)
	s.writeJSON(w, r, http.StatusCreated, map[string]any{
		"id": s.newID(), "permissions": perm, "created_at": ts(s.now()),
		"invitee": map[string]any{"login": login, "type": "User"}, "repository": j,
		"html_url": j["html_url"].(string) + "/invitations",
	})
	return true
}

// grantLocked records g on rp, replacing an earlier grant to the same
// team or user.
func (s *Server) grantLocked(rp *repostore.Repo, g Grant) {
	if s.access.grants == nil {
		s.access.grants = map[string][]Grant{}
	}
	k := key(rp.Owner.Key, rp.Slug)
	gs := slices.DeleteFunc(s.access.grants[k], func(o Grant) bool {
		return o.Team != "" && strings.EqualFold(o.Team, g.Team) || o.User != "" && strings.EqualFold(o.User, g.User)
	})
	s.access.grants[k] = append(gs, g)
}
