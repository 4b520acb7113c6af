// Command read-catalog reads Backstage catalog files from GitHub, GitLab,
// Bitbucket Cloud or Bitbucket Server and prints the entities they hold.
//
//	go run ./examples/read-catalog -config app-config.yaml URL
//
// URL is one of:
//
//   - a catalog file, e.g.
//     https://github.com/acme/svc/blob/main/catalog-info.yaml: the file is
//     read and parsed;
//   - an owner (a GitHub organisation or user, a GitLab group, a Bitbucket
//     Cloud workspace, a Bitbucket Server project), e.g.
//     https://github.com/acme: every repository's catalog file is found
//     with one owner-wide search where the provider has one (GitHub:
//     one GraphQL query per 100 repositories), then each is read and
//     parsed;
//   - a directory at a ref, e.g. https://github.com/acme/svc/tree/main/api:
//     the catalog file in that directory is read.
//
// It prints one line per entity (kind, namespace, name and the file it
// came from), then how many HTTP requests each host received. Problems
// with single files are printed to stderr and the others still read; the
// exit status is then 1.
//
// # What it needs
//
// Network access to the URL's host. Without -config and without an
// app-config.yaml in the current directory it reads no config file and
// says so: github.com, gitlab.com and bitbucket.org are known anyway, so a
// public repository is read anonymously, e.g.
//
//	go run ./examples/read-catalog https://github.com/backstage/backstage/blob/master/catalog-info.yaml
//
// A private repository, another host or an owner-wide discovery (GitHub's
// code search and GraphQL need a credential) needs a config naming a
// credential for the host. To watch it work without network or
// credentials, run go run ./examples/quickstart (the same calls against
// fake servers) or go test ./examples/read-catalog (this command against
// them).
//
// Flags:
//
//	-config FILE          Backstage app-config.yaml (repeatable; default app-config.yaml).
//	                      ${VAR} substitutions read the environment, e.g.
//	                      integrations.github[0].token: ${GITHUB_TOKEN}.
//	-path P               the catalog file to look for (default catalog-info.yaml).
//	-skip-archived        leave out archived repositories when discovering.
//	-skip-forks           leave out forks when discovering.
//	-user-token-env NAME  the signed-in user's OAuth token for the URL's host is
//	                      in environment variable NAME; it is tried before the
//	                      configured credentials.
//	-device-login ID      sign the user in to the URL's GitHub or GitLab host with
//	                      the device flow of OAuth app ID (no secret): it prints
//	                      where to enter a code, then acts as her.
//	-v                    log which credential each call used (never the secret).
//
// Tokens are never printed: errors and logs name where a credential came
// from, not its value.
package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/scmkit/scmkit/examples/internal/cli"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/catalog"
)

const usage = `read-catalog [flags] URL
  URL is a catalog file, an owner (org, group, workspace, project) to discover
  every catalog file under, or a directory at a ref.`

// parallel is the number of files read at once.
const parallel = 8

func main() { cli.Main("read-catalog", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("read-catalog", usage, stderr)
	var common cli.Common
	common.Register(fs)
	catalogPath := fs.String("path", catalog.DefaultPath, "the catalog file to look for, relative to each repository's root or to a directory URL")
	skipArchived := fs.Bool("skip-archived", false, "leave out archived repositories when discovering")
	skipForks := fs.Bool("skip-forks", false, "leave out forks when discovering")
	pos, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return cli.Usagef("want exactly one URL, got %d arguments", len(pos))
	}
	target := pos[0]
	// Before anything is printed (config warnings included): a URL that
	// cannot be one is a usage error that shows it as typed.
	if err := checkTarget(target); err != nil {
		return err
	}

	env, err := common.Open(ctx, stderr, target, nil)
	if err != nil {
		return err
	}

	urls, known, discoverErr, err := catalogFiles(ctx, env, target, *catalogPath,
		&catalog.DiscoverOptions{Path: *catalogPath, SkipArchived: *skipArchived, SkipForks: *skipForks})
	if err != nil {
		return err
	}

	results := readAll(ctx, env.Client, urls, known)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAMESPACE\tNAME\tFILE")
	var entities, failed int
	for _, r := range results {
		for _, e := range r.entities {
			ns := e.Metadata.Namespace
			if ns == "" {
				ns = "default"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Kind, ns, e.Metadata.Name, cli.RedactURL(r.url))
			entities++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.err != nil {
			failed++
			if len(results) > 1 {
				fmt.Fprintf(stderr, "%s: %v\n", cli.RedactURL(r.url), r.err)
			}
		}
	}
	fmt.Fprintf(stdout, "\n%d %s in %d %s; %s\n", entities, cli.Plural(entities, "entity", "entities"),
		len(urls)-failed, cli.Plural(len(urls)-failed, "file", "files"), env.Requests)

	if err := ctx.Err(); err != nil {
		return &scm.Error{Code: scm.Code(err), Msg: "interrupted", Err: err}
	}
	switch {
	case discoverErr != nil && failed > 0:
		return fmt.Errorf("discovery incomplete and %d of %d files failed: %w", failed, len(urls), discoverErr)
	case discoverErr != nil:
		return fmt.Errorf("discovery incomplete: %w", discoverErr)
	case failed == 1 && len(urls) == 1:
		return fmt.Errorf("%s: %w", cli.RedactURL(urls[0]), results[0].err)
	case failed > 0:
		return fmt.Errorf("%d of %d files could not be read or parsed (listed above): %w", failed, len(urls), firstErr(results))
	}
	return nil
}

// checkTarget refuses a target that is not an absolute http(s) URL with a
// host, showing it as the user typed it (a user name and password in it
// replaced by "***").
func checkTarget(target string) error {
	u, err := url.Parse(target)
	if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.Opaque == "" {
		return nil
	}
	return cli.Usagef("%q is not a URL: want an absolute https:// URL of a catalog file, an owner or a directory, e.g. https://github.com/acme/svc/blob/main/catalog-info.yaml",
		hideUserInfo(target))
}

// hideUserInfo replaces what may be a user name and password in a URL
// that did not parse ("https://user:pw@host/...") by "***".
func hideUserInfo(s string) string {
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
	}
	at := strings.LastIndex(s, "@")
	if at < start {
		return s
	}
	if slash := strings.IndexAny(s[start:], "/?#"); slash >= 0 && start+slash < at {
		return s // the "@" is in the path, not in the authority
	}
	return s[:start] + "***" + s[at:]
}

// catalogFiles returns the URLs of the catalog files to read for target.
// For an owner URL it discovers them; discovery that failed part of the
// way returns what it found with discoverErr set. err is for a target that
// cannot be used at all.
// Files that discovery already had to read (providers without an
// owner-wide search) are returned in known, by URL, so they are not read
// twice.
func catalogFiles(ctx context.Context, env *cli.Env, target, catalogPath string, opts *catalog.DiscoverOptions) (urls []string, known map[string]*scm.File, discoverErr, err error) {
	reg := env.Config.Registry
	loc, perr := reg.Parse(target)
	switch {
	case perr != nil:
		// Not a URL of an integration host: ReadFile reads it
		// anonymously if backend.reading.allow permits, and otherwise
		// refuses it with an error that says what to configure.
		return []string{target}, nil, nil, nil
	case loc.Repo == "":
		locs, err := catalog.Discover(ctx, env.Client, target, opts)
		if err != nil && len(locs) == 0 {
			return nil, nil, nil, err
		}
		known = map[string]*scm.File{}
		for _, l := range locs {
			urls = append(urls, l.FileURL)
			if l.File != nil {
				known[l.FileURL] = l.File
			}
		}
		return urls, known, err, nil
	case loc.Tree:
		if loc.Ref == "" {
			return nil, nil, nil, cli.Usagef("%s names a repository without a branch: give the file URL (e.g. .../blob/main/%s) or the owner URL",
				cli.RedactURL(target), strings.TrimPrefix(catalogPath, "/"))
		}
		loc.Path = path.Join(loc.Path, strings.TrimPrefix(catalogPath, "/"))
		loc.Tree = false
		u, err := reg.URL(loc)
		if err != nil {
			return nil, nil, nil, err
		}
		return []string{u}, nil, nil, nil
	}
	return []string{target}, nil, nil, nil
}

// result is what reading and parsing one file gave.
type result struct {
	url      string
	entities []catalog.Entity
	err      error
}

// readAll reads and parses the files at urls, a few at a time, keeping
// their order. It stops starting new reads once ctx is done.
func readAll(ctx context.Context, client *scm.Client, urls []string, known map[string]*scm.File) []result {
	out := make([]result, len(urls))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, u := range urls {
		out[i].url = u
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			out[i].err = &scm.Error{Code: scm.Code(ctx.Err()), Msg: "not read", Err: ctx.Err()}
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i].entities, out[i].err = readOne(ctx, client, u, known[u])
		})
	}
	wg.Wait()
	return out
}

// readOne reads (unless f is already known) and parses one catalog file.
// A file with some invalid documents gives the valid entities and the
// error.
func readOne(ctx context.Context, client *scm.Client, u string, f *scm.File) ([]catalog.Entity, error) {
	if f == nil {
		var err error
		if f, err = client.ReadFile(ctx, u, nil); err != nil {
			return nil, err
		}
	}
	return catalog.Parse(f.Content)
}

// firstErr returns the first file's error, or nil.
func firstErr(rs []result) error {
	for _, r := range rs {
		if r.err != nil {
			return r.err
		}
	}
	return nil
}
