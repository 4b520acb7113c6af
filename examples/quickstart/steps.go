package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/catalog"
)

// requests is how many HTTP requests the fakes have answered so far: what
// the same calls would cost on the real services' rate limits.
func (w *world) requests() int {
	gh, gl := w.github.Stats(), w.gitlab.Stats()
	bbc, bbs := w.bitbucketCloud.Stats(), w.bitbucketServer.Stats()
	return gh.API + gh.Download + gl.Total + bbc.API + bbc.Web + bbc.Download + bbs.Total
}

// cost runs fn and returns how many requests it made.
func (w *world) cost(fn func() error) (int, error) {
	before := w.requests()
	err := fn()
	return w.requests() - before, err
}

// user is the signed-in user's view of the client: her GitHub token is
// used for GitHub only, and writes must be hers.
func (w *world) user() *scm.Client {
	alice := credentials.Static(credentials.Credential{Kind: credentials.KindUser, Token: userToken, Source: "sign-in (alice)"})
	return w.client.ForUser(w.userCredentials(alice), &scm.UserOptions{RequireUserForWrites: true})
}

// showWorld prints the fake servers and the generated configuration.
func showWorld(w *world, out io.Writer) error {
	tw := table(out)
	fmt.Fprintln(tw, "PROVIDER\tFAKE SERVER\tCONTENT")
	fmt.Fprintf(tw, "GitHub\t%s\torg acme: %d repositories (every %s has a catalog-info.yaml), acme/templates; org acme-labs\n",
		w.github.APIBaseURL(), orgRepos, ordinal(catalogEvery))
	fmt.Fprintf(tw, "GitLab\t%s\tgroup platform/backend: project payments\n", w.gitlab.URL())
	fmt.Fprintf(tw, "Bitbucket Cloud\t%s\tworkspace acme-ws: repository billing\n", w.bitbucketCloud.APIBaseURL())
	fmt.Fprintf(tw, "Bitbucket Server\t%s\tproject PLAT: repository ledger\n", w.bitbucketServer.URL())
	tw.Flush()
	fmt.Fprintln(out, "\nThe app-config.yaml pointing at them (secrets are ${VAR} references, resolved by an injected lookup):")
	fmt.Fprint(out, indent(w.config))
	return nil
}

// showCredentials asks the resolver who scmkit would be for several calls,
// for an anonymous caller and for a signed-in user, and prints its choice
// or, when nothing fits, why.
func showCredentials(ctx context.Context, w *world, out io.Writer) error {
	alice := credentials.Static(credentials.Credential{Kind: credentials.KindUser, Token: userToken, Source: "sign-in (alice)"})
	gh, gl := w.github.Host(), w.gitlab.Host()
	cases := []struct {
		what string
		req  credentials.Request
	}{
		{"read acme/service-003 (cold)", credentials.Request{Host: gh, Owner: "acme", Repo: "service-003"}},
		{"read acme/service-006 (cached)", credentials.Request{Host: gh, Owner: "acme", Repo: "service-006"}},
		{"read acme-labs/experiments", credentials.Request{Host: gh, Owner: "acme-labs", Repo: "experiments"}},
		{"read other-org/x", credentials.Request{Host: gh, Owner: "other-org", Repo: "x"}},
		{"alice reads acme/service-003", credentials.Request{Host: gh, Owner: "acme", Repo: "service-003", User: alice}},
		{"background job, alice's token passed", credentials.Request{Host: gh, Owner: "acme", User: alice, Policy: credentials.NoUser}},
		{"write that must be the user's, no user", credentials.Request{Host: gh, Owner: "acme", Repo: "templates", Write: true, Policy: credentials.RequireUser}},
		{"read platform/backend/payments", credentials.Request{Host: gl, Owner: "platform/backend", Repo: "payments"}},
		{"read acme-ws/billing", credentials.Request{Host: w.bitbucketCloud.Host(), Owner: "acme-ws", Repo: "billing"}},
		{"read PLAT/ledger", credentials.Request{Host: w.bitbucketServer.Host(), Owner: "PLAT", Repo: "ledger"}},
		{"read docs.example.org (allow-listed)", credentials.Request{URL: "https://docs.example.org/handbook.md"}},
		{"read intranet.example.com", credentials.Request{URL: "https://intranet.example.com/secret.md"}},
	}
	tw := table(out)
	fmt.Fprintln(tw, "CALL\tKIND\tSOURCE (never the secret)\tREQUESTS")
	type explained struct {
		what  string
		trace []credentials.Candidate
		err   error
	}
	var why []explained
	for _, c := range cases {
		var (
			cred  *credentials.Credential
			trace []credentials.Candidate
		)
		n, err := w.cost(func() (err error) { cred, trace, err = w.resolver.Explain(ctx, c.req); return err })
		if err != nil {
			fmt.Fprintf(tw, "%s\tnone\tsee [%d] below (%v)\t%d\n", c.what, len(why)+1, scm.Code(err), n)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", c.what, cred.Kind, cred.Source, n)
		}
		if err != nil || interesting(trace) {
			if err == nil {
				fmt.Fprintf(tw, "\t\t(why: see [%d] below)\t\n", len(why)+1)
			}
			why = append(why, explained{c.what, trace, err})
		}
	}
	tw.Flush()
	fmt.Fprintln(out, "\nHow the resolver decided (Resolver.Explain), and what it says when nothing fits:")
	for i, e := range why {
		fmt.Fprintf(out, "[%d] %s\n", i+1, e.what)
		for _, c := range e.trace {
			fmt.Fprintf(out, "      %s\n", c)
		}
		if e.err != nil {
			fmt.Fprintf(out, "      error: %v\n", e.err)
		}
	}
	return nil
}

// discoverCatalog finds every catalog-info.yaml in the acme organisation.
func discoverCatalog(ctx context.Context, w *world, out io.Writer) error {
	var locs []catalog.Location
	n, err := w.cost(func() (err error) {
		locs, err = catalog.Discover(ctx, w.client, webURL(w.github.Host(), "acme"), &catalog.DiscoverOptions{SkipArchived: true})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d catalog files in %d repositories of acme (archived ones skipped): %d requests (Backstage: 40 for 1,000 repositories)\n",
		len(locs), orgRepos+1, n)
	for i, l := range locs {
		if i == 3 {
			fmt.Fprintf(out, "  ... and %d more\n", len(locs)-i)
			break
		}
		fmt.Fprintf(out, "  %s (blob %.12s)\n", l.FileURL, l.BlobID)
	}
	w.found = locs
	return nil
}

// readCatalog reads and parses a few of the files found, then re-reads one
// with its ETag.
func readCatalog(ctx context.Context, w *world, out io.Writer) error {
	tw := table(out)
	fmt.Fprintln(tw, "FILE\tENTITIES\tREQUESTS")
	var first *scm.File
	for _, l := range w.found[:min(4, len(w.found))] {
		var f *scm.File
		n, err := w.cost(func() (err error) { f, err = w.client.ReadFile(ctx, l.FileURL, nil); return err })
		if err != nil {
			return err
		}
		if first == nil {
			first = f
		}
		entities, err := catalog.Parse(f.Content)
		if err != nil {
			return err
		}
		var names []string
		for _, e := range entities {
			names = append(names, e.Kind+":"+e.Metadata.Name)
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%d\n", l.Repo.Name, f.Path, strings.Join(names, ", "), n)
	}
	tw.Flush()
	n, err := w.cost(func() error {
		_, err := w.client.ReadFile(ctx, first.URL, &scm.ReadFileOptions{IfNoneMatch: first.ETag})
		return err
	})
	fmt.Fprintf(out, "re-reading %s with its ETag: %v, %d request (a 304, free on GitHub's rate limit)\n", first.Path, scm.Code(err), n)
	if scm.Code(err) != scm.NotModified {
		return fmt.Errorf("conditional re-read: %v", err)
	}
	return nil
}

// fetchTemplate reads the go-service template as an fs.FS and writes it to
// a temporary directory.
func fetchTemplate(ctx context.Context, w *world, out io.Writer) error {
	u := webURL(w.github.Host(), "acme/templates/tree/main/templates/go-service")
	var fsys fs.FS
	n, err := w.cost(func() (err error) { fsys, err = w.client.ReadTree(ctx, u, nil); return err })
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "scmkit-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dest := filepath.Join(dir, "go-service")
	if err := scm.WriteTree(ctx, fsys, dest, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n-> %s: %s (one GraphQL query returning the folder's files, not the repository's archive;\n   the root, or a folder with several binaries or a symlink, is read from the archive, whose download gets no Authorization)\n",
		u, dest, plural(n, "request"))
	return fs.WalkDir(os.DirFS(dest), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %v %5d %s\n", info.Mode(), info.Size(), p)
		return nil
	})
}

// openPullRequest opens a pull request on behalf of the signed-in user
// with the template's skeleton, then opens it again.
func openPullRequest(ctx context.Context, w *world, out io.Writer) error {
	fsys, err := w.client.ReadTree(ctx, webURL(w.github.Host(), "acme/templates/tree/main/templates/go-service/skeleton"), nil)
	if err != nil {
		return err
	}
	var changes []scm.Change
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		body := strings.ReplaceAll(strings.ReplaceAll(string(data), "${{ values.name }}", "orders"), "${{ values.owner }}", "team-orders")
		changes = append(changes, scm.Change{Path: "services/orders/" + p, Content: []byte(body), Executable: info.Mode()&0o100 != 0})
		return nil
	})
	if err != nil {
		return err
	}
	spec := &scm.PullRequestSpec{
		RepoURL: webURL(w.github.Host(), "acme/service-003"),
		Branch:  "scaffold/orders",
		Title:   "Add the orders service",
		Body:    "Created from the go-service template.",
		Changes: changes,
	}

	_, err = w.client.ForUser(nil, &scm.UserOptions{RequireUserForWrites: true}).OpenPullRequest(ctx, spec)
	fmt.Fprintf(out, "without a signed-in user, writes that must be the user's are refused: %v\n", scm.Code(err))
	if scm.Code(err) != scm.Unauthorized {
		return fmt.Errorf("a write without the user: %v", err)
	}

	for _, attempt := range []string{"as alice", "again (same branch)"} {
		var pr *scm.PullRequest
		n, err := w.cost(func() (err error) { pr, err = w.user().OpenPullRequest(ctx, spec); return err })
		if err != nil {
			return err
		}
		state := "opened"
		if pr.Existing {
			state = "already open, returned as is"
		}
		fmt.Fprintf(out, "%s: %d files in one commit %.12s, pull request #%d %s: %s\n  %s\n",
			attempt, len(changes), pr.CommitID, pr.Number, state, plural(n, "request"), pr.URL)
	}
	pulls := w.github.Pulls("acme", "service-003")
	fmt.Fprintf(out, "pull requests on acme/service-003: %d\n", len(pulls))
	return nil
}

// otherProviders runs the same reads and a pull request on GitLab,
// Bitbucket Cloud and Bitbucket Server.
func otherProviders(ctx context.Context, w *world, out io.Writer) error {
	type target struct {
		name, file, tree, repo string
	}
	gl := strings.TrimPrefix(w.gitlab.URL(), "http://")
	bbs := strings.TrimPrefix(w.bitbucketServer.URL(), "http://")
	targets := []target{
		{"GitLab", webURL(gl, "platform/backend/payments/-/blob/main/catalog-info.yaml"), webURL(gl, "platform/backend/payments/-/tree/main"), webURL(gl, "platform/backend/payments")},
		{"Bitbucket Cloud", webURL(w.bitbucketCloud.Host(), "acme-ws/billing/src/main/catalog-info.yaml"), webURL(w.bitbucketCloud.Host(), "acme-ws/billing/src/main/"), webURL(w.bitbucketCloud.Host(), "acme-ws/billing")},
		{"Bitbucket Server", webURL(bbs, "projects/PLAT/repos/ledger/browse/catalog-info.yaml"), webURL(bbs, "projects/PLAT/repos/ledger/browse/"), webURL(bbs, "projects/PLAT/repos/ledger")},
	}
	tw := table(out)
	fmt.Fprintln(tw, "PROVIDER\tREAD catalog-info.yaml\tREAD TREE\tPR WITH 10 FILES\tPR AGAIN")
	for _, t := range targets {
		var entities []catalog.Entity
		nRead, err := w.cost(func() error {
			f, err := w.client.ReadFile(ctx, t.file, nil)
			if err != nil {
				return err
			}
			entities, err = catalog.Parse(f.Content)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		var files int
		nTree, err := w.cost(func() error {
			fsys, err := w.client.ReadTree(ctx, t.tree, nil)
			if err != nil {
				return err
			}
			return fs.WalkDir(fsys, ".", func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					files++
				}
				return err
			})
		})
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		spec := &scm.PullRequestSpec{RepoURL: t.repo, Branch: "docs/runbooks", Title: "Add runbooks"}
		for i := 1; i <= 10; i++ {
			spec.Changes = append(spec.Changes, scm.Change{Path: fmt.Sprintf("docs/runbooks/step-%02d.md", i), Content: []byte(fmt.Sprintf("# Step %d\n", i))})
		}
		var pr *scm.PullRequest
		nPR, err := w.cost(func() (err error) { pr, err = w.client.OpenPullRequest(ctx, spec); return err })
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		nAgain, err := w.cost(func() error {
			again, err := w.client.OpenPullRequest(ctx, spec)
			if err == nil && (!again.Existing || again.Number != pr.Number) {
				err = errors.New("opening the pull request again did not return the existing one")
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		fmt.Fprintf(tw, "%s\t%d entities, %s\t%d files, %s\t#%d, %s\texisting #%d, %s\n",
			t.name, len(entities), plural(nRead, "request"), files, plural(nTree, "request"), pr.Number, plural(nPR, "request"),
			pr.Number, plural(nAgain, "request"))
	}
	return tw.Flush()
}

// interesting reports whether a trace skipped a candidate for a reason
// worth showing (more than "no user token passed").
func interesting(trace []credentials.Candidate) bool {
	for _, c := range trace {
		if c.Outcome == credentials.Skipped && c.Why != "none passed" {
			return true
		}
	}
	return false
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}

func ordinal(n int) string {
	switch n {
	case 2:
		return "second"
	case 3:
		return "third"
	}
	return fmt.Sprintf("%dth", n)
}
