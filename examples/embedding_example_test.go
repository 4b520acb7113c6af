package examples_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"

	"golang.org/x/oauth2"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
	"github.com/scmkit/scmkit/scm/catalog"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// portal is the README's "Embedding it" block, verbatim: what a portal
// backend does with scmkit, checking every error.
func portal(ctx context.Context, configFiles []string, userToken oauth2.TokenSource, out io.Writer) error {
	cfg, err := config.Load(ctx, &config.Options{Lookup: os.LookupEnv, Environ: os.Environ()}, configFiles...)
	if err != nil {
		return err // every config problem at once, each with its file and path
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(out, "config warning:", w) // unset variables, deprecated settings; each once
	}
	resolver, err := credentials.NewResolver(cfg.Registry, nil)
	if err != nil {
		return err
	}
	client, err := scm.NewClient(cfg.Registry, resolver, &scm.Options{Drivers: adapters.All(nil)})
	if err != nil {
		return err
	}

	// Per request of your portal: a cheap view acting for the signed-in
	// user, whose GitHub token is only ever offered to GitHub.
	user := client.ForUser(scm.UserCredentials{"github.com": credentials.FromOAuth2(userToken)},
		&scm.UserOptions{RequireUserForWrites: true})

	f, err := user.ReadFile(ctx, "https://github.com/acme/service/blob/main/catalog-info.yaml", nil)
	if err != nil {
		return err
	}
	entities, err := catalog.Parse(f.Content)
	if err != nil {
		return err
	}
	if len(entities) == 0 {
		return fmt.Errorf("%s: no catalog entity", f.Path) // an empty file parses without error
	}
	fmt.Fprintf(out, "%s %s/%s\n", f.Path, entities[0].Kind, entities[0].Metadata.Name)

	tree, err := user.ReadTree(ctx, "https://github.com/acme/templates/tree/main/go-service", nil) // an fs.FS
	if err != nil {
		return err
	}
	skeleton, err := fs.Glob(tree, "skeleton/*")
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "template files:", skeleton)

	pr, err := user.OpenPullRequest(ctx, &scm.PullRequestSpec{RepoURL: "https://github.com/acme/service",
		Branch: "scaffold/orders", Title: "Add orders",
		Changes: []scm.Change{{Path: "orders/catalog-info.yaml", Action: scm.Create, Content: []byte("kind: Component\n")}}})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pull request #%d from %s\n", pr.Number, pr.Branch)

	found, err := catalog.Discover(ctx, client, "https://github.com/acme", nil) // as the portal: a background job
	if err != nil {
		return err
	}
	fmt.Fprintln(out, len(found), "catalog files under acme")
	return nil
}

// Example_embedding runs the README's embedding block against a fake
// GitHub: the configuration names github.com, with its API and raw
// content base URLs pointing at the fake, so the block's URLs are the real
// ones.
func Example_embedding() {
	gh := fakegithub.New(&fakegithub.Options{Tokens: []string{"service-token", "alice-token"}, User: "alice"})
	defer gh.Close()
	for _, r := range []struct {
		name  string
		files fstest.MapFS
	}{
		{"service", fstest.MapFS{"catalog-info.yaml": {Data: []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: service\nspec:\n  type: service\n  owner: team-a\n  lifecycle: production\n")}}},
		{"templates", fstest.MapFS{"go-service/template.yaml": {Data: []byte("kind: Template\n")}, "go-service/skeleton/main.go": {Data: []byte("package main\n")}}},
	} {
		if _, err := gh.AddFS(fakegithub.Repo{Owner: "acme", Name: r.name}, r.files); err != nil {
			log.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp("", "scmkit-embedding")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	configFile := filepath.Join(dir, "app-config.yaml")
	appConfig := fmt.Sprintf("integrations:\n  github:\n    - host: github.com\n      apiBaseUrl: %s\n      rawBaseUrl: %s\n      token: service-token\n",
		gh.APIBaseURL(), gh.RawBaseURL())
	if err := os.WriteFile(configFile, []byte(appConfig), 0o600); err != nil {
		log.Fatal(err)
	}

	userToken := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "alice-token"}) // from your sign-in
	if err := portal(context.Background(), []string{configFile}, userToken, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// catalog-info.yaml Component/service
	// template files: [skeleton/main.go]
	// pull request #1 from scaffold/orders
	// 1 catalog files under acme
}

// signIn is the README's "With sign-in" block: the auth section of the
// same app-config.yaml configures the providers, the handler serves
// Backstage's routes under /api/auth/, and POST /scaffold opens a pull
// request as the signed-in user. Every error and warning is checked.
func signIn(cfg *config.Config, client *scm.Client, mux *http.ServeMux, spec *scm.PullRequestSpec, out io.Writer) error {
	var ac auth.Config
	if err := cfg.Decode("auth", &ac); err != nil { // auth.providers.<id>.<env>, auth.session.secret
		return err
	}
	h, warnings, err := ac.NewHandler(&auth.Options{
		BaseURL: "https://portal.example.com/api/auth", // backend.baseUrl + /api/auth
		AppURL:  "https://portal.example.com",          // app.baseUrl
	})
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(out, "auth warning:", w) // providers this handler does not serve
	}
	mux.Handle("/api/auth/", h)
	mux.HandleFunc("POST /scaffold", func(w http.ResponseWriter, r *http.Request) {
		s, err := h.Session(r) // no request to the provider
		if err != nil {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		user := client.ForUser(s.UserCredentials(), &scm.UserOptions{RequireUserForWrites: true})
		pr, err := user.OpenPullRequest(r.Context(), spec) // authored by her
		if err != nil {
			http.Error(w, scm.Code(err).String(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "opened #%d as %s\n", pr.Number, s.Identity)
	})
	return nil
}

// Example_embeddingSignIn runs the README's "With sign-in" block: it
// builds the routes from a config with an auth section and shows that the
// scaffolder route refuses a request without a session.
func Example_embeddingSignIn() {
	ctx := context.Background()
	cfg, err := config.LoadBytes(ctx, nil, []byte(`
auth:
  environment: development
  session:
    secret: a long random session secret, not this one
  providers:
    github:
      development:
        clientId: my-client
        clientSecret: my-secret
`))
	if err != nil {
		log.Fatal(err)
	}
	client, err := scm.NewClient(cfg.Registry, nil, &scm.Options{Drivers: adapters.All(nil)})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	spec := &scm.PullRequestSpec{RepoURL: "https://github.com/acme/service", Branch: "scaffold/orders", Title: "Add orders",
		Changes: []scm.Change{{Path: "orders/catalog-info.yaml", Action: scm.Create, Content: []byte("kind: Component\n")}}}
	if err := signIn(cfg, client, mux, spec, os.Stdout); err != nil {
		log.Fatal(err)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/scaffold", nil))
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	// Output: 401 sign in first
}
