package githubapp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// exampleServer is a stand-in for GitHub, so that the example runs
// without a network: scmkit's fake GitHub with app 4242 installed on acme.
// It returns the API base URL and the app's private key.
func exampleServer() (url, privateKeyPEM string, stop func()) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	fake := fakegithub.New(nil)
	if err := fake.AddApp(fakegithub.App{ID: 4242, PublicKey: &key.PublicKey}); err != nil {
		panic(err)
	}
	if _, err := fake.AddInstallation(fakegithub.Installation{ID: 42, AppID: 4242, Account: "acme"}); err != nil {
		panic(err)
	}
	if _, err := fake.AddRepo(fakegithub.Repo{Owner: "acme", Name: "widgets"}); err != nil {
		panic(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return fake.URL(), string(pemKey), fake.Close
}

// exampleApp is app 4242 on exampleServer, as ExampleApp_Token makes it.
func exampleApp() (*githubapp.App, func()) {
	apiBaseURL, privateKey, stop := exampleServer()
	app, err := githubapp.New(apiBaseURL, integrations.GitHubAppConfig{
		AppID:      4242,
		PrivateKey: integrations.NewSecret(privateKey),
	}, nil)
	if err != nil {
		panic(err)
	}
	return app, stop
}

func ExampleApp_Token() {
	apiBaseURL, privateKey, stop := exampleServer() // "https://api.github.com" and the app's .pem file in real use
	defer stop()

	app, err := githubapp.New(apiBaseURL, integrations.GitHubAppConfig{
		AppID:      4242,
		PrivateKey: integrations.NewSecret(privateKey),
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

// Installations listed elsewhere with the app's JWT spare the lookup of
// each owner: the token costs the mint alone.
func ExampleApp_SeedInstallations() {
	app, stop := exampleApp()
	defer stop()
	app.SeedInstallations([]githubapp.Installation{
		{ID: 42, AppID: 4242, Account: "acme", AccountType: "Organization", RepositorySelection: "all"},
	})
	tok, err := app.Token(context.Background(), "acme", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.InstallationID)
	// Output:
	// 42
}

// Installations lists the app's installations with its JWT: here, the
// organisations it may read, leaving out suspended installations. The
// app remembers each one for its owner: the token costs the mint alone.
func ExampleApp_Installations() {
	app, stop := exampleApp()
	defer stop()
	list, err := app.Installations(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range list {
		if in.AccountType == "Organization" && !in.Suspended && app.Allows(in.Account) {
			fmt.Println(in.Account, in.ID)
		}
	}
	tok, err := app.Token(context.Background(), "acme", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.InstallationID)
	// Output:
	// acme 42
	// 42
}
