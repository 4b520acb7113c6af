package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/integrations"
)

// showConfig loads configFile (with the process environment for ${VAR}
// substitutions: this is a program, not library code), prints the
// integrations it defines, then parses, resolves and edits a few URLs.
func showConfig(ctx context.Context, w io.Writer, configFile string) error {
	cfg, err := config.Load(ctx, &config.Options{Lookup: os.LookupEnv, Environ: os.Environ()}, configFile)
	if err != nil {
		return err
	}
	reg := cfg.Registry

	tw := table(w)
	fmt.Fprintln(tw, "KIND\tHOST\tAPI BASE URL\tCREDENTIALS\tFROM")
	for _, in := range reg.List() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", in.Kind, in.Host, in.APIBaseURL, describeCredentials(in), in.ConfigPath)
	}
	tw.Flush()
	printWarnings(w, cfg.Warnings)

	fmt.Fprintln(w, "\nWhat URLs mean:")
	tw = table(w)
	fmt.Fprintln(tw, "URL\tKIND\tOWNER\tREPO\tREF\tPATH")
	for _, u := range []string{
		"https://github.com/acme/service/blob/main/catalog-info.yaml",
		"https://ghe.example.com/platform/templates/tree/v2/service?at=v2",
		"https://git.example.com/gitlab/acme/platform/api/-/blob/release/1.x/catalog-info.yaml?at=release/1.x",
		"https://bitbucket.org/acme-ws/api/src/main/docs/index.md",
		"https://bitbucket.example.com/projects/PLAT/repos/api/browse/catalog-info.yaml?at=refs/heads/main",
		"https://github.com/acme/service/blob/main/%2e%2e/%2e%2e/secrets",
		"https://unknown.example.net/acme/service",
	} {
		loc, err := reg.Parse(u)
		if err != nil {
			fmt.Fprintf(tw, "%s\trefused: %s\n", u, shortError(err))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u, loc.Kind, loc.Owner, loc.Repo, loc.Ref, loc.Path)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nResolving relative references (as Backstage does) and edit links:")
	tw = table(w)
	fmt.Fprintln(tw, "BASE\tRELATIVE\tRESOLVED\tEDIT URL")
	for _, c := range []struct {
		base, rel string
		line      int
	}{
		{"https://github.com/acme/service/blob/main/catalog-info.yaml", "./docs/api.yaml", 0},
		{"https://github.com/acme/service/blob/main/catalog/all.yaml", "/templates/service/template.yaml", 0},
		{"https://git.example.com/gitlab/acme/platform/api/-/blob/main/catalog-info.yaml", "docs/openapi.yaml", 12},
		{"https://bitbucket.org/acme-ws/api/src/main/catalog-info.yaml", "docs/index.md", 3},
		{"https://bitbucket.example.com/projects/PLAT/repos/api/browse/catalog-info.yaml?at=main", "openapi.yaml", 0},
	} {
		resolved, err := reg.ResolveURL(c.base, c.rel, c.line)
		if err != nil {
			fmt.Fprintf(tw, "%s\t%s\trefused: %s\n", c.base, c.rel, shortError(err))
			continue
		}
		edit, err := reg.EditURL(resolved)
		if err != nil {
			edit = "refused: " + shortError(err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.base, c.rel, resolved, edit)
	}
	return tw.Flush()
}

// unsetVariable matches the warning of config.Load for a variable that is
// not set.
var unsetVariable = regexp.MustCompile(`: environment variables? (.+) (?:is|are) not set; the value is left unset$`)

// printWarnings prints the config's warnings, the many "variable not set"
// ones of a first run folded into one line that explains them.
func printWarnings(w io.Writer, warnings []string) {
	var unset []string
	for _, warn := range warnings {
		if m := unsetVariable.FindStringSubmatch(warn); m != nil {
			for _, name := range strings.Split(m[1], ", ") {
				if name = strings.Trim(name, `"`); !slices.Contains(unset, name) {
					unset = append(unset, name)
				}
			}
			continue
		}
		fmt.Fprintln(w, "warning:", warn)
	}
	if len(unset) > 0 {
		fmt.Fprintf(w, "(%d variables are not set: %s. Their tokens are left unset, so these integrations read anonymously, which is fine here: the fake world below brings its own.)\n",
			len(unset), strings.Join(unset, ", "))
	}
}

// describeCredentials says which kinds of credential an integration has,
// never their values.
func describeCredentials(in *integrations.Integration) string {
	var kinds []string
	if user, tok := in.Token(); !tok.IsZero() {
		if user != "" {
			kinds = append(kinds, "basic")
		} else {
			kinds = append(kinds, "token")
		}
	}
	if in.GitHub != nil && len(in.GitHub.Apps) > 0 {
		kinds = append(kinds, fmt.Sprintf("%d app(s)", len(in.GitHub.Apps)))
	}
	if in.BitbucketCloud != nil && in.BitbucketCloud.ClientID != "" {
		kinds = append(kinds, "oauth consumer")
	}
	if n := len(in.Scoped()); n > 0 {
		kinds = append(kinds, fmt.Sprintf("%d owner-scoped", n))
	}
	if len(kinds) == 0 {
		return "anonymous"
	}
	return strings.Join(kinds, ", ")
}

// shortError keeps the first line of an error, for tables.
func shortError(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 110 {
		s = s[:107] + "..."
	}
	return s
}
