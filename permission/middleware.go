package permission

import (
	"net/http"

	"github.com/scmkit/scmkit/identity"
)

// Require returns middleware that lets a request reach next only when who
// authenticates it and a allows p (a basic permission, such as
// catalog.entity.create for registering a component). Otherwise it
// answers 401 (not signed in; 503 when who is Unavailable) or 403 (not
// allowed) with Backstage's error JSON and next is not called, so a
// refused request changes nothing. The
// reason of a refusal is in the X-Permission-Reason header only when
// explain is true (it names roles and groups: keep it off for untrusted
// clients).
func Require(a *Authorizer, p Permission, who func(*http.Request) (identity.Principal, error), explain bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			principal, err := who(r)
			if err != nil {
				authError(w, err, "sign in to do this")
				return
			}
			ok, why, err := a.Allowed(r.Context(), principal, p, "")
			if err != nil {
				a.logFailure(r.Context(), principal, err)
				writeError(w, http.StatusInternalServerError, "Error", "authorization failed")
				return
			}
			if !ok {
				if explain {
					w.Header().Set("X-Permission-Reason", why.String())
				}
				writeError(w, http.StatusForbidden, "NotAllowedError", "you are not allowed to do this ("+p.Name+")")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
