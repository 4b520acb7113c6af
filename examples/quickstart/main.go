// Command quickstart runs scmkit's whole job against fake GitHub, GitLab
// and Bitbucket servers started in this process: no network and no
// credentials are needed.
//
//	go run ./examples/quickstart [-config testdata/app-config.yaml]
//
// It loads a Backstage app-config.yaml, shows the integrations it defines
// and what a handful of URLs mean to them, then shows which credential the
// resolver picks for each call and why, and finally discovers, reads and
// parses catalog files, fetches a template tree and opens a pull request,
// printing how many requests each step cost.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

func main() {
	configFile := flag.String("config", "testdata/app-config.yaml", "Backstage app-config.yaml to show the integrations and URLs of")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *configFile); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, configFile string) error {
	fmt.Fprintf(out, "== 1. Integrations in %s\n\n", configFile)
	if err := showConfig(ctx, out, configFile); err != nil {
		return err
	}

	w, err := newWorld(ctx)
	if err != nil {
		return fmt.Errorf("starting the fake servers: %w", err)
	}
	defer w.close()
	// Each step is a function in a file of its own, printing to out; to
	// add one, write it and add one line here.
	steps := []struct {
		title string
		run   func(ctx context.Context, w *world, out io.Writer) error
	}{
		{"A fake world: four providers started in this process", func(_ context.Context, w *world, out io.Writer) error { return showWorld(w, out) }},
		{"Sign in as alice: OAuth with the fake GitHub, through scmkit's auth handler", signIn}, // signin.go
		{"Who are we on each call? The credential resolver's choices", showCredentials},
		{"Discover catalog-info.yaml across the acme organisation", discoverCatalog},
		{"Read and parse catalog files", readCatalog},
		{"Fetch a template tree to a directory", fetchTemplate},
		{"Open a pull request on behalf of the signed-in user", openPullRequest},
		{"Create a repository from the template (the scaffolder's publish:github)", createRepository}, // create.go
		{"The same job on GitLab, Bitbucket Cloud and Bitbucket Server", otherProviders},
		{"Who is in group:default/platform-team? The acme organisation as catalog entities", showOrg}, // org.go
	}
	for i, s := range steps {
		fmt.Fprintf(out, "\n== %d. %s\n\n", i+2, s.title)
		if err := s.run(ctx, w, out); err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	fmt.Fprintf(out, "\nDone: %d requests in all.\n", w.requests())
	return nil
}

// table returns a tabwriter for aligned columns; call Flush when done.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }
