package credentials_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
)

// A resolver for a GitHub integration with a personal access token.
func ExampleResolver() {
	reg, err := integrations.NewRegistry(integrations.Config{
		GitHub: []integrations.GitHubConfig{{Host: "github.com", Token: integrations.NewSecret("ghp_example")}},
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
	cred, err := resolver.Resolve(context.Background(), credentials.Request{Host: "github.com", Owner: "acme", Repo: "widgets"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cred.Kind, cred.Source)
	fmt.Println(cred) // never shows the token
	// Output:
	// token integrations.github[0].token
	// token credential from integrations.github[0].token
}

// The signed-in user's token, passed per call: a write that must be
// attributed to the user requires it, and a background job refuses it.
func ExampleResolver_userToken() {
	reg, err := integrations.NewRegistry(integrations.Config{
		GitHub: []integrations.GitHubConfig{{Host: "github.com", Token: integrations.NewSecret("ghp_service")}},
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
	// The token from the user's sign-in; refreshed with its refresh token
	// when it is about to expire.
	oauthConfig := &oauth2.Config{ClientID: "Iv1.example", ClientSecret: "client-secret",
		Endpoint: oauth2.Endpoint{TokenURL: "https://github.com/login/oauth/access_token"}}
	signIn := &oauth2.Token{AccessToken: "ghu_example", RefreshToken: "ghr_example", Expiry: time.Now().Add(8 * time.Hour)}
	user := credentials.UserSource(oauthConfig, signIn, &credentials.UserOptions{
		Source: "user alice",
		OnRotate: func(ctx context.Context, tok *oauth2.Token) {
			// Store tok.RefreshToken for alice: the old one no longer works.
		},
	})

	ctx := context.Background()
	cred, err := resolver.Resolve(ctx, credentials.Request{
		Host: "github.com", Owner: "acme", Repo: "widgets", Write: true,
		User: user, Policy: credentials.RequireUser,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cred.Kind, cred.Source)

	cred, err = resolver.Resolve(ctx, credentials.Request{
		Host: "github.com", Owner: "acme", Repo: "widgets",
		User: user, Policy: credentials.NoUser,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cred.Kind, cred.Source)
	// Output:
	// user user alice
	// token integrations.github[0].token
}

// When nothing fits, the error says what was tried and why each candidate
// was skipped.
func ExampleResolver_Resolve_error() {
	resolver, err := credentials.NewResolver(nil, nil) // the public hosts, no credentials
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = resolver.Resolve(context.Background(), credentials.Request{Host: "gitlab.com", Owner: "acme", Write: true})
	fmt.Println(err)
	// Output:
	// credentials.Resolve gitlab gitlab.com: no usable credential for owner acme (write); tried: user token: none passed; integrations.gitlab: no entry for gitlab.com, so no token; anonymous: not for writes (Unauthorized)
}

// An http.Client that attaches the right credential to each request.
func ExampleTransport() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		fmt.Fprint(w, scheme)
	}))
	defer api.Close()

	reg, err := integrations.NewRegistry(integrations.Config{
		GitHub: []integrations.GitHubConfig{{Host: "ghe.example.com", APIBaseURL: api.URL, Token: integrations.NewSecret("ghp_example")}},
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
	client := &http.Client{Transport: &credentials.Transport{
		Resolver: resolver,
		Request:  credentials.Request{Host: "ghe.example.com", Owner: "acme", Repo: "widgets"},
	}}
	resp, err := client.Get(api.URL + "/repos/acme/widgets")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	scheme, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, string(scheme))
	// Output:
	// 200 OK Bearer
}

// Explain says which credential Resolve picks and why, candidate by
// candidate, also when it succeeds.
func ExampleResolver_Explain() {
	reg, err := integrations.NewRegistry(integrations.Config{
		GitHub: []integrations.GitHubConfig{{
			Host:  "github.com",
			Token: integrations.NewSecret("ghp_service"),
			Credentials: []integrations.ScopedCredential{
				{Owners: []string{"other-org"}, Token: integrations.NewSecret("ghp_other")},
				{Owners: []string{"acme-labs"}, Token: integrations.NewSecret("ghp_labs")},
			},
		}},
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
	for _, owner := range []string{"acme-labs", "initech"} {
		cred, trace, err := resolver.Explain(context.Background(), credentials.Request{Host: "github.com", Owner: owner, Repo: "widgets"})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(owner, "->", cred.Source)
		for _, c := range trace {
			fmt.Println("  ", c) // never shows a token
		}
	}
	// Output:
	// acme-labs -> integrations.github[0].credentials[1]
	//    user token: Skipped (none passed)
	//    integrations.github[0].credentials[0]: Skipped (owner acme-labs is not in its owners)
	//    integrations.github[0].credentials[1]: Chosen (owner acme-labs is in its owners)
	// initech -> integrations.github[0].token
	//    user token: Skipped (none passed)
	//    integrations.github[0].credentials[0]: Skipped (owner initech is not in its owners)
	//    integrations.github[0].credentials[1]: Skipped (owner initech is not in its owners)
	//    integrations.github[0].token: Chosen (the integration's own token)
}
