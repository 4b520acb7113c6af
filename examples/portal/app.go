package main

import (
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/permission"
)

//go:embed templates/*.html
var templateFS embed.FS

// app is the portal's web application.
type app struct {
	deps
	tmpl      *template.Template
	locations *locations // registered catalog locations
}

func newApp(d *deps) (*app, error) {
	t, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &app{deps: *d, tmpl: t, locations: &locations{}}, nil
}

// routes mounts the sign-in handler and one route per page.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", ldapauth.ClientAddr(a.auth)) // client addresses for LDAP's back-off
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /catalog", a.catalog)
	mux.HandleFunc("POST /pull-request", a.pullRequest)
	mux.HandleFunc("GET /register", a.registerPage)
	mux.HandleFunc("POST /register", a.register)
	return securityHeaders(mux)
}

// page is what every template gets.
type page struct {
	Session   *auth.Session
	Providers []string
	Repo      string
	Error     string
	Data      any
}

// render writes template name with the signed-in user (if any).
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if p.Session == nil {
		p.Session, _ = a.auth.Session(r)
	}
	p.Providers, p.Repo = a.providers, a.repo
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := a.tmpl.ExecuteTemplate(w, name, p); err != nil {
		slog.Error("portal: rendering", "page", name, "error", err)
	}
}

// signedIn returns the session, or renders the home page asking to sign in.
func (a *app) signedIn(w http.ResponseWriter, r *http.Request) *auth.Session {
	s, err := a.auth.Session(r)
	if err != nil {
		a.render(w, r, http.StatusUnauthorized, "home.html", page{Error: "Please sign in first."})
		return nil
	}
	return s
}

// allowed returns the session of a request whose catalog user the policy
// allows p, decided on the server (hiding a button is no check);
// otherwise it renders tmpl with a 403 and returns nil. Without a policy
// (a.access nil: an app-config without permission.enabled: true) anyone
// the identity provider signs in passes, and the pages then act with her
// own credentials only.
func (a *app) allowed(w http.ResponseWriter, r *http.Request, tmpl string, p permission.Permission) *auth.Session {
	s := a.signedIn(w, r)
	if s == nil || a.access == nil {
		return s
	}
	who, err := a.access.principal(r.Context(), s)
	ok := false
	if err == nil && who.User != nil {
		ok, _, err = a.access.authz.Allowed(r.Context(), who, p, "")
	}
	if err != nil || !ok {
		a.render(w, r, http.StatusForbidden, tmpl, page{Session: s, Error: "You are not allowed to do this (permission " + p.Name + ")."})
		return nil
	}
	return s
}

// sameOrigin refuses state-changing requests from other sites.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	return o == "" || strings.EqualFold(strings.TrimPrefix(strings.TrimPrefix(o, "http://"), "https://"), r.Host)
}

// securityHeaders sets the headers of every page: no framing, no MIME
// sniffing, no URL sent to other sites (same-origin, not no-referrer: with
// no-referrer browsers send "Origin: null" on the portal's own form
// posts, which sameOrigin and auth's checks refuse). auth's handler sets
// its own CSP for its pages.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/api/auth/") {
			w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; style-src 'self' 'unsafe-inline'; "+
				"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
			w.Header().Set("X-Frame-Options", "DENY")
			w.Header().Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}
