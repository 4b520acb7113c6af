package main

import "net/http"

// home shows who is signed in, or the sign-in buttons.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	p := page{}
	if e := r.URL.Query().Get("error"); e != "" {
		p.Error = e
	}
	a.render(w, r, http.StatusOK, "home.html", p)
}
