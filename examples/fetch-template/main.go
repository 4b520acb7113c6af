// Command fetch-template downloads a directory of a repository (a
// scaffolder template, say) from GitHub, GitLab, Bitbucket Cloud or
// Bitbucket Server and writes it to a local directory.
//
//	go run ./examples/fetch-template -config app-config.yaml -out DIR URL
//
// URL names a directory at a ref, e.g.
// https://github.com/acme/templates/tree/main/service, or a repository
// (its default branch's root). The directory is fetched as one archive
// where the provider allows it (on GitHub: one API call and its redirect)
// and checked before anything is written: entries with "..", absolute
// paths, links, device files, paths deeper than -max-depth, or more files
// or bytes than the limits are refused. The files are then written under
// DIR with scm.WriteTree, which never leaves DIR: not os.CopyFS, which
// follows a symbolic link already in DIR (a "skeleton" link to ~/.ssh,
// say) and writes where it points. Symbolic links are not written, and
// files keep their executable bit.
//
// DIR must be empty or missing, unless -force is given: then files in the
// way are replaced (a symbolic link in a file's place is replaced, never
// followed; one where the tree has a directory is refused) and other files
// already in DIR are left alone.
//
// It prints each file written with its size, then how many HTTP requests
// each host received.
//
// # What it needs
//
// Network access to the URL's host. Without -config and without an
// app-config.yaml in the current directory it reads no config file and
// says so: a public repository of github.com, gitlab.com or bitbucket.org
// is then fetched anonymously, e.g.
//
//	go run ./examples/fetch-template -out /tmp/tpl https://github.com/backstage/software-templates/tree/main/scaffolder-templates/react-ssr-template
//
// A private repository or another host needs a config naming a credential
// for it. To watch it work without network or credentials, run go run
// ./examples/quickstart (step 7 fetches a template from a fake GitHub) or
// go test ./examples/fetch-template (this command against fake servers).
//
// Flags:
//
//	-config FILE          Backstage app-config.yaml (repeatable; default app-config.yaml).
//	-out DIR              where to write the tree (required).
//	-force                write into a non-empty DIR, replacing files in the way.
//	-max-files N          refuse a tree of more than N files (default 10000).
//	-max-bytes N          refuse a tree of more than N bytes (default 256 MiB).
//	-max-depth N          refuse a path of more than N elements (default 256).
//	-user-token-env NAME  the signed-in user's OAuth token for the URL's host is
//	                      in environment variable NAME; it is tried first.
//	-device-login ID      sign the user in to the URL's GitHub or GitLab host with
//	                      the device flow of OAuth app ID (no secret): it prints
//	                      where to enter a code, then acts as her.
//	-v                    log which credential each call used (never the secret).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/scmkit/scmkit/examples/internal/cli"
	"github.com/scmkit/scmkit/scm"
)

const usage = `fetch-template [flags] -out DIR URL
  URL is a directory at a ref (e.g. https://github.com/acme/templates/tree/main/service)
  or a repository.`

func main() { cli.Main("fetch-template", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := cli.NewFlagSet("fetch-template", usage, stderr)
	var common cli.Common
	common.Register(flags)
	out := flags.String("out", "", "`DIR`ectory to write the tree to (required; must be empty or missing unless -force)")
	force := flags.Bool("force", false, "write into a non-empty -out directory, replacing files in the way")
	maxFiles := flags.Int("max-files", scm.DefaultMaxTreeFiles, "refuse a tree of more than `N` files")
	maxBytes := flags.Int64("max-bytes", scm.DefaultMaxTreeBytes, "refuse a tree of more than `N` bytes in all")
	maxDepth := flags.Int("max-depth", scm.DefaultMaxTreeDepth, "refuse a path of more than `N` elements")
	pos, err := cli.Parse(flags, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		flags.Usage()
		return cli.Usagef("want exactly one URL, got %d arguments", len(pos))
	case *out == "":
		flags.Usage()
		return cli.Usagef("-out is required")
	case *maxFiles <= 0 || *maxBytes <= 0 || *maxDepth <= 0:
		return cli.Usagef("-max-files, -max-bytes and -max-depth must be positive")
	}
	if err := checkDest(*out, *force); err != nil {
		return err
	}

	env, err := common.Open(ctx, stderr, pos[0], nil)
	if err != nil {
		return err
	}
	tree, err := env.Client.ReadTree(ctx, pos[0], &scm.TreeOptions{MaxFiles: *maxFiles, MaxBytes: *maxBytes, MaxDepth: *maxDepth})
	if err != nil {
		return err
	}
	// scm.WriteTree, not os.CopyFS: it never follows a link already in -out.
	if err := scm.WriteTree(ctx, tree, *out, &scm.WriteTreeOptions{Overwrite: *force}); err != nil {
		return fmt.Errorf("writing to %s: %w", *out, err)
	}

	var files int
	var bytes int64
	err = fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := ""
		if info.Mode()&0o111 != 0 {
			mode = "  (executable)"
		}
		fmt.Fprintf(stdout, "%10d  %s%s\n", info.Size(), p, mode)
		files++
		bytes += info.Size()
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %d %s (%d bytes) to %s; %s\n", files, cli.Plural(files, "file", "files"), bytes, *out, env.Requests)
	return nil
}

// checkDest refuses a destination that is a file, or a directory that is
// not empty unless force is set.
func checkDest(dir string, force bool) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.IsDir():
		return &scm.Error{Code: scm.AlreadyExists, Msg: fmt.Sprintf("-out %s exists and is not a directory", dir)}
	case force:
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err == io.EOF {
		return nil
	} else if err != nil {
		return err
	}
	return &scm.Error{Code: scm.AlreadyExists,
		Msg: fmt.Sprintf("-out %s is not empty: choose an empty directory, or pass -force to write into it", dir)}
}
