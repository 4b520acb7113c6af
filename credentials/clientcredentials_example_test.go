package credentials_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scmkit/scmkit/credentials"
)

// An application's own token from an OAuth client-credentials grant,
// fetched once and reused by every caller until it is due for renewal.
func ExampleClientCredentials() {
	var requests atomic.Int32
	tokenEndpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"app-token","token_type":"Bearer","expires_in":3600}`)
	}))
	defer tokenEndpoint.Close()

	src := credentials.ClientCredentials(&clientcredentials.Config{
		ClientID: "my-app", ClientSecret: "my-secret", TokenURL: tokenEndpoint.URL + "/oauth2/token",
		Scopes: []string{"https://graph.example/.default"}, AuthStyle: oauth2.AuthStyleInParams,
	}, &credentials.ClientCredentialsOptions{Source: "my-app"})
	for range 3 {
		cred, err := src.Credential(context.Background())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(cred.Kind, cred.Source, cred.Scheme())
	}
	fmt.Println(requests.Load(), "token request")
	// Output:
	// app my-app Bearer
	// app my-app Bearer
	// app my-app Bearer
	// 1 token request
}
