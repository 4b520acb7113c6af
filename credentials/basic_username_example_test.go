package credentials_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
)

// Git over HTTPS: GitHub's git endpoints take the token as the password
// of Basic with the user name x-access-token, and refuse Bearer. The
// driver asks for it through the request's context and never sees the
// token.
func ExampleWithBasicUsername() {
	ghe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, ok := r.BasicAuth()
		fmt.Fprintf(w, "Basic: %v, user %s", ok, user)
	}))
	defer ghe.Close()

	reg, err := integrations.NewRegistry(integrations.Config{
		GitHub: []integrations.GitHubConfig{{Host: "ghe.example.com", APIBaseURL: ghe.URL, Token: integrations.NewSecret("ghp_example")}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	resolver, err := credentials.NewResolver(reg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: &credentials.Transport{Resolver: resolver, Request: credentials.Request{Owner: "acme"}}}

	ctx := credentials.WithBasicUsername(context.Background(), "x-access-token")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ghe.URL+"/acme/widgets.git/info/refs?service=git-receive-pack", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(answer))
	// Output:
	// Basic: true, user x-access-token
}
