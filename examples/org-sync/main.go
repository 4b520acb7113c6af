// Command org-sync reads the organisational data providers of a Backstage
// app-config.yaml (catalog.providers.githubOrg, catalog.providers.gitlab.*
// with orgEnabled, catalog.providers.microsoftGraphOrg) and writes their
// users and groups as Backstage catalog files, one per provider, to a
// directory.
//
//	go run ./examples/org-sync                      # a fake world, in process
//	go run ./examples/org-sync -config app-config.yaml -out org/
//
// Without -config it starts a fake GitHub, GitLab and Microsoft Graph in
// the process, each holding the same small organisation (org/orgtest), and
// reads them: no network and no credentials are needed.
//
// On a terminal, a progress line shows each provider's users and groups so
// far, its requests and the rate-limit headroom the host reports; at the
// end a summary lists, per provider, what was written and what it cost.
// Warnings (skipped users, cycles broken) follow the summary. A provider
// that fails does not stop the others; the exit status is then 1.
//
// Microsoft Graph's delta state is kept in DIR (.microsoftGraphOrg-<id>.state.json,
// mode 0600): the next run against the same tenant reads only what changed.
//
// Flags:
//
//	-config FILE  Backstage app-config.yaml (repeatable); none: the fake world.
//	-out DIR      where to write the catalog files (default "org-entities").
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/examples/internal/cli"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/org/msgraph"
)

const usage = `org-sync [-config FILE]... [-out DIR]
  Without -config, reads a fake GitHub, GitLab and Microsoft Graph started in this process.`

func main() { cli.Main("org-sync", run) }

type configs []string

func (c *configs) String() string     { return strings.Join(*c, ",") }
func (c *configs) Set(v string) error { *c = append(*c, v); return nil }

// source is one configured provider, ready to read.
type source struct {
	name string // e.g. "githubOrg-production"
	r    org.Reader
	// save, when set, keeps the reader's state for the next run (Microsoft
	// Graph's delta links).
	save func() error
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := cli.NewFlagSet("org-sync", usage, stderr)
	var files configs
	flags.Var(&files, "config", "Backstage app-config.yaml `FILE` (repeatable); none: a fake world in this process")
	out := flags.String("out", "org-entities", "`DIR`ectory to write the catalog files to")
	pos, err := cli.Parse(flags, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		flags.Usage()
		return cli.Usagef("org-sync takes no arguments, got %d", len(pos))
	}
	var cfg *config.Config
	var transport http.RoundTripper = http.DefaultTransport
	if len(files) == 0 {
		fw, err := startFakeWorld(ctx)
		if err != nil {
			return fmt.Errorf("starting the fake world: %w", err)
		}
		defer fw.close()
		fmt.Fprintf(stdout, "A fake world in this process: GitHub %s, GitLab %s, Microsoft Graph %s\n\n", fw.github.Host(), fw.gitlab.Host(), fw.graph.URL())
		cfg = fw.config
	} else {
		cfg, err = config.Load(ctx, &config.Options{Lookup: os.LookupEnv, Environ: os.Environ()}, files...)
		if err != nil {
			return err
		}
		for _, w := range cfg.Warnings {
			fmt.Fprintln(stderr, "warning:", w)
		}
	}
	requests := map[string]int{} // each provider's requests, from its last progress report
	sources, err := openSources(cfg, transport, progressLine(stderr, requests), *out)
	if err != nil {
		return err
	}
	if len(sources) == 0 {
		return cli.Usagef("the configuration has no organisational data provider (catalog.providers.githubOrg, catalog.providers.gitlab.<id> with orgEnabled, catalog.providers.microsoftGraphOrg)")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	type result struct {
		name, file    string
		users, groups int
		requests      int
		took          time.Duration
		warnings      []string
		err           error
	}
	var results []result
	failed := 0
	for _, s := range sources {
		start := time.Now()
		snap, err := s.r.Read(ctx)
		clearLine(stderr)
		res := result{name: s.name, took: time.Since(start), err: err}
		if err == nil {
			res.users, res.groups, res.warnings = len(snap.Users), len(snap.Groups), snap.Warnings
			res.requests = requests[s.name]
			res.file = filepath.Join(*out, s.name+".yaml")
			res.err = writeSnapshot(res.file, snap)
			if res.err == nil && s.save != nil {
				res.err = s.save()
			}
		}
		if res.err != nil {
			failed++
		}
		results = append(results, res)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tUSERS\tGROUPS\tREQUESTS\tTIME\tWRITTEN")
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t%s\tfailed\n", r.name, r.took.Round(time.Millisecond))
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", r.name, r.users, r.groups, r.requests, r.took.Round(time.Millisecond), r.file)
	}
	tw.Flush()
	for _, r := range results {
		for i, w := range r.warnings {
			if i == 10 {
				fmt.Fprintf(stdout, "warning: %s: ... and %d more\n", r.name, len(r.warnings)-10)
				break
			}
			fmt.Fprintf(stdout, "warning: %s: %s\n", r.name, w)
		}
		if r.err != nil {
			fmt.Fprintf(stderr, "org-sync: %s: %v\n", r.name, r.err)
			if h := cli.Hint(r.err); h != "" {
				fmt.Fprintf(stderr, "hint: %s\n", h)
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d providers failed", failed, len(results))
	}
	return nil
}

// progressLine returns the progress callback of each provider: it records
// the requests so far in requests (readers report from the goroutine that
// called Read, and the providers are read one after the other) and, on a
// terminal, rewrites one line in place.
func progressLine(stderr io.Writer, requests map[string]int) func(name string) org.ProgressFunc {
	tty := isTerminal(stderr)
	return func(name string) org.ProgressFunc {
		return func(p org.Progress) {
			requests[name] = p.Requests
			if !tty {
				return
			}
			limit := ""
			if p.RateLimitRemaining >= 0 {
				limit = fmt.Sprintf(", rate limit: %d left", p.RateLimitRemaining)
				if !p.RateLimitReset.IsZero() {
					limit += " until " + p.RateLimitReset.Local().Format(time.TimeOnly)
				}
			}
			fmt.Fprintf(stderr, "\r\033[K%s: %s: %d users, %d groups, %d requests%s", name, p.Phase, p.Users, p.Groups, p.Requests, limit)
		}
	}
}

func clearLine(w io.Writer) {
	if isTerminal(w) {
		fmt.Fprint(w, "\r\033[K")
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// openSources builds a reader per configured provider.
func openSources(cfg *config.Config, transport http.RoundTripper, progress func(string) org.ProgressFunc, out string) ([]source, error) {
	res, err := credentials.NewResolver(cfg.Registry, &credentials.ResolverOptions{HTTPClient: &http.Client{Transport: transport}})
	if err != nil {
		return nil, err
	}
	var sources []source
	ghs, err := githuborg.DecodeConfig(cfg)
	if err != nil {
		return nil, err
	}
	for _, c := range ghs {
		name, err := sourceName("githubOrg", c.ID)
		if err != nil {
			return nil, err
		}
		r, err := githuborg.New(c, &githuborg.Options{Registry: cfg.Registry, Resolver: res, Transport: transport, Progress: progress(name)})
		if err != nil {
			return nil, err
		}
		sources = append(sources, source{name: name, r: r})
	}
	gls, err := gitlaborg.DecodeConfig(cfg)
	if err != nil {
		return nil, err
	}
	for _, c := range gls {
		name, err := sourceName("gitlab", c.ID)
		if err != nil {
			return nil, err
		}
		r, err := gitlaborg.New(c, &gitlaborg.Options{Registry: cfg.Registry, Resolver: res, Transport: transport, Progress: progress(name)})
		if err != nil {
			return nil, err
		}
		sources = append(sources, source{name: name, r: r})
	}
	mss, err := msgraph.DecodeConfig(cfg)
	if err != nil {
		return nil, err
	}
	for _, c := range mss {
		name, err := sourceName("microsoftGraphOrg", c.ID)
		if err != nil {
			return nil, err
		}
		// The delta state of the last run makes this one incremental.
		statePath := filepath.Join(out, "."+name+".state.json")
		state, err := os.ReadFile(statePath)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		r, err := msgraph.New(c, &msgraph.Options{Transport: transport, Progress: progress(name), State: state})
		if err != nil {
			return nil, err
		}
		save := func() error {
			b, err := r.State()
			if err != nil || b == nil {
				return err
			}
			return os.WriteFile(statePath, b, 0o600)
		}
		sources = append(sources, source{name, r, save})
	}
	return sources, nil
}

// sourceName is the provider's name, which names its files in the output
// directory: a provider id with a path separator or any other character
// outside [A-Za-z0-9_.-] (such as "../../etc/x") is refused, so no file
// lands outside the directory.
func sourceName(kind, id string) (string, error) {
	id = idOr(id)
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') || len(id) > 100 {
			return "", cli.Usagef("%s provider id %q: use at most 100 letters, digits, '_', '.' and '-' (it names the output files)", kind, id)
		}
	}
	return kind + "-" + id, nil
}

func idOr(id string) string {
	if id == "" {
		return "default"
	}
	return id
}

// writeSnapshot writes the catalog file atomically (a temporary file
// renamed into place).
func writeSnapshot(path string, snap *org.Snapshot) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".org-sync-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := snap.WriteYAML(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
