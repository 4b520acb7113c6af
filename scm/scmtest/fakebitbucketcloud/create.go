package fakebitbucketcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// createRoutes adds POST /2.0/repositories/{workspace}/{repo_slug}.
func (s *Server) createRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST "+repoRoute, s.createRepo)
}

// slugRE is the slug rule the fake enforces (Bitbucket lower-cases a
// name into its slug; the fake refuses anything else so tests notice).
var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,61}$`)

// createRepo answers as Bitbucket Cloud does: 200 with the repository
// (empty: no branch until the first commit, whose branch becomes the main
// branch unless mainbranch was given); 400 "Repository with this Slug and
// Owner already exists." for a taken slug; 404 for an unknown workspace.
func (s *Server) createRepo(w http.ResponseWriter, r *http.Request) {
	var body struct {
		SCM         string `json:"scm"`
		IsPrivate   *bool  `json:"is_private"`
		Description string `json:"description"`
		Name        string `json:"name"`
		Mainbranch  *struct {
			Name string `json:"name"`
		} `json:"mainbranch"`
		Project *struct {
			Key string `json:"key"`
		} `json:"project"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
			s.writeError(w, r, http.StatusBadRequest, "Bad request", err.Error())
			return
		}
	}
	if body.SCM != "" && body.SCM != "git" {
		s.writeError(w, r, http.StatusBadRequest, "scm: Select a valid choice. "+body.SCM+" is not one of the available choices.", "")
		return
	}
	ws, slug := r.PathValue("ws"), r.PathValue("slug")
	if !slugRE.MatchString(slug) {
		s.writeError(w, r, http.StatusBadRequest, "Invalid slug", "")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wsp, ok := s.workspaces[strings.ToLower(ws)]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, fmt.Sprintf("No workspace with identifier '%s'.", ws), "")
		return
	}
	if _, ok := wsp.repos[slug]; ok {
		s.writeError(w, r, http.StatusBadRequest, "Repository with this Slug and Owner already exists.", "")
		return
	}
	s.seq++
	rp := &repo{ws: wsp, slug: slug, name: slug, uuid: uuid(fmt.Sprint("repo", s.seq)), description: body.Description,
		public: body.IsPrivate != nil && !*body.IsPrivate, projectKey: "PROJ", mainBranch: "main", created: s.now(),
		branches: map[string]string{}, commits: map[string]*commit{}}
	if body.Name != "" {
		rp.name = body.Name
	}
	if body.Mainbranch != nil && body.Mainbranch.Name != "" {
		rp.mainBranch = body.Mainbranch.Name
	}
	if body.Project != nil && body.Project.Key != "" {
		rp.projectKey = body.Project.Key
	}
	wsp.repos[slug] = rp
	s.writeJSON(w, r, http.StatusOK, s.repoJSON(rp))
}
