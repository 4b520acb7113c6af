package scm

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/gitpath"
)

// validBranchName reports whether name is a valid branch name by the basic
// rules of git check-ref-format --branch: no empty name or component, no
// component starting with "." or ending with ".lock", no "..", no "@{", not
// "@" or "HEAD", no ASCII control character, space, ~ ^ : ? * [ or \, no
// leading "-", no leading, trailing or doubled "/", no trailing ".".
//
// It also refuses a name starting with "refs/", which git accepts (as the
// branch refs/heads/refs/...): "refs/heads/main" is the full name of the
// branch main, and the vendors' APIs that take a ref (GitHub's
// qualifiedName, Bitbucket Server's branch and at parameters) may read it
// so, writing on main; GitLab refuses refs/heads/, refs/tags/ and
// refs/remotes/ names itself. No scaffolder needs such a branch.
func validBranchName(name string) bool {
	if name == "" || name == "@" || name == "HEAD" || strings.HasPrefix(name, "-") || strings.HasSuffix(name, ".") ||
		strings.HasPrefix(name, "refs/") {
		return false
	}
	if strings.Contains(name, "..") || strings.Contains(name, "@{") || strings.Contains(name, "//") {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return false
		}
	}
	for _, comp := range strings.Split(name, "/") {
		if comp == "" || strings.HasPrefix(comp, ".") || strings.HasSuffix(comp, ".lock") {
			return false
		}
	}
	return true
}

// validatePullRequest checks a spec before any request is made.
func validatePullRequest(op string, s *PullRequestSpec) error {
	if s == nil {
		return errcode.New(errcode.InvalidArgument, op, "nil PullRequestSpec")
	}
	if strings.TrimSpace(s.Title) == "" {
		return errcode.New(errcode.InvalidArgument, op, "pull request title is empty")
	}
	if !validBranchName(s.Branch) {
		return errcode.Newf(errcode.InvalidArgument, op, "invalid branch name %q (see git check-ref-format)", s.Branch)
	}
	if s.Base != "" && !validBranchName(s.Base) {
		return errcode.Newf(errcode.InvalidArgument, op, "invalid base branch name %q (see git check-ref-format)", s.Base)
	}
	if s.Base != "" && s.Base == s.Branch {
		return errcode.Newf(errcode.InvalidArgument, op, "branch %q is the base branch", s.Branch)
	}
	if len(s.Changes) == 0 {
		return errcode.New(errcode.InvalidArgument, op, "no changes")
	}
	seen := make(map[string]bool, len(s.Changes))
	for i, ch := range s.Changes {
		if !fs.ValidPath(ch.Path) || ch.Path == "." {
			return errcode.Newf(errcode.InvalidArgument, op, "changes[%d]: invalid path %q (want a slash-separated relative path without \"..\" or a leading \"/\")", i, ch.Path)
		}
		if ch.Action < Upsert || ch.Action > Delete {
			return errcode.Newf(errcode.InvalidArgument, op, "changes[%d]: unknown action %d", i, int(ch.Action))
		}
		if strings.ContainsRune(ch.Path, 0) {
			return errcode.Newf(errcode.InvalidArgument, op, "changes[%d]: path %q holds a NUL byte", i, ch.Path)
		}
		if ch.Action != Delete {
			// A name git refuses in a tree (".git" in any spelling NTFS
			// or HFS+ reads so): refused here the same way on every host.
			// A Delete may still remove one.
			var ce *errcode.Error
			if err := gitpath.CheckPath(ch.Path); errors.As(err, &ce) {
				return errcode.Newf(errcode.InvalidArgument, op, "changes[%d]: %s", i, ce.Msg)
			}
		}
		if seen[ch.Path] {
			return errcode.Newf(errcode.InvalidArgument, op, "changes[%d]: path %q appears more than once", i, ch.Path)
		}
		seen[ch.Path] = true
	}
	// A file and a directory of the same name cannot both be written.
	for p := range seen {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if seen[d] {
				return errcode.Newf(errcode.InvalidArgument, op, "path %q is both a file and a directory of %q", d, p)
			}
		}
	}
	return nil
}

// hasGlob reports whether s holds a glob metacharacter.
func hasGlob(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// maxGlobStars bounds the "**" segments of a pattern.
const maxGlobStars = 4

// checkGlob validates a pattern: every segment a valid path.Match pattern,
// "**" only as a whole segment, at most maxGlobStars of them.
func checkGlob(pattern string) bool {
	if pattern == "" || !fs.ValidPath(strings.NewReplacer("*", "x", "?", "x", "[", "x", "]", "x", `\`, "x").Replace(pattern)) {
		return false
	}
	stars := 0
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "**" {
			if stars++; stars > maxGlobStars {
				return false
			}
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return false
		}
	}
	return true
}

// matchGlob reports whether name matches pattern: path.Match per segment,
// where a "**" segment matches zero or more whole segments. Both are
// slash-separated; pattern must have passed checkGlob.
func matchGlob(pattern, name string) bool {
	return matchSegs(strings.Split(pattern, "/"), strings.Split(name, "/"), path.Match)
}

// matchSegs reports whether the pattern segments pat match the name
// segments name, comparing segments with segMatch (path.Match), by
// dynamic programming from the ends: at most one comparison per (pattern
// segment, name segment) pair, so the cost is linear in each length
// whatever the number of "**" (a backtracking match costs the depth to
// the power of the number of "**").
func matchSegs(pat, name []string, segMatch func(pattern, name string) (bool, error)) bool {
	n := len(name)
	// next[j]: pat[i+1:] matches name[j:]; cur[j]: pat[i:] matches name[j:].
	next, cur := make([]bool, n+1), make([]bool, n+1)
	next[n] = true // the empty pattern matches the empty name only
	for i := len(pat) - 1; i >= 0; i-- {
		if pat[i] == "**" {
			// Zero segments (next[j]) or one more (cur[j+1]).
			cur[n] = next[n]
			for j := n - 1; j >= 0; j-- {
				cur[j] = next[j] || cur[j+1]
			}
		} else {
			cur[n] = false
			for j := n - 1; j >= 0; j-- {
				cur[j] = false
				if next[j+1] {
					cur[j], _ = segMatch(pat[i], name[j])
				}
			}
		}
		next, cur = cur, next
	}
	return next[0]
}

// globPrefix returns the directory to list for pattern: its leading
// segments up to the first one holding a glob character, excluding the
// last segment ("" for the root).
func globPrefix(pattern string) string {
	segs := strings.Split(pattern, "/")
	var dir []string
	for _, s := range segs[:len(segs)-1] {
		if hasGlob(s) {
			break
		}
		dir = append(dir, s)
	}
	return strings.Join(dir, "/")
}
