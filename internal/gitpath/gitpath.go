// Package gitpath holds git's rules for the names in a tree: the names
// git's fsck refuses, as GitHub applies it to every pushed object
// (receive.fsckObjects). The GitHub driver checks a new repository's files
// with it before any request, and the GitHub fake refuses with it what
// GitHub refuses, so that both agree on one rule.
//
// A tree entry name is refused when it:
//
//   - is empty, ".", or "..", or holds a '/' or a NUL byte;
//   - is ".git" as NTFS or HFS+ would read it (git's hasDotgit): any case
//     (".GIT"), with trailing dots or spaces (".git. "), cut by an NTFS
//     alternate data stream or a backslash (".git:x", ".git\x"), the NTFS
//     short name "git~1", or with the code points HFS+ ignores (".g\u200cit",
//     zero-width and directional marks, U+FEFF);
//   - is ".gitmodules" or ".gitattributes" in any of those forms (including
//     the NTFS short names "gitmod~1" to "gitmod~4", "gi7eba~N",
//     "gitatt~1" to "gitatt~4", "gi7d29~N") and is not a regular file: git
//     reads them as the submodule configuration and the attributes, and
//     refuses a directory, a symbolic link or a submodule there
//     (gitmodulesBlob, gitattributesBlob, and the *Symlink checks; git
//     checks .gitattributes since 2.39).
//
// It does not check the contents of a .gitmodules or .gitattributes file,
// which git's fsck also reads (a .gitmodules URL that looks like an
// option, a .gitattributes line over 2 KiB).
package gitpath

import (
	"strings"
	"unicode/utf8"

	"github.com/scmkit/scmkit/errcode"
)

// CheckName returns nil when git accepts name as the name of one tree
// entry, else an InvalidArgument *errcode.Error saying why. file reports
// whether the entry is a regular file (mode 100644 or 100755), not a
// directory, a symbolic link or a submodule: only a regular file may be
// named .gitmodules or .gitattributes.
func CheckName(name string, file bool) error {
	if why := refusal(name, file); why != "" {
		return errcode.Newf(errcode.InvalidArgument, "", "%q: git refuses %s", name, why)
	}
	return nil
}

// CheckPath returns nil when git accepts p, a slash-separated path to a
// regular file, in a tree: every element passes [CheckName], the last as a
// file and the others as directories. Else it returns an InvalidArgument
// *errcode.Error naming p.
func CheckPath(p string) error {
	elems := strings.Split(p, "/")
	for i, e := range elems {
		if why := refusal(e, i == len(elems)-1); why != "" {
			return errcode.Newf(errcode.InvalidArgument, "", "%q: git refuses %s", p, why)
		}
	}
	return nil
}

// refusal says why git refuses name as a tree entry's name, or "".
func refusal(name string, file bool) string {
	switch {
	case name == "":
		return "an empty name"
	case name == "." || name == "..":
		return "a \".\" or \"..\" name"
	case strings.ContainsAny(name, "/\x00"):
		return "a name with a '/' or a NUL byte"
	case IsDotGit(name):
		return "a name git reads as .git (on NTFS or HFS+)"
	case !file && IsDotGitmodules(name):
		return "a .gitmodules that is not a regular file"
	case !file && IsDotGitattributes(name):
		return "a .gitattributes that is not a regular file"
	}
	return ""
}

// IsDotGit reports whether name is ".git" to NTFS or HFS+ (git's
// is_ntfs_dotgit and is_hfs_dotgit).
func IsDotGit(name string) bool {
	return isHFSDot(name, "git") || isNTFSDotGit(name)
}

// IsDotGitmodules reports whether name is ".gitmodules" to NTFS or HFS+.
func IsDotGitmodules(name string) bool {
	return isHFSDot(name, "gitmodules") || isNTFSDot(name, "gitmodules", "gi7eba")
}

// IsDotGitattributes reports whether name is ".gitattributes" to NTFS or
// HFS+.
func IsDotGitattributes(name string) bool {
	return isHFSDot(name, "gitattributes") || isNTFSDot(name, "gitattributes", "gi7d29")
}

// isNTFSDotGit reports whether name is ".git" or "git~1" in any case,
// then only dots and spaces up to its end, a backslash or a ':'.
func isNTFSDotGit(name string) bool {
	var rest string
	switch {
	case len(name) >= 4 && name[0] == '.' && strings.EqualFold(name[1:4], "git"):
		rest = name[4:]
	case len(name) >= 5 && strings.EqualFold(name[:5], "git~1"):
		rest = name[5:]
	default:
		return false
	}
	return onlyDotsAndSpaces(rest, true)
}

// isNTFSDot reports whether name is "." + needle (any case), or its NTFS
// short name: the needle's first 6 letters and "~1" to "~4", or the
// fallback short name shortPrefix (6 letters cut short by a "~N..." with
// N from 1 to 9 and digits after) — each followed only by dots and spaces
// up to its end or a ':'.
func isNTFSDot(name, needle, shortPrefix string) bool {
	if len(name) >= 1+len(needle) && name[0] == '.' && strings.EqualFold(name[1:1+len(needle)], needle) {
		return onlyDotsAndSpaces(name[1+len(needle):], false)
	}
	if len(name) >= 8 && strings.EqualFold(name[:6], needle[:6]) && name[6] == '~' && name[7] >= '1' && name[7] <= '4' {
		return onlyDotsAndSpaces(name[8:], false)
	}
	// The fallback short name: up to 6 characters of shortPrefix, then
	// '~', a digit 1-9 and digits, 8 characters in all.
	if len(name) < 8 {
		return false
	}
	tilde := false
	for i := 0; i < 8; i++ {
		c := name[i]
		switch {
		case tilde:
			if c < '0' || c > '9' {
				return false
			}
		case c == '~':
			i++
			if i >= 8 || name[i] < '1' || name[i] > '9' {
				return false
			}
			tilde = true
		case i >= 6, c >= 0x80:
			return false
		case lower(c) != shortPrefix[i]:
			return false
		}
	}
	return onlyDotsAndSpaces(name[8:], false)
}

// onlyDotsAndSpaces reports whether s is dots and spaces up to its end,
// a ':' (an NTFS stream) or, when backslash, a '\'.
func onlyDotsAndSpaces(s string, backslash bool) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':', backslash && c == '\\':
			return true
		case c != '.' && c != ' ':
			return false
		}
	}
	return true
}

// isHFSDot reports whether name is "." + needle to HFS+: ASCII letters in
// any case, with the code points HFS+ ignores anywhere, and nothing after
// (or bytes that are not UTF-8, which git takes as the end).
func isHFSDot(name, needle string) bool {
	c, name := nextHFS(name)
	if c != '.' {
		return false
	}
	for i := 0; i < len(needle); i++ {
		c, name = nextHFS(name)
		if c > 0x7f || lower(byte(c)) != needle[i] {
			return false
		}
	}
	c, _ = nextHFS(name)
	return c == 0
}

// nextHFS returns the first code point of s that HFS+ does not ignore and
// what follows it; 0 at the end of s or at bytes that are not UTF-8.
func nextHFS(s string) (rune, string) {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n <= 1 {
			return 0, ""
		}
		s = s[n:]
		if !hfsIgnored(r) {
			return r, s
		}
	}
	return 0, ""
}

// hfsIgnored reports whether HFS+ ignores r in a file name: the zero-width
// (non-)joiners, the directional marks, embeddings and overrides, the
// deprecated format characters U+206A-U+206F, and U+FEFF.
func hfsIgnored(r rune) bool {
	switch {
	case r >= 0x200c && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x206a && r <= 0x206f, r == 0xfeff:
		return true
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
