package fakegitlab

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// getNamespace answers GET /namespaces/:id (numeric id or URL-encoded
// full path).
func (s *Server) getNamespace(w http.ResponseWriter, r *http.Request, ns *namespace) {
	s.writeJSON(w, r, http.StatusOK, s.namespaceJSON(r, ns))
}

// projectPathRE is GitLab's project path rule (Gitlab::PathRegex): letters,
// digits, '_', '-', '.'; not starting with '-' or '.'; not ending in .git or
// .atom (checked apart).
var projectPathRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// createProject answers POST /projects as GitLab does: 201 with the
// project; 400 with per-field messages ("has already been taken") when the
// namespace has the name or path; 404 for an unknown namespace_id. The
// repository is empty (no README): its first commit creates its branch.
func (s *Server) createProject(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name          string     `json:"name"`
		Path          string     `json:"path"`
		NamespaceID   int64      `json:"namespace_id"`
		Description   string     `json:"description"`
		Visibility    Visibility `json:"visibility"`
		DefaultBranch string     `json:"default_branch"`
		Topics        []string   `json:"topics"`
	}
	err := decodeParams(r, &in)
	p := cmp.Or(in.Path, in.Name)
	lower := strings.ToLower(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.namespaceByID(in.NamespaceID)
	if in.NamespaceID == 0 {
		ns = s.namespaces[strings.ToLower(s.opts.User)]
	}
	taken := []string{"has already been taken"}
	switch {
	case err != nil:
		s.paramError(w, r, "namespace_id is invalid")
	case p == "":
		s.paramError(w, r, "name, path are missing, at least one parameter must be provided")
	case !projectPathRE.MatchString(p) || strings.HasSuffix(lower, ".git") || strings.HasSuffix(lower, ".atom"):
		s.message(w, r, http.StatusBadRequest, map[string]any{"path": []string{"can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'"}})
	case !slices.Contains([]Visibility{"", Private, Internal, Public}, in.Visibility):
		s.paramError(w, r, "visibility does not have a valid value")
	case ns == nil:
		s.notFound(w, r, "Namespace")
	case s.projects[strings.ToLower(ns.fullPath+"/"+p)] != nil:
		s.message(w, r, http.StatusBadRequest, map[string]any{"project_namespace.name": taken, "name": taken, "path": taken})
	default:
		pr := s.newProject(ns, Project{Path: p, Name: in.Name, Description: in.Description, Visibility: in.Visibility,
			DefaultBranch: in.DefaultBranch})
		s.projects[strings.ToLower(pr.fullPath())], s.byID[pr.id] = pr, pr
		s.writeJSON(w, r, http.StatusCreated, s.projectJSON(r, pr))
	}
}
