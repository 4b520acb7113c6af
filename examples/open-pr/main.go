// Command open-pr commits local files as one commit on a new branch of a
// repository on GitHub, GitLab, Bitbucket Cloud or Bitbucket Server, and
// opens a pull request (a merge request on GitLab) from it.
//
//	go run ./examples/open-pr -config app-config.yaml -repo REPO_URL -branch NAME -title T \
//	    [-body B] [-base main] [-draft] [-from DIR] [-file path=localpath ...] [-delete path ...]
//
// The files of -from DIR go to the same paths at the repository's root
// (".git" directories are skipped; symbolic links are refused); each
// -file repo/path=local/path adds or replaces one file, and wins over a
// file of -from at the same path; each -delete removes a file. Files keep
// their executable bit. All of it becomes ONE commit, whose message is
// -message (default: the title), on -branch, created from -base (default:
// the repository's default branch) when missing.
//
// Running it again with the same branch does not open a second pull
// request: it prints the open one and says it was already open. With
// -update, the changes are first committed on its branch.
//
// It prints the pull request's URL, whether it already existed, and how
// many HTTP requests each host received.
//
// # Whose name the commit goes out in
//
// Without -as-user, the credential is picked as for any call: the
// signed-in user's token if -user-token-env is given, else a GitHub App
// installed for the owner, an owner-scoped token or the host's token from
// the config. A portal usually wants writes attributed to the person who
// asked (Backstage's scaffolder.requireScmUserCredentials): -as-user does
// that. It needs -user-token-env, and then the user's token is the only
// one used; if the host does not accept it, the command fails instead of
// falling back to the service's credentials. Writes never go anonymous.
//
// # What it needs
//
// Network access to the repository's host and a credential that may push
// a branch and open a pull request there: a config (-config, or an
// app-config.yaml in the current directory) naming a token or a GitHub
// App for the host, or a user's token through -user-token-env (then a
// config is only needed for hosts other than github.com, gitlab.com and
// bitbucket.org). Without one it fails with Unauthorized before writing
// anything. To watch it work without network or credentials, run go run
// ./examples/quickstart (step 8 opens a pull request on a fake GitHub) or
// go test ./examples/open-pr (this command against fake servers).
//
// Flags:
//
//	-config FILE          Backstage app-config.yaml (repeatable; default app-config.yaml).
//	-repo URL             the repository, e.g. https://github.com/acme/svc (required).
//	-branch NAME          the branch to commit on (required).
//	-title T              the pull request's title (required).
//	-body B               its description.
//	-base NAME            the branch to merge into (default: the default branch).
//	-draft                open it as a draft.
//	-message M            the commit message (default: the title).
//	-from DIR             commit the files of DIR.
//	-file path=local      commit local file at path (repeatable).
//	-delete path          delete path (repeatable).
//	-update               when the pull request is already open, commit on its branch.
//	-user-token-env NAME  the signed-in user's OAuth token for the repository's
//	                      host is in environment variable NAME.
//	-device-login ID      sign the user in to the repository's GitHub or GitLab host with
//	                      the device flow of OAuth app ID (no secret): it prints
//	                      where to enter a code, then acts as her.
//	-as-user              use only the user's token (needs -user-token-env or
//	                      -device-login).
//	-v                    log which credential each call used (never the secret).
package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/examples/internal/cli"
	"github.com/scmkit/scmkit/scm"
)

const usage = `open-pr [flags] -repo REPO_URL -branch NAME -title T [-from DIR] [-file path=localpath ...] [-delete path ...]`

// Limits on what -from reads, so that a mistaken directory (a home
// directory, a build output) is refused before anything is sent.
const (
	maxFromFiles = 1000
	maxFromBytes = 64 << 20
)

func main() { cli.Main("open-pr", run) }

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(s string) error { *r = append(*r, s); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := cli.NewFlagSet("open-pr", usage, stderr)
	var common cli.Common
	common.Register(flags)
	var (
		spec           scm.PullRequestSpec
		from           string
		files, deletes repeated
		asUser         bool
	)
	flags.StringVar(&spec.RepoURL, "repo", "", "the repository's `URL` (required)")
	flags.StringVar(&spec.Branch, "branch", "", "the `branch` to commit on, created when missing (required)")
	flags.StringVar(&spec.Title, "title", "", "the pull request's `title` (required)")
	flags.StringVar(&spec.Body, "body", "", "the pull request's description")
	flags.StringVar(&spec.Base, "base", "", "the `branch` to merge into (default: the repository's default branch)")
	flags.BoolVar(&spec.Draft, "draft", false, "open the pull request as a draft")
	flags.StringVar(&spec.CommitMessage, "message", "", "the commit `message` (default: the title)")
	flags.BoolVar(&spec.UpdateExisting, "update", false, "when the pull request is already open, commit the changes on its branch")
	flags.StringVar(&from, "from", "", "commit the files of `DIR` at the same paths in the repository")
	flags.Var(&files, "file", "commit local file `path=localpath` at path in the repository (repeatable)")
	flags.Var(&deletes, "delete", "delete `path` from the repository (repeatable)")
	flags.BoolVar(&asUser, "as-user", false, "act only as the user whose token -user-token-env names, never with the configured credentials")
	pos, err := cli.Parse(flags, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		flags.Usage()
		return cli.Usagef("unexpected arguments %q: the repository is given with -repo", pos)
	case spec.RepoURL == "" || spec.Branch == "" || spec.Title == "":
		flags.Usage()
		return cli.Usagef("-repo, -branch and -title are required")
	case from == "" && len(files) == 0 && len(deletes) == 0:
		return cli.Usagef("nothing to commit: give -from DIR, -file path=localpath or -delete path")
	case asUser && common.UserTokenEnv == "" && common.DeviceClient == "":
		return cli.Usagef("-as-user needs the user's token: pass -user-token-env NAME or -device-login CLIENT_ID")
	}

	spec.Changes, err = changes(from, files, deletes)
	if err != nil {
		return err
	}

	var policy *scm.UserOptions
	if asUser {
		policy = &scm.UserOptions{RequireUser: true}
	}
	env, err := common.Open(ctx, stderr, spec.RepoURL, policy)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "%d %s for branch %s of %s:\n", len(spec.Changes), cli.Plural(len(spec.Changes), "change", "changes"),
		spec.Branch, cli.RedactURL(spec.RepoURL))
	for _, c := range spec.Changes {
		switch c.Action {
		case scm.Delete:
			fmt.Fprintf(stdout, "  delete  %s\n", c.Path)
		default:
			x := ""
			if c.Executable {
				x = ", executable"
			}
			fmt.Fprintf(stdout, "  write   %s (%d bytes%s)\n", c.Path, len(c.Content), x)
		}
	}

	pr, err := env.Client.OpenPullRequest(ctx, &spec)
	if err != nil {
		return err
	}
	switch {
	case pr.Existing && spec.UpdateExisting:
		fmt.Fprintf(stdout, "\npull request #%d was already open; the changes were committed on its branch %s\n", pr.Number, pr.Branch)
	case pr.Existing:
		fmt.Fprintf(stdout, "\npull request #%d is already open from %s; nothing was committed (pass -update to commit on its branch)\n", pr.Number, pr.Branch)
	default:
		fmt.Fprintf(stdout, "\nopened pull request #%d from %s into %s\n", pr.Number, pr.Branch, pr.Base)
	}
	fmt.Fprintln(stdout, pr.URL)
	if pr.CommitID != "" {
		fmt.Fprintln(stdout, "commit", pr.CommitID)
	}
	fmt.Fprintln(stdout, env.Requests)
	return nil
}

// changes builds the commit's changes: the files of dir, then the -file
// pairs (which replace a file of dir at the same path), then the deletions,
// sorted by path.
func changes(dir string, files, deletes []string) ([]scm.Change, error) {
	byPath := map[string]scm.Change{}
	if dir != "" {
		if err := readDir(dir, byPath); err != nil {
			return nil, err
		}
	}
	fromFile := map[string]bool{}
	for _, pair := range files {
		p, local, ok := strings.Cut(pair, "=")
		if !ok || p == "" || local == "" {
			return nil, cli.Usagef("-file %q: want repo/path=local/path", pair)
		}
		p = strings.TrimPrefix(p, "/")
		if !fs.ValidPath(p) || p == "." {
			return nil, cli.Usagef("-file %q: %q is not a valid repository path (relative, slash-separated, no \"..\")", pair, p)
		}
		if fromFile[p] {
			return nil, cli.Usagef("-file: %s given twice", p)
		}
		fromFile[p] = true
		c, err := readLocal(local)
		if err != nil {
			return nil, err
		}
		c.Path = p
		byPath[p] = c
	}
	for _, p := range deletes {
		p = strings.TrimPrefix(p, "/")
		if !fs.ValidPath(p) || p == "." {
			return nil, cli.Usagef("-delete %q: not a valid repository path", p)
		}
		if _, dup := byPath[p]; dup {
			return nil, cli.Usagef("-delete %s: the same path is also written", p)
		}
		byPath[p] = scm.Change{Path: p, Action: scm.Delete}
	}
	out := make([]scm.Change, 0, len(byPath))
	for _, c := range byPath {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b scm.Change) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// readDir adds the regular files under dir to byPath, through an os.Root
// so that nothing outside dir is read. It skips .git directories and
// refuses symbolic links and special files.
func readDir(dir string, byPath map[string]scm.Change) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("-from: %w", err)
	}
	defer root.Close()
	var total int64
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch t := d.Type(); {
		case d.IsDir() && d.Name() == ".git":
			return fs.SkipDir
		case d.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link, which open-pr does not commit; replace it with a file or remove it", p)
		case !t.IsRegular():
			return fmt.Errorf("%s is not a regular file (mode %v)", p, t)
		}
		if len(byPath) >= maxFromFiles {
			return fmt.Errorf("more than %d files: is this the right directory?", maxFromFiles)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if total += info.Size(); total > maxFromBytes {
			return fmt.Errorf("more than %d bytes in all: is this the right directory?", maxFromBytes)
		}
		b, err := fs.ReadFile(root.FS(), p)
		if err != nil {
			return err
		}
		byPath[p] = scm.Change{Path: p, Content: b, Executable: info.Mode()&0o111 != 0}
		return nil
	})
	if err != nil {
		return fmt.Errorf("-from %s: %w", dir, err)
	}
	if len(byPath) == 0 {
		return cli.Usagef("-from %s: no files to commit", dir)
	}
	return nil
}

// readLocal reads one -file local file.
func readLocal(name string) (scm.Change, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return scm.Change{}, fmt.Errorf("-file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return scm.Change{}, fmt.Errorf("-file: %s is not a regular file", name)
	}
	if fi.Size() > maxFromBytes {
		return scm.Change{}, fmt.Errorf("-file: %s is larger than %d bytes", name, maxFromBytes)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return scm.Change{}, fmt.Errorf("-file: %w", err)
	}
	return scm.Change{Content: b, Executable: fi.Mode()&0o111 != 0}, nil
}
