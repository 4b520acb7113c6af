package fakegithub

import (
	"net/http"
	"regexp"

	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

const (
	docCreateOrgRepo  = "https://docs.github.com/rest/repos/repos#create-an-organization-repository"
	docCreateUserRepo = "https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user"
	docTopics         = "https://docs.github.com/rest/repos/repos#replace-all-repository-topics"
)

// createRoutes adds repository creation: POST /orgs/{org}/repos, POST
// /user/repos and PUT /repos/{owner}/{repo}/topics, the grants of
// access.go and the git push of gitpush.go, which writes the initial
// commit.
func (s *Server) createRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST /orgs/{org}/repos", s.createRepo(Organization))
	s.handle(mux, "POST /user/repos", s.createRepo(User))
	s.handle(mux, "PUT /repos/{owner}/{repo}/topics", s.replaceTopics)
	s.accessRoutes(mux) // access.go
	s.gitRoutes(mux)    // gitpush.go
}

// repoNameRE is what GitHub keeps of a name; it replaces other characters
// with '-', which the fake refuses instead so that a test notices.
var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// createRepo answers as GitHub does: 201 with the repository; 422
// "Repository creation failed." with a custom error on name when the
// owner has the name already; 404 for an unknown organization. The
// repository is empty (auto_init is not modelled): its default branch is
// "main" until a push makes the first branch pushed the default.
func (s *Server) createRepo(typ OwnerType) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		doc := docCreateOrgRepo
		if typ == User {
			doc = docCreateUserRepo
		}
		if !authenticated(r) {
			s.writeError(w, r, http.StatusUnauthorized, "Requires authentication", doc)
			return
		}
		var body struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Private     *bool  `json:"private"`
			Visibility  string `json:"visibility"`
		}
		if !s.decode(w, r, &body, doc) {
			return
		}
		s.site.Lock()
		defer s.site.Unlock()
		var o *repostore.Owner
		if typ == Organization {
			o = s.site.FindOwner(r.PathValue("org"))
			if o == nil || o.Type != string(Organization) {
				s.writeError(w, r, http.StatusNotFound, "Not Found", doc)
				return
			}
		} else {
			o = s.ownerLocked(s.actor(r), User)
		}
		if body.Name == "" {
			s.validation(w, r, doc, map[string]any{"resource": "Repository", "code": "missing_field", "field": "name"})
			return
		}
		if !repoNameRE.MatchString(body.Name) || body.Name == "." || body.Name == ".." {
			s.validation(w, r, doc, map[string]any{"resource": "Repository", "code": "custom", "field": "name",
				"message": "name is invalid"})
			return
		}
		if s.repoLocked(o.Key, body.Name) != nil {
			s.writeJSON(w, r, http.StatusUnprocessableEntity, map[string]any{
				"message": "Repository creation failed.",
				"errors": []any{map[string]any{"resource": "Repository", "code": "custom", "field": "name",
					"message": "name already exists on this account"}},
				"documentation_url": doc, "status": "422"})
			return
		}
		private := body.Private != nil && *body.Private
		switch body.Visibility {
		case "":
		case "public":
			private = false
		case "private", "internal":
			private = true
		default:
			s.validation(w, r, doc, map[string]any{"resource": "Repository", "code": "invalid", "field": "visibility"})
			return
		}
		rp, _ := s.createLocked(o, repostore.Repo{Slug: body.Name, Description: body.Description, Public: !private})
		j := s.repoJSON(r, rp)
		w.Header().Set("Location", j["url"].(string))
		s.writeJSON(w, r, http.StatusCreated, j)
	}
}

// replaceTopics answers {"names": [...]} as GitHub does; the fake keeps
// no topics.
func (s *Server) replaceTopics(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Names []string `json:"names"`
	}
	if err := decodeBody(r, &body); err != nil || body.Names == nil {
		s.writeError(w, r, http.StatusBadRequest, "Problems parsing JSON", docTopics)
		return
	}
	s.site.Lock()
	defer s.site.Unlock()
	if rp := s.visibleRepo(r); rp == nil || !authenticated(r) {
		s.writeError(w, r, http.StatusNotFound, "Not Found", docTopics)
		return
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"names": body.Names})
}
