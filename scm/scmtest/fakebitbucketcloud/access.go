package fakebitbucketcloud

import (
	"net/http"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// Grant is an explicit permission on a repository, as [Server.Grants]
// lists it: a group's (Group, its slug) or a user's (User, her account
// id), Permission "read", "write" or "admin".
type Grant = repostore.Grant

// accessWorld holds the workspaces' groups ("workspace/group_slug",
// lower-case), the known accounts (ids and {UUID}s) and the grants,
// guarded by the store's mutex.
type accessWorld = repostore.Access

// AddGroup adds the group groupSlug to workspace, for the permission
// routes.
func (s *Server) AddGroup(workspace, groupSlug string) {
	s.st.Lock()
	defer s.st.Unlock()
	s.access.Add("group", strings.ToLower(workspace+"/"+groupSlug))
}

// AddAccount makes a user known by her account id (or {UUID}), for the
// permission routes.
func (s *Server) AddAccount(accountID string) {
	s.st.Lock()
	defer s.st.Unlock()
	s.access.Add("user", accountID)
}

// Grants returns the explicit permissions set on workspace/slug through
// the API, in order; setting one again replaces it in place.
func (s *Server) Grants(workspace, slug string) []Grant {
	s.st.Lock()
	defer s.st.Unlock()
	return s.access.Grants(workspace, slug)
}

// accessRoutes are PUT .../permissions-config/groups/{group_slug} and
// .../permissions-config/users/{selected_user_id} on repositories.
func (s *Server) accessRoutes() map[string]func(http.ResponseWriter, *http.Request, *repostore.Repo) {
	return map[string]func(http.ResponseWriter, *http.Request, *repostore.Repo){
		"PUT /permissions-config/groups/{group}": s.putPermission,
		"PUT /permissions-config/users/{user}":   s.putPermission,
	}
}

// putPermission answers as Bitbucket documents: 200 with the
// repository_group_permission or repository_user_permission; 400 for a
// missing or unknown permission; 404 for an unknown group or user.
func (s *Server) putPermission(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
	var body struct {
		Permission string `json:"permission"`
	}
	if !s.decode(w, r, &body) {
		return
	}
	if !slices.Contains([]string{"read", "write", "admin"}, body.Permission) {
		s.writeError(w, r, http.StatusBadRequest,
			"No permission value was provided or the value is invalid (not one of read, write, or admin)", "")
		return
	}
	ws := rp.Owner.Key
	self := s.api.URL + "/2.0/repositories/" + ws + "/" + rp.Slug + "/permissions-config/"
	g := Grant{Group: r.PathValue("group"), User: r.PathValue("user"), Permission: body.Permission}
	var out map[string]any
	if g.Group != "" {
		if !s.access.Known("group", strings.ToLower(ws+"/"+g.Group)) {
			s.writeError(w, r, http.StatusNotFound, "Group "+g.Group+" not found", "")
			return
		}
		out = map[string]any{"type": "repository_group_permission", "permission": g.Permission,
			"group": map[string]any{"type": "group", "slug": g.Group, "name": g.Group, "full_slug": ws + ":" + g.Group},
			"links": links{"self": href(self + "groups/" + g.Group)}}
	} else {
		if !s.access.Known("user", g.User) {
			s.writeError(w, r, http.StatusNotFound, "User "+g.User+" not found", "")
			return
		}
		out = map[string]any{"type": "repository_user_permission", "permission": g.Permission,
			"user":  map[string]any{"type": "user", "account_id": g.User},
			"links": links{"self": href(self + "users/" + g.User)}}
	}
	s.access.Set(ws, rp.Slug, g)
	s.writeJSON(w, r, http.StatusOK, out)
}
