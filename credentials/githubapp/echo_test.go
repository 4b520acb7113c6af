package githubapp_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/credentials/internal/apptest"
)

// TestEchoedCredentialsNeverInErrors: GitHub (or a proxy in front of it)
// echoing the request's Authorization header in an error answer, for the
// JWT of the installation lookup and for the installation token of the
// repository check, never puts either in the error.
func TestEchoedCredentialsNeverInErrors(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusBadGateway} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := newSetup(t, nil, nil)
			s.fake.Add(apptest.Installation{ID: 42, Login: "acme"})
			var seen []string
			s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
				auth := r.Header.Get("Authorization")
				seen = append(seen, strings.TrimPrefix(auth, "Bearer "))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"message":"Bad request: Authorization: %s (%s)","documentation_url":"https://docs.github.com/rest"}`,
					auth, base64.StdEncoding.EncodeToString([]byte(auth)))
				return true
			})
			_, err := s.app.Token(t.Context(), "acme", "widgets")
			if err == nil {
				t.Fatal("Token succeeded; want an error")
			}
			if len(seen) == 0 {
				t.Fatal("the fake saw no request")
			}
			for _, m := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, secret := range seen {
					if shows(m, secret) || strings.Contains(m, base64.StdEncoding.EncodeToString([]byte("Bearer "+secret))) {
						t.Errorf("error shows (part of) the credential GitHub echoed: %s", m)
					}
				}
			}
		})
	}
}

// shows reports whether m holds secret or any 24-byte run of it: an error
// message cut at some length must not show a part of a JWT either.
func shows(m, secret string) bool {
	if secret == "" {
		return false
	}
	if len(secret) <= 24 {
		return strings.Contains(m, secret)
	}
	for i := 0; i+24 <= len(secret); i++ {
		if strings.Contains(m, secret[i:i+24]) {
			return true
		}
	}
	return false
}
