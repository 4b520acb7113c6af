package main

import (
	"net/http"

	"github.com/scmkit/scmkit/permission"
	"github.com/scmkit/scmkit/scm"
)

// catalog reads the repository's catalog-info.yaml as the signed-in user,
// when the policy allows her catalog.entity.read: with her token when she
// signed in with the repository's host, with the portal's credentials
// otherwise; without a policy, with her token only (the portal's would
// lend its access to anyone the identity provider signs in).
func (a *app) catalog(w http.ResponseWriter, r *http.Request) {
	s := a.allowed(w, r, "catalog.html", permission.MustKnown(permission.CatalogEntityRead))
	if s == nil {
		return
	}
	u := a.repo + "/blob/HEAD/catalog-info.yaml"
	f, err := a.scm.ForUser(s.UserCredentials(), &scm.UserOptions{RequireUser: a.access == nil,
		User: a.userRef(r.Context(), s), UserDisplay: s.Identity.String()}).ReadFile(r.Context(), u, nil)
	if err != nil {
		a.render(w, r, http.StatusBadGateway, "catalog.html", page{Session: s, Error: "Reading " + u + ": " + scm.Code(err).String()})
		return
	}
	a.render(w, r, http.StatusOK, "catalog.html", page{Session: s, Data: map[string]any{
		"URL": u, "Content": string(f.Content), "AsUser": len(s.UserCredentials()) > 0}})
}
