package fakegitlab

import (
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

// accessWorld holds the grants of every project, guarded by Server.mu.
type accessWorld struct {
	grants map[int64][]Grant // by project id
}

// Grants returns the group shares and direct members added to the project
// at fullPath through the API, in order.
func (s *Server) Grants(fullPath string) []Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.projects[strings.ToLower(fullPath)]
	if pr == nil {
		return nil
	}
	return slices.Clone(s.access.grants[pr.id])
}

// accessRoutes adds POST /projects/:id/share and POST /projects/:id/members.
func (s *Server) accessRoutes() {
	s.handle("POST /api/v4/projects/{id}/share", s.write(s.shareProject))
	s.handle("POST /api/v4/projects/{id}/members", s.write(s.addProjectMember))
}

// validLevel reports whether level is one GitLab accepts for a share or
// a project member.
func validLevel(level int) bool {
	return slices.Contains([]int{5, 10, 15, 20, 30, 40, 50}, level)
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
	in := map[string]any{}
	if err := decodeParams(r, &in); err != nil {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": "400 Bad request"})
		return
	}
	gid, ok := intParam(in, "group_id")
	if !ok {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": "group_id is missing"})
		return
	}
	level, ok := intParam(in, "group_access")
	if !ok || !validLevel(int(level)) {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": "group_access does not have a valid value"})
		return
	}
	var g *namespace
	for _, ns := range s.namespaces {
		if ns.kind == "group" && ns.id == gid {
			g = ns
		}
	}
	if g == nil {
		s.notFound(w, r, "Group")
		return
	}
	for _, x := range s.access.grants[pr.id] {
		if strings.EqualFold(x.Group, g.fullPath) {
			s.message(w, r, http.StatusConflict, "Group already shared with this group")
			return
		}
	}
	s.grantLocked(pr, Grant{Group: g.fullPath, AccessLevel: int(level)})
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"id": s.nextID, "project_id": pr.id, "group_id": g.id,
		"group_access": level, "expires_at": nil})
}

// addProjectMember answers POST /projects/:id/members as GitLab does: 201
// with the member; 400 for a missing user_id or an invalid access_level;
// 404 {"message":"404 User Not Found"} for an unknown user; 409
// {"message":"Member already exists"}; 400 when the user has a higher
// level inherited from a group of the project's namespace ("should be
// greater than or equal to Maintainer inherited membership from group
// acme").
func (s *Server) addProjectMember(w http.ResponseWriter, r *http.Request, pr *project) {
	in := map[string]any{}
	if err := decodeParams(r, &in); err != nil {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": "400 Bad request"})
		return
	}
	uid, ok := intParam(in, "user_id")
	if !ok {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"error": "user_id is missing"})
		return
	}
	level, ok := intParam(in, "access_level")
	if !ok || !validLevel(int(level)) {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"message": map[string]any{
			"access_level": []string{"is not included in the list"}}})
		return
	}
	s.org.mu.Lock()
	var u *orgUser
	for _, x := range s.org.users {
		if x.id == uid {
			u = x
		}
	}
	var j map[string]any
	inherited, from := 0, ""
	if u != nil {
		j = s.orgUserJSON(u)
		for ns := pr.ns; ns != nil; ns = ns.parent {
			for _, m := range s.org.members[strings.ToLower(ns.fullPath)] {
				if m.user == u && m.level > inherited {
					inherited, from = m.level, ns.fullPath
				}
			}
		}
	}
	s.org.mu.Unlock()
	if u == nil {
		s.notFound(w, r, "User")
		return
	}
	if int(level) < inherited {
		s.writeJSON(w, r, http.StatusBadRequest, map[string]any{"message": map[string]any{"access_level": []string{
			fmt.Sprintf("should be greater than or equal to %s inherited membership from group %s", levelName(inherited), from)}}})
		return
	}
	for _, x := range s.access.grants[pr.id] {
		if strings.EqualFold(x.User, j["username"].(string)) {
			s.message(w, r, http.StatusConflict, "Member already exists")
			return
		}
	}
	s.grantLocked(pr, Grant{User: j["username"].(string), AccessLevel: int(level)})
	j["access_level"] = level
	j["created_at"] = time.Now().UTC().Format(time.RFC3339)
	j["expires_at"] = nil
	s.writeJSON(w, r, http.StatusCreated, j)
}

func (s *Server) grantLocked(pr *project, g Grant) {
	if s.access.grants == nil {
		s.access.grants = map[int64][]Grant{}
	}
	s.access.grants[pr.id] = append(s.access.grants[pr.id], g)
}

// String is "group acme/platform: 30" or "user alice: 40".
func (g Grant) String() string {
	if g.Group != "" {
		return fmt.Sprintf("group %s: %d", g.Group, g.AccessLevel)
	}
	return fmt.Sprintf("user %s: %d", g.User, g.AccessLevel)
}

// levelName is GitLab's name of an access level.
func levelName(level int) string {
	switch level {
	case 10:
		return "Guest"
	case 20:
		return "Reporter"
	case 30:
		return "Developer"
	case 40:
		return "Maintainer"
	case 50:
		return "Owner"
	}
	return strconv.Itoa(level)
}
