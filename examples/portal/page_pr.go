package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/scmkit/scmkit/permission"
	"github.com/scmkit/scmkit/scm"
)

// pullRequest opens a pull request as the signed-in user, when the policy
// allows her scaffolder.task.create (what Backstage asks of a template
// that opens one): writes require her own token, never the portal's.
func (a *app) pullRequest(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	s := a.allowed(w, r, "pr.html", permission.MustKnown(permission.ScaffolderTaskCreate))
	if s == nil {
		return
	}
	login := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			return c
		}
		return '-'
	}, s.Identity.Login)
	spec := &scm.PullRequestSpec{
		RepoURL: a.repo,
		Branch:  fmt.Sprintf("portal/%s-%d", login, time.Now().UnixNano()),
		Title:   "Add docs for " + s.Identity.Login,
		Body:    "Opened from the scmkit portal by " + s.Identity.String() + ".",
		Changes: []scm.Change{{Path: "docs/" + login + ".md", Content: []byte("# Notes by " + s.Identity.DisplayName + "\n")}},
	}
	pr, err := a.scm.ForUser(s.UserCredentials(), &scm.UserOptions{RequireUserForWrites: true,
		User: a.userRef(r.Context(), s), UserDisplay: s.Identity.String()}).OpenPullRequest(r.Context(), spec)
	if err != nil {
		msg := "Opening the pull request failed: " + scm.Code(err).String()
		if scm.Code(err) == scm.Unauthorized || scm.Code(err) == scm.PermissionDenied {
			msg += ". Pull requests are opened with your own token: sign in with the repository's host (" + s.Identity.Provider + " gives none)."
		}
		a.render(w, r, http.StatusForbidden, "pr.html", page{Session: s, Error: msg})
		return
	}
	a.render(w, r, http.StatusOK, "pr.html", page{Session: s, Data: pr})
}
