package githubapp_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/credentials/internal/fakegithub"
	"github.com/scmkit/scmkit/integrations"
)

// A stand-in for GitHub, so that the example runs without a network.
func exampleServer() (url string, stop func()) {
	fake := fakegithub.Start(os.DirFS("testdata"), nil)
	fake.Add(fakegithub.Installation{ID: 42, Login: "acme"})
	return fake.URL, fake.Close
}

func ExampleApp_Token() {
	apiBaseURL, stop := exampleServer() // "https://api.github.com" in real use
	defer stop()

	app, err := githubapp.New(apiBaseURL, integrations.GitHubAppConfig{
		AppID:      fakegithub.AppID,
		PrivateKey: integrations.NewSecret(fakegithub.PrivateKeyPEM()), // the app's .pem file
	}, &githubapp.Options{ConfigPath: "integrations.github[0].apps[0]"})
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := app.Token(context.Background(), "acme", "widgets")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Source)

	_, err = app.Token(context.Background(), "someone-else", "")
	fmt.Println(errors.Is(err, githubapp.ErrNotInstalled), githubapp.Fallback(err))
	// Output:
	// integrations.github[0].apps[0] installation 42
	// true true
}
