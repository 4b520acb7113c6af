package fakebitbucketserver

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

const (
	exNoSuchGroup = exPrefix + "user.NoSuchGroupException"
	exNoSuchUser  = exPrefix + "user.NoSuchUserException"
)

// Grant is a repository permission, as [Server.Grants] lists it: a
// group's (Group) or a user's (User), Permission REPO_READ, REPO_WRITE or
// REPO_ADMIN.
type Grant = repostore.Grant

// AddGroup makes a group known to the permission routes.
func (s *Server) AddGroup(name string) { s.addKnown("group", name) }

// AddUser makes a user name known to the permission routes.
func (s *Server) AddUser(name string) { s.addKnown("user", name) }

func (s *Server) addKnown(kind, name string) {
	s.st.Lock()
	defer s.st.Unlock()
	s.access.Add(kind, strings.ToLower(name))
}

// Grants returns the permissions granted on projectKey/slug through the
// API, in order; granting again replaces in place.
func (s *Server) Grants(projectKey, slug string) []Grant {
	s.st.Lock()
	defer s.st.Unlock()
	return s.access.Grants(projectKey, slug)
}

// accessRoutes are PUT .../repos/{slug}/permissions/groups and
// .../permissions/users.
func (s *Server) accessRoutes() map[string]func(http.ResponseWriter, *http.Request, *repostore.Repo) {
	return map[string]func(http.ResponseWriter, *http.Request, *repostore.Repo){
		"PUT /permissions/groups": s.putPermission("group"),
		"PUT /permissions/users":  s.putPermission("user"),
	}
}

// putPermission answers as Bitbucket documents: 204 once granted to every
// name= of the query; 400 for a missing or unknown permission or no name;
// 404 for an unknown group or user (nothing granted).
func (s *Server) putPermission(kind string) func(http.ResponseWriter, *http.Request, *repostore.Repo) {
	return func(w http.ResponseWriter, r *http.Request, rp *repostore.Repo) {
		q := r.URL.Query()
		perm, names := q.Get("permission"), q["name"]
		if !slices.Contains([]string{"REPO_READ", "REPO_WRITE", "REPO_ADMIN"}, perm) {
			s.writeError(w, r, http.StatusBadRequest, "java.lang.IllegalArgumentException",
				fmt.Sprintf("No enum constant com.atlassian.bitbucket.permission.Permission.%s", perm))
			return
		}
		if len(names) == 0 {
			s.writeError(w, r, http.StatusBadRequest, "java.lang.IllegalArgumentException", "At least one user or group name must be provided")
			return
		}
		for _, n := range names {
			if !s.access.Known(kind, strings.ToLower(n)) {
				exc := map[string]string{"group": exNoSuchGroup, "user": exNoSuchUser}[kind]
				s.writeError(w, r, http.StatusNotFound, exc, fmt.Sprintf("No %s with name '%s' exists.", kind, n))
				return
			}
		}
		for _, n := range names {
			g := Grant{Permission: perm}
			if kind == "group" {
				g.Group = n
			} else {
				g.User = n
			}
			s.access.Set(r.PathValue("key"), rp.Slug, g)
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
