package main

import (
	"net/http"

	"github.com/scmkit/scmkit/scm"
)

// catalog reads the repository's catalog-info.yaml as the signed-in user
// (with her token when she signed in with the repository's host, with the
// portal's credentials otherwise).
func (a *app) catalog(w http.ResponseWriter, r *http.Request) {
	s := a.signedIn(w, r)
	if s == nil {
		return
	}
	u := a.repo + "/blob/HEAD/catalog-info.yaml"
	f, err := a.scm.ForUser(s.UserCredentials(), &scm.UserOptions{User: a.userRef(r.Context(), s), UserDisplay: s.Identity.String()}).ReadFile(r.Context(), u, nil)
	if err != nil {
		a.render(w, r, http.StatusBadGateway, "catalog.html", page{Session: s, Error: "Reading " + u + ": " + scm.Code(err).String()})
		return
	}
	a.render(w, r, http.StatusOK, "catalog.html", page{Session: s, Data: map[string]any{
		"URL": u, "Content": string(f.Content), "AsUser": len(s.UserCredentials()) > 0}})
}
