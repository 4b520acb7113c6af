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

func run(ctx context.Context, w io.Writer, configFile string) error {
	steps := []struct {
		title string
		run   func(ctx context.Context, w io.Writer) error
	}{
		{"Integrations in " + configFile, func(ctx context.Context, w io.Writer) error { return showConfig(ctx, w, configFile) }},
	}
	for i, s := range steps {
		fmt.Fprintf(w, "\n== %d. %s\n\n", i+1, s.title)
		if err := s.run(ctx, w); err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	return nil
}

// table returns a tabwriter for aligned columns; call Flush when done.
func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }
