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
// group's or a user's, REPO_READ, REPO_WRITE or REPO_ADMIN.
type Grant struct {
	Group, User, Permission string
}

// accessWorld holds the known groups and users and the grants, guarded by
// the store's mutex.
type accessWorld struct {
	groups, users map[string]bool    // lower-case names
	grants        map[string][]Grant // by "KEY/slug", lower-case
}

// AddGroup makes a group known to the permission routes.
func (s *Server) AddGroup(name string) {
	s.st.Lock()
	defer s.st.Unlock()
	if s.access.groups == nil {
		s.access.groups = map[string]bool{}
	}
	s.access.groups[strings.ToLower(name)] = true
}

// AddUser makes a user name known to the permission routes.
func (s *Server) AddUser(name string) {
	s.st.Lock()
	defer s.st.Unlock()
	if s.access.users == nil {
		s.access.users = map[string]bool{}
	}
	s.access.users[strings.ToLower(name)] = true
}

// Grants returns the permissions granted on projectKey/slug through the
// API, in order; granting again replaces in place.
func (s *Server) Grants(projectKey, slug string) []Grant {
	s.st.Lock()
	defer s.st.Unlock()
	return slices.Clone(s.access.grants[strings.ToLower(projectKey+"/"+slug)])
}

// accessRoutes adds PUT .../repos/{slug}/permissions/groups and
// .../permissions/users.
func (s *Server) accessRoutes(mux *http.ServeMux) {
	s.repoRoute(mux, "PUT /projects/{key}/repos/{slug}/permissions/groups", s.putPermission(true))
	s.repoRoute(mux, "PUT /projects/{key}/repos/{slug}/permissions/users", s.putPermission(false))
}

// putPermission answers as Bitbucket documents: 204 once granted to every
// name= of the query; 400 for a missing or unknown permission or no name;
// 404 for an unknown group or user (nothing granted).
func (s *Server) putPermission(group bool) func(http.ResponseWriter, *http.Request, *repostore.Repo) {
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
		known := s.access.users
		if group {
			known = s.access.groups
		}
		for _, n := range names {
			if known[strings.ToLower(n)] {
				continue
			}
			if group {
				s.writeError(w, r, http.StatusNotFound, exNoSuchGroup, fmt.Sprintf("No group with name '%s' exists.", n))
			} else {
				s.writeError(w, r, http.StatusNotFound, exNoSuchUser, fmt.Sprintf("No user with name '%s' exists.", n))
			}
			return
		}
		if s.access.grants == nil {
			s.access.grants = map[string][]Grant{}
		}
		k := strings.ToLower(r.PathValue("key") + "/" + rp.Slug)
		for _, n := range names {
			g := Grant{Permission: perm}
			if group {
				g.Group = n
			} else {
				g.User = n
			}
			if i := slices.IndexFunc(s.access.grants[k], func(o Grant) bool { return o.Group == g.Group && o.User == g.User }); i >= 0 {
				s.access.grants[k][i] = g
			} else {
				s.access.grants[k] = append(s.access.grants[k], g)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
