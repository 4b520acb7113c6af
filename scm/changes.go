package scm

import (
	"io/fs"
	"path"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// ChangesFromFS returns a Change with action (Create, or Update, or
// Upsert) for every regular file of fsys, under dir in the repository
// ("" for its root): what a scaffolder publishes of a rendered template
// (a [Client.ReadTree] snapshot, a fstest.MapFS, os.DirFS of a work
// directory) as one pull request. A file with an executable bit set
// gives an executable Change. Directories give no Change of their own;
// symbolic links are skipped (a pull request commits file contents, and a
// link's target may be outside fsys); any other special file, and a dir
// that is not a valid repository path (fs.ValidPath: no "..", no leading
// "/"), is InvalidArgument. The Changes are in lexical order of path.
func ChangesFromFS(fsys fs.FS, dir string, action ChangeAction) ([]Change, error) {
	const op = "scm.ChangesFromFS"
	dir = strings.Trim(dir, "/")
	if dir == "" {
		dir = "."
	}
	if !fs.ValidPath(dir) {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "dir %q is not a repository path (slash-separated, without . or .. segments)", dir)
	}
	var out []Change
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch t := d.Type(); {
		case t.IsDir(), t&fs.ModeSymlink != 0:
			return nil
		case !t.IsRegular():
			return errcode.Newf(errcode.InvalidArgument, op, "%s is not a regular file", p)
		}
		content, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		exec := false
		if info, err := d.Info(); err == nil {
			exec = info.Mode().Perm()&0o111 != 0
		}
		out = append(out, Change{Path: path.Join(dir, p), Action: action, Content: content, Executable: exec})
		return nil
	})
	if err != nil {
		if _, ok := err.(*errcode.Error); ok {
			return nil, err
		}
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "reading the tree", Err: err}
	}
	return out, nil
}
