package oauthsrv_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/internal/oauthsrv"
)

// Example configures a provider's sign-in, signs alice in and exchanges
// the code for a token that the provider's API then takes as hers.
func Example() {
	srv := oauthsrv.New(oauthsrv.Config[string]{
		Now:        time.Now,
		CodePrefix: "code-",
		Schemes:    []string{"bearer"},
		Answers: map[oauthsrv.Failure]oauthsrv.Answer{
			oauthsrv.BadCode: {Status: 400, Error: "invalid_grant", Description: "The code is not valid."},
		},
		Write: func(w http.ResponseWriter, _ *http.Request, status int, body any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(body)
		},
		Issued: func(g *oauthsrv.Grant[string], _ string) any {
			return map[string]any{"access_token": g.Access, "refresh_token": g.Refresh, "expires_in": g.ExpiresIn()}
		},
	})
	srv.AddClient(oauthsrv.Client{ID: "portal", Secret: "portal-secret", Lifetime: 2 * time.Hour, AccessPrefix: "at-", RefreshPrefix: "rt-"})
	srv.SetUser("alice")

	// The browser's visit to the authorization endpoint comes back with a code.
	w := httptest.NewRecorder()
	srv.Authorize(w, httptest.NewRequest("GET", "/authorize?client_id=portal&redirect_uri=https://portal.example/cb&state=xyz", nil))
	back, _ := url.Parse(w.Header().Get("Location"))
	code := back.Query().Get("code")
	fmt.Println(w.Code, back.Host, back.Query().Get("state"), strings.HasPrefix(code, "code-"))

	// The portal exchanges it, twice: a code is good once.
	exchange := func() map[string]any {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://portal.example/cb"}}
		r := httptest.NewRequest("POST", "/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("portal", "portal-secret")
		w := httptest.NewRecorder()
		srv.Token(w, r)
		var body map[string]any
		json.Unmarshal(w.Body.Bytes(), &body)
		return body
	}
	tok := exchange()
	fmt.Println(strings.HasPrefix(tok["access_token"].(string), "at-"), tok["expires_in"])
	fmt.Println(exchange()["error"])

	// The API takes the access token as alice's.
	api := httptest.NewRequest("GET", "/user", nil)
	api.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	g, known := srv.Caller(api)
	fmt.Println(g.User, known)
	// Output:
	// 302 portal.example xyz true
	// true 7200
	// invalid_grant
	// alice true
}
