package main

import "net/http"

// home shows who is signed in, or the sign-in buttons. It shows no
// message from its URL: a link would make the portal say anything.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "home.html", page{})
}
