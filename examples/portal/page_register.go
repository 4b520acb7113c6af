package main

import (
	"net/http"
	"slices"
	"sync"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/permission"
	"github.com/scmkit/scmkit/scm"
)

// locations are the catalog locations registered in the portal.
type locations struct {
	mu   sync.Mutex
	urls []string
}

func (l *locations) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.urls)
}

func (l *locations) add(u string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if slices.Contains(l.urls, u) {
		return false
	}
	l.urls = append(l.urls, u)
	return true
}

// registerPermissions are what registering a component needs, as in
// Backstage's catalog import: creating the location and its entities.
var registerPermissions = []permission.Permission{
	permission.MustKnown(permission.CatalogLocationCreate),
	permission.MustKnown(permission.CatalogEntityCreate),
}

// registerPage shows the registered locations and the form.
func (a *app) registerPage(w http.ResponseWriter, r *http.Request) {
	s := a.signedIn(w, r)
	if s == nil {
		return
	}
	a.renderRegister(w, r, http.StatusOK, s, "", "")
}

func (a *app) renderRegister(w http.ResponseWriter, r *http.Request, status int, s *auth.Session, msg, errMsg string) {
	a.render(w, r, status, "register.html", page{Session: s, Error: errMsg, Data: map[string]any{
		"Locations": a.locations.list(), "Default": a.repo + "/blob/HEAD/catalog-info.yaml", "Message": msg, "User": a.userRef(r.Context(), s)}})
}

// register registers a catalog-info.yaml, on the server's decision: only
// users the policy allows catalog.location.create and
// catalog.entity.create may; a refused request reads nothing and changes
// nothing.
func (a *app) register(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "cross-site request refused", http.StatusForbidden)
		return
	}
	s := a.signedIn(w, r)
	if s == nil {
		return
	}
	who, err := a.who(r)
	if err == nil && who.User == nil {
		err = errcode.New(errcode.PermissionDenied, "portal", "not a catalog user")
	}
	if err != nil {
		a.renderRegister(w, r, http.StatusForbidden, s, "", "You are not allowed to register components: "+scm.Code(err).String())
		return
	}
	for _, p := range registerPermissions {
		ok, _, err := a.access.authz.Allowed(r.Context(), who, p, "")
		if err != nil || !ok {
			a.renderRegister(w, r, http.StatusForbidden, s, "",
				"You are not allowed to register components (permission "+p.Name+" denied for "+who.User.EntityRef+").")
			return
		}
	}
	u := r.PostFormValue("url")
	f, err := a.scm.ForUser(s.UserCredentials(), &scm.UserOptions{User: who.User.EntityRef, UserDisplay: s.Identity.String()}).
		ReadFile(r.Context(), u, &scm.ReadFileOptions{MaxBytes: 1 << 20})
	if err != nil {
		a.renderRegister(w, r, http.StatusBadRequest, s, "", "Reading "+u+": "+scm.Code(err).String())
		return
	}
	if len(f.Content) == 0 {
		a.renderRegister(w, r, http.StatusBadRequest, s, "", "Reading "+u+": the file is empty")
		return
	}
	msg := "Registered " + u + "."
	if !a.locations.add(u) {
		msg = u + " was registered already."
	}
	a.renderRegister(w, r, http.StatusOK, s, msg, "")
}
