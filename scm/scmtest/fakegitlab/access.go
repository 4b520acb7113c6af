package fakegitlab

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Grant is access given on a project, as [Server.Grants] lists it: a
// group share (Group is the group's full path) or a direct membership
// (User is the username), with GitLab's access level (10 Guest, 20
// Reporter, 30 Developer, 40 Maintainer, 50 Owner).
type Grant struct {
	Group, User string
	AccessLevel int
}

// String is "group acme/platform: 30" or "user alice: 40".
func (g Grant) String() string {
	if g.Group != "" {
		return fmt.Sprintf("group %s: %d", g.Group, g.AccessLevel)
	}
	return fmt.Sprintf("user %s: %d", g.User, g.AccessLevel)
}

// Grants returns the group shares and direct members added to the project
// at fullPath through the API, in order.
func (s *Server) Grants(fullPath string) []Grant {
	var out []Grant
	s.withProject(fullPath, func(pr *project) error { //nolint:errcheck // none for a missing project
		out = slices.Clone(s.grants[pr.id])
		return nil
	})
	return out
}

// grantParams reads the parameters of a share or a membership: the id
// named idKey and the access level named levelKey, answering Grape's 400
// when the body is unreadable or the id missing, and badLevel (400) when
// the level is not one GitLab accepts.
func (s *Server) grantParams(w http.ResponseWriter, r *http.Request, idKey, levelKey string, badLevel any) (id, level int64, ok bool) {
	in := map[string]any{}
	if decodeParams(r, &in) != nil {
		s.paramError(w, r, "400 Bad request")
		return 0, 0, false
	}
	if id, ok = intParam(in, idKey); !ok {
		s.paramError(w, r, idKey+" is missing")
		return 0, 0, false
	}
	if level, ok = intParam(in, levelKey); !ok || level <= 0 || levelNames[int(level)] == "" {
		s.writeJSON(w, r, http.StatusBadRequest, badLevel)
		return 0, 0, false
	}
	return id, level, true
}

// intParam reads an integer parameter of a JSON or form body.
func intParam(m map[string]any, k string) (int64, bool) {
	switch v := m[k].(type) {
	case float64:
		return int64(v), v == float64(int64(v))
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// shareProject answers POST /projects/:id/share as GitLab does: 201 with
// the link; 400 {"error":"group_id is missing"} or "group_access does not
// have a valid value"; 404 {"message":"404 Group Not Found"} for an
// unknown group; 409 {"message":"Group already shared with this group"}.
func (s *Server) shareProject(w http.ResponseWriter, r *http.Request, pr *project) {
	gid, level, ok := s.grantParams(w, r, "group_id", "group_access", map[string]any{"error": "group_access does not have a valid value"})
	if !ok {
		return
	}
	if g := s.namespaceByID(gid); g == nil || g.kind != "group" {
		s.notFound(w, r, "Group")
	} else {
		s.grant(w, r, pr, Grant{Group: g.fullPath, AccessLevel: int(level)}, "Group already shared with this group",
			map[string]any{"id": s.nextID, "project_id": pr.id, "group_id": g.id, "group_access": level, "expires_at": nil})
	}
}

// grant records g on pr and answers 201 with body, or 409 {"message":
// conflict} when pr has a grant to the same group or user.
func (s *Server) grant(w http.ResponseWriter, r *http.Request, pr *project, g Grant, conflict string, body map[string]any) {
	if slices.ContainsFunc(s.grants[pr.id], func(x Grant) bool {
		return strings.EqualFold(x.Group, g.Group) && strings.EqualFold(x.User, g.User)
	}) {
		s.message(w, r, http.StatusConflict, conflict)
		return
	}
	s.grants[pr.id] = append(s.grants[pr.id], g)
	s.writeJSON(w, r, http.StatusCreated, body)
}

// addProjectMember answers POST /projects/:id/members as GitLab does: 201
// with the member; 400 for a missing user_id or an invalid access_level;
// 404 {"message":"404 User Not Found"} for an unknown user; 409
// {"message":"Member already exists"}; 400 when the user has a higher
// level inherited from a group of the project's namespace ("should be
// greater than or equal to Maintainer inherited membership from group
// acme").
func (s *Server) addProjectMember(w http.ResponseWriter, r *http.Request, pr *project) {
	uid, level, ok := s.grantParams(w, r, "user_id", "access_level",
		map[string]any{"message": map[string]any{"access_level": []string{"is not included in the list"}}})
	if !ok {
		return
	}
	i := slices.IndexFunc(s.org.users, func(u *orgUser) bool { return u.id == uid })
	if i < 0 {
		s.notFound(w, r, "User")
		return
	}
	u := s.org.users[i]
	inherited, from := 0, ""
	for ns := pr.ns; ns != nil; ns = ns.parent {
		for _, m := range s.org.members[strings.ToLower(ns.fullPath)] {
			if m.user == u && m.level > inherited {
				inherited, from = m.level, ns.fullPath
			}
		}
	}
	if int(level) < inherited {
		name := cmp.Or(levelNames[inherited], strconv.Itoa(inherited))
		s.message(w, r, http.StatusBadRequest, map[string]any{"access_level": []string{fmt.Sprintf(
			"should be greater than or equal to %s inherited membership from group %s", name[:1]+strings.ToLower(name[1:]), from)}})
		return
	}
	j := s.orgUserJSON(u)
	j["access_level"], j["created_at"], j["expires_at"] = level, s.now().Format(time.RFC3339), nil
	s.grant(w, r, pr, Grant{User: u.username, AccessLevel: int(level)}, "Member already exists", j)
}
