package fakebitbucketserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

const exDuplicateRepo = "com.atlassian.bitbucket.repository.DuplicateRepositoryNameException"

// createRoutes adds POST /projects/{key}/repos.
func (s *Server) createRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST /projects/{key}/repos", s.createRepo)
}

// emptyBase is the base of the first file written to an empty repository
// with PUT browse: no file, no parent. The commit creates the branch.
func emptyBase() *commit { return &commit{files: map[string]entry{}} }

// createRepo answers as Bitbucket Data Center does: 201 with the
// repository (empty: its first commit creates its branch); 409 when the
// project has a repository of that name (or slug); 404 for an unknown
// project; 400 for a name that is not valid.
func (s *Server) createRepo(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name          string `json:"name"`
		SCMID         string `json:"scmId"`
		Description   string `json:"description"`
		DefaultBranch string `json:"defaultBranch"`
		Public        bool   `json:"public"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		s.writeError(w, r, http.StatusBadRequest, exValidation, "The request body could not be parsed.")
		return
	}
	slug := Slugify(body.Name)
	if body.Name == "" || slug == "" || len(body.Name) > 128 {
		s.writeErrors(w, r, http.StatusBadRequest, errorMessage{Context: strp("name"),
			Message: "Repository name must be between 1 and 128 characters and contain letters or digits.", ExceptionName: strp(exValidation)})
		return
	}
	if body.SCMID != "" && body.SCMID != "git" {
		s.writeErrors(w, r, http.StatusBadRequest, errorMessage{Context: strp("scmId"),
			Message: "The SCM " + body.SCMID + " is not available.", ExceptionName: strp(exValidation)})
		return
	}
	if body.DefaultBranch != "" && !validBranchName(body.DefaultBranch) {
		s.writeError(w, r, http.StatusBadRequest, exInvalidRef, fmt.Sprintf("'%s' is an invalid ref name.", body.DefaultBranch))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.PathValue("key")
	p, ok := s.projects[projectKey(key)]
	if !ok {
		s.writeError(w, r, http.StatusNotFound, exNoSuchProject, fmt.Sprintf("Project %s does not exist.", key))
		return
	}
	for _, rp := range p.repos {
		if rp.slug == slug || strings.EqualFold(rp.name, body.Name) {
			s.writeErrors(w, r, http.StatusConflict, errorMessage{Context: strp("name"),
				Message: "This repository URL is already taken.", ExceptionName: strp(exDuplicateRepo)})
			return
		}
	}
	s.nextID++
	rp := &repo{proj: p, id: s.nextID, name: body.Name, slug: slug, description: body.Description, public: body.Public,
		defaultBranch: body.DefaultBranch, branches: map[string]string{}, commits: map[string]*commit{}}
	if rp.defaultBranch == "" {
		rp.defaultBranch = "main"
	}
	p.repos[slug] = rp
	s.writeJSON(w, r, http.StatusCreated, s.repoJSON(rp))
}
