// Command portal is a small developer portal on scmkit: it signs users in
// (GitHub, any OpenID Connect provider, or LDAP with a username and
// password), shows who they are, reads a catalog-info.yaml as them, opens a
// pull request as them, and lets members of group:default/platform-team
// register a component. Who is who and who may do what come from the
// app-config, as in a Backstage backend: the organisation is read with
// every catalog.providers.githubOrg entry (org/githuborg) and combined
// with org.Merge, sign-ins are mapped to catalog users by the resolvers of
// auth.providers.<id>.<env>.signIn (identity.ResolversFromConfig), and the
// decision is made by permission/rbac with the permission section
// (permission.enabled, permission.rbac.policies-csv-file: rbac-policy.csv
// in the fake world).
//
//	go run ./examples/portal
//
// runs it against an in-process fake world (a fake GitHub that approves
// alice at once, a real OpenID Provider, and a directory: slapd when it is
// installed, else an in-process fake) and prints the URL to open; LDAP
// sign-in is alice / alice-password. It needs no network and no
// credentials. -addr sets its listen address (default 127.0.0.1:0, a free
// port).
//
//	go run ./examples/portal -config app-config.yaml -repo https://github.com/acme/service
//
// runs it against the providers and integrations of a Backstage
// app-config.yaml (auth: and integrations: sections, app.baseUrl,
// backend.baseUrl, auth.providers.ldap.<auth.environment> when present),
// on backend.baseUrl's port; with permission.enabled: true, also its
// catalog.providers.githubOrg, signIn resolvers and RBAC files (paths
// relative to the working directory, as Backstage reads them). That
// needs the network and the OAuth apps and tokens the file names.
//
// Pages: / (who you are), /catalog (catalog-info.yaml read with your
// token; catalog.entity.read), POST /pull-request (a pull request opened
// as you; scaffolder.task.create), /register (catalog.location.create and
// catalog.entity.create). Every permission is decided on the server by the
// policy; without one (-config without permission.enabled: true) the
// pages act with your own token only and registration is refused.
// One file per page (page_*.go, templates/*.html): add a page by adding a
// file and a line in routes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run parses the flags, starts the portal and serves until ctx ends.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("portal", flag.ContinueOnError)
	configPath := fs.String("config", "", "a Backstage app-config.yaml; empty runs against the fake world")
	repo := fs.String("repo", "", "with -config: the repository whose catalog-info.yaml to read and where to open pull requests")
	addr := fs.String("addr", "127.0.0.1:0", "listen address (the fake world)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, err := start(ctx, options{configPath: *configPath, repo: *repo, addr: *addr})
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Fprintf(out, "portal: open %s in a browser\n", p.URL)
	if p.world != nil {
		fmt.Fprintf(out, "portal: fake world: GitHub at %s (signs in alice), OpenID Provider at %s\n", p.world.github.URL(), p.world.op.Issuer)
		fmt.Fprintf(out, "portal: LDAP sign-in: alice / %s against %s at %s\n", ldapAlicePassword, p.world.ldap.kind, p.world.ldap.url)
	}
	<-ctx.Done()
	return nil
}

type options struct {
	configPath, repo, addr string
	// seed, when set, changes the fake world before the portal reads
	// it and returns entries to add to its catalog.providers.githubOrg
	// list (tests).
	seed func(*world) (string, error)
}

// portal is a running portal.
type portal struct {
	// URL is where the portal serves, e.g. "http://127.0.0.1:7007".
	URL   string
	app   *app
	world *world
	srv   *http.Server
}

// start listens, builds the app (and the fake world, without -config) and
// serves in the background.
func start(ctx context.Context, o options) (*portal, error) {
	var cfg *realConfig
	if o.configPath != "" {
		var err error
		if cfg, err = loadConfig(ctx, o.configPath, o.repo); err != nil {
			return nil, err
		}
		o.addr = cfg.listen
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	p := &portal{URL: "http://" + ln.Addr().String()}
	var deps *deps
	if cfg != nil {
		p.URL = cfg.baseURL
		deps, err = cfg.deps(ctx)
	} else {
		p.world, err = newWorld(p.URL)
		extra := ""
		if err == nil && o.seed != nil {
			extra, err = o.seed(p.world)
		}
		if err == nil {
			deps, err = p.world.deps(p.URL, extra)
		}
	}
	if err != nil {
		ln.Close()
		if p.world != nil {
			p.world.Close()
		}
		return nil, err
	}
	for _, w := range deps.warnings {
		slog.Warn("portal: configuration warning", "warning", w)
	}
	p.app, err = newApp(deps)
	if err != nil {
		ln.Close()
		closeAll(deps.closers)
		if p.world != nil {
			p.world.Close()
		}
		return nil, err
	}
	p.srv = &http.Server{Handler: p.app.routes(), ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// Close stops the portal, closes its LDAP connections and stops its fake
// world.
func (p *portal) Close() {
	p.srv.Close()
	closeAll(p.app.closers)
	if p.world != nil {
		p.world.Close()
	}
}

// closeAll closes each of cs.
func closeAll(cs []io.Closer) {
	for _, c := range cs {
		c.Close()
	}
}
