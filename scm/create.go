package scm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/gitpath"
	"github.com/scmkit/scmkit/scm/driver"
)

// Visibility is who may see a new repository.
type Visibility string

// The visibilities of [RepositorySpec]. Internal (visible to every member
// of the enterprise or instance) exists on GitHub and GitLab only.
const (
	Private  Visibility = "private"
	Internal Visibility = "internal"
	Public   Visibility = "public"
)

// RepositorySpec describes a repository for [Client.CreateRepository].
type RepositorySpec struct {
	// Name is the repository's name (its slug on Bitbucket), checked
	// against the provider's rules before any request.
	Name        string
	Description string
	// Visibility is "" (Private), Private, Internal or Public.
	Visibility Visibility
	// DefaultBranch is the branch of the initial commit; "" means the
	// provider's default (usually "main").
	DefaultBranch string
	// Topics are set where the provider has them (GitHub, GitLab);
	// elsewhere they are InvalidArgument.
	Topics []string
	// CommitMessage is the initial commit's message; "" means "Initial
	// commit".
	CommitMessage string
	// Access lists teams and users given a permission on the repository,
	// applied in order right after the initial commit, before
	// CreateRepository returns: one request per grant (on GitLab one
	// more, the look-up of the group's or user's id, made before the
	// creation so that an unknown one creates nothing). Each grant names
	// exactly one of Team and User, each team or user once; a wrong grant
	// is InvalidArgument before any request.
	Access []Access
}

// Permission is a level of access to a repository, mapped to each
// provider's own levels.
type Permission string

// The permissions of [Access], and what each becomes:
//
//	        GitHub  GitLab          Bitbucket Cloud  Bitbucket Server
//	Read    pull    Reporter (20)   read             REPO_READ
//	Write   push    Developer (30)  write            REPO_WRITE
//	Admin   admin   Maintainer (40) admin            REPO_ADMIN
const (
	Read  Permission = "read"
	Write Permission = "write"
	Admin Permission = "admin"
)

// Access grants a team or a user a [Permission] on a new repository.
//
// Team is a GitHub team's slug (the owner must be an organization), a
// GitLab group's full path, or a Bitbucket group's slug (Cloud) or name
// (Server). User is a GitHub or GitLab login or a Bitbucket Server user
// name; on Bitbucket Cloud it is the account id or the {UUID}, because
// its API takes no nickname. On GitHub a user who is not yet a
// collaborator gets an invitation, which grants the access only once
// accepted.
type Access struct {
	Team       string
	User       string
	Permission Permission
}

// CreatedRepository is the answer of [Client.CreateRepository].
type CreatedRepository struct {
	Repository
	// CommitID is the initial commit, where the provider reports it.
	CommitID string
}

// CreateRepository creates the repository spec.Name under the owner at
// ownerURL (an organization, user, group, workspace or project URL) and
// commits every regular file of files as ONE initial commit on its default
// branch (executable when any execute bit is set).
//
// Before any request it checks spec.Name against the provider's rules and
// files against the client's Limits (MaxTreeFiles, MaxTreeBytes,
// MaxFileBytes) and git's rule for names in a tree (no ".git" element in
// any spelling NTFS or HFS+ reads so, no .gitmodules or .gitattributes
// directory: the rule OpenPullRequest applies): a violation, an empty
// tree, a symlink or other non-regular file is InvalidArgument and nothing
// is created. An existing repository
// is AlreadyExists and nothing is written. When a request fails after the
// repository was created, the error names the repository and what is
// missing (the initial commit, the topics, the default branch).
//
// It is a write: the credential is resolved with Write set, under the
// client's RequireUser and RequireUserForWrites policy. Drivers without
// the [driver.RepositoryCreator] capability answer Unimplemented, as do
// those without [driver.AccessGranter] when spec.Access is not empty
// (before any request). A grant that fails after the creation is an
// error naming the repository and the grants done and missing.
func (c *Client) CreateRepository(ctx context.Context, ownerURL string, spec *RepositorySpec, files fs.FS) (_ *CreatedRepository, err error) {
	const op = "scm.CreateRepository"
	t := c.lookup(ownerURL)
	ctx, done := c.auditStart(ctx, op, t, true)
	defer func() { done(err) }()
	if spec == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "nil RepositorySpec")
	}
	if files == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "nil files")
	}
	in := t.Integration
	if in == nil {
		return nil, c.refuse(op, t)
	}
	fail := func(format string, args ...any) error {
		return &errcode.Error{Code: errcode.InvalidArgument, Op: op, Provider: string(in.Kind), Host: in.Host,
			Msg: fmt.Sprintf(format, args...)}
	}
	if msg := checkRepoName(in.Kind, spec.Name); msg != "" {
		return nil, fail("invalid repository name %q: %s", spec.Name, msg)
	}
	if msg := checkSpec(in.Kind, spec); msg != "" {
		return nil, fail("%s", msg)
	}
	changes, err := c.createTree(ctx, op, files)
	if err != nil {
		if e, ok := err.(*errcode.Error); ok {
			e.Provider, e.Host = string(in.Kind), in.Host
		}
		return nil, err
	}
	cl, err := c.begin(ctx, op, t, true, false)
	if err != nil {
		return nil, err
	}
	if cl.loc.Repo != "" {
		return nil, fail("URL %s names a repository, not an owner", t.redacted())
	}
	rc, ok := cl.d.(driver.RepositoryCreator)
	if !ok {
		return nil, &errcode.Error{Code: errcode.Unimplemented, Op: op, Provider: string(in.Kind), Host: in.Host,
			Msg: "the driver cannot create repositories"}
	}
	if ag, ok := rc.(driver.AccessGranter); len(spec.Access) > 0 && (!ok || !ag.GrantsAccess()) {
		return nil, &errcode.Error{Code: errcode.Unimplemented, Op: op, Provider: string(in.Kind), Host: in.Host,
			Msg: "the driver cannot grant access to the repositories it creates; nothing was created"}
	}
	req := &driver.CreateRepositoryRequest{Owner: cl.loc.Owner, Name: spec.Name, Description: spec.Description,
		Visibility: string(spec.Visibility), DefaultBranch: spec.DefaultBranch, Topics: spec.Topics,
		CommitMessage: spec.CommitMessage, Files: changes}
	for _, a := range spec.Access {
		req.Access = append(req.Access, driver.AccessGrant{Team: a.Team, User: a.User, Permission: string(a.Permission)})
	}
	if req.Visibility == "" {
		req.Visibility = string(Private)
	}
	if req.CommitMessage == "" {
		req.CommitMessage = "Initial commit"
	}
	out, err := rc.CreateRepository(ctx, cl.hc, req)
	if err != nil {
		return nil, c.wrap(ctx, cl, err)
	}
	if out == nil {
		return nil, &errcode.Error{Code: errcode.Unknown, Op: op, Provider: string(in.Kind), Host: in.Host,
			Msg: "driver returned no repository"}
	}
	return &CreatedRepository{Repository: *convRepo(&out.Repository), CommitID: out.CommitID}, nil
}

// checkSpec checks the fields of spec other than the name.
func checkSpec(kind integrations.Kind, spec *RepositorySpec) string {
	switch spec.Visibility {
	case "", Private, Public:
	case Internal:
		if kind != integrations.GitHub && kind != integrations.GitLab {
			return fmt.Sprintf("visibility %q is not supported by %s", spec.Visibility, kind)
		}
	default:
		return fmt.Sprintf("unknown visibility %q", spec.Visibility)
	}
	if spec.DefaultBranch != "" && !validBranchName(spec.DefaultBranch) {
		return fmt.Sprintf("invalid default branch name %q (see git check-ref-format)", spec.DefaultBranch)
	}
	if len(spec.Description) > 2000 {
		return "description longer than 2000 bytes"
	}
	if len(spec.Topics) > 0 && kind != integrations.GitHub && kind != integrations.GitLab {
		return fmt.Sprintf("%s repositories have no topics", kind)
	}
	if len(spec.Topics) > 20 {
		return "more than 20 topics"
	}
	for _, t := range spec.Topics {
		if !validTopic(t) {
			return fmt.Sprintf("invalid topic %q (want lower-case letters, digits and hyphens, starting with a letter or digit, at most 50)", t)
		}
	}
	if len(spec.Access) > maxAccessGrants {
		return fmt.Sprintf("more than %d access grants", maxAccessGrants)
	}
	seen := map[string]bool{}
	for i, a := range spec.Access {
		if msg := checkAccess(a); msg != "" {
			return fmt.Sprintf("access grant %d: %s", i, msg)
		}
		k := "team " + strings.ToLower(a.Team)
		if a.User != "" {
			k = "user " + strings.ToLower(a.User)
		}
		if seen[k] {
			return fmt.Sprintf("access grant %d: %s is granted twice (one grant each)", i, k)
		}
		seen[k] = true
	}
	return ""
}

// maxAccessGrants bounds the requests a spec can cost after the creation.
const maxAccessGrants = 50

// checkAccess returns why a is not a valid grant, or "".
func checkAccess(a Access) string {
	switch a.Permission {
	case Read, Write, Admin:
	default:
		return fmt.Sprintf("unknown permission %q (want read, write or admin)", a.Permission)
	}
	name := a.Team
	switch {
	case a.Team == "" && a.User == "":
		return "neither a team nor a user"
	case a.Team != "" && a.User != "":
		return "both a team and a user (one grant each)"
	case a.User != "":
		name = a.User
	}
	if len(name) > 255 {
		return "name longer than 255 bytes"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f || c == '/' && a.User != "" || c == '?' || c == '#' || c == '%' {
			return fmt.Sprintf("name %q holds the character %q", name, rune(c))
		}
	}
	return ""
}

// validTopic is GitHub's rule for topics, which GitLab accepts too.
func validTopic(t string) bool {
	if t == "" || len(t) > 50 || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkRepoName returns why name is not a valid repository name on a
// provider of kind, or "".
//
//   - every provider: not ending in ".git".
//   - GitHub: ASCII letters, digits, '.', '-', '_'; at most 100; not "."
//     or ".."; GitHub silently replaces other characters, so they are
//     refused rather than renamed.
//   - GitLab: letters, digits, '.', '-', '_'; starts with a letter, digit
//     or '_'; does not end in ".atom"; no consecutive special
//     characters; at most 255.
//   - Bitbucket Cloud: lower-case letters, digits, '.', '-', '_' (the slug
//     the name becomes); at most 62.
//   - Bitbucket Server: starts with a letter or digit; letters, digits,
//     '.', '-', '_'; at most 128.
func checkRepoName(kind integrations.Kind, name string) string {
	if name == "" {
		return "empty"
	}
	max := 100
	switch kind {
	case integrations.GitLab:
		max = 255
	case integrations.BitbucketCloud:
		max = 62
	case integrations.BitbucketServer:
		max = 128
	}
	if len(name) > max {
		return fmt.Sprintf("longer than %d bytes", max)
	}
	if name == "." || name == ".." {
		return "a dot path"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		case c >= 'A' && c <= 'Z':
			if kind == integrations.BitbucketCloud {
				return "upper-case letters (Bitbucket Cloud slugs are lower-case)"
			}
		default:
			return fmt.Sprintf("character %q (want ASCII letters, digits, '.', '-' or '_')", rune(c))
		}
	}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".git") {
		return "ends in .git (clone URLs would be ambiguous)"
	}
	switch kind {
	case integrations.GitLab:
		if c := name[0]; c == '.' || c == '-' {
			return "starts with '.' or '-'"
		}
		if strings.HasSuffix(lower, ".atom") {
			return "ends in .atom"
		}
		for i := 1; i < len(name); i++ {
			if isNameSpecial(name[i]) && isNameSpecial(name[i-1]) {
				return "consecutive special characters"
			}
		}
		if c := name[len(name)-1]; c == '.' || c == '-' {
			return "ends with '.' or '-'"
		}
	case integrations.BitbucketServer, integrations.BitbucketCloud:
		if c := name[0]; c == '.' || c == '-' || c == '_' {
			return "does not start with a letter or digit"
		}
	}
	return ""
}

func isNameSpecial(c byte) bool { return c == '.' || c == '-' || c == '_' }

// createTree reads every regular file of fsys into changes, checking the
// client's limits as it goes, before any request.
func (c *Client) createTree(ctx context.Context, op string, fsys fs.FS) ([]driver.Change, error) {
	lim := c.s.limits
	var changes []driver.Change
	var total int64
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return errcode.Newf(errcode.InvalidArgument, op, "reading the tree: %v", err)
		}
		if err := errcode.FromContext(ctx, op); err != nil {
			return err
		}
		if d.IsDir() {
			if len(p) > maxTreePathBytes {
				return errcode.Newf(errcode.InvalidArgument, op, "path %.64q... longer than %d bytes", p, maxTreePathBytes)
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return errcode.Newf(errcode.InvalidArgument, op, "%q is not a regular file (symlinks and devices are refused)", p)
		}
		if len(p) > maxTreePathBytes {
			return errcode.Newf(errcode.InvalidArgument, op, "path %.64q... longer than %d bytes", p, maxTreePathBytes)
		}
		// A name git refuses in a tree (".git" in any spelling NTFS or
		// HFS+ reads so, a .gitmodules or .gitattributes directory): the
		// rule OpenPullRequest applies, here for every host too.
		var ce *errcode.Error
		if err := gitpath.CheckPath(p); errors.As(err, &ce) {
			return errcode.Newf(errcode.InvalidArgument, op, "%s", ce.Msg)
		}
		if len(changes) >= lim.MaxTreeFiles {
			return errcode.Newf(errcode.InvalidArgument, op, "tree has more than %d files (Limits.MaxTreeFiles)", lim.MaxTreeFiles)
		}
		info, err := d.Info()
		if err != nil {
			return errcode.Newf(errcode.InvalidArgument, op, "reading %q: %v", p, err)
		}
		if info.Size() > lim.MaxFileBytes {
			return errcode.Newf(errcode.InvalidArgument, op, "%q is larger than %d bytes (Limits.MaxFileBytes)", p, lim.MaxFileBytes)
		}
		if total+info.Size() > lim.MaxTreeBytes {
			return errcode.Newf(errcode.InvalidArgument, op, "tree is larger than %d bytes (Limits.MaxTreeBytes)", lim.MaxTreeBytes)
		}
		b, err := readCapped(fsys, p, lim.MaxFileBytes)
		if err != nil {
			return errcode.Newf(errcode.InvalidArgument, op, "reading %q: %v", p, err)
		}
		total += int64(len(b))
		if total > lim.MaxTreeBytes {
			return errcode.Newf(errcode.InvalidArgument, op, "tree is larger than %d bytes (Limits.MaxTreeBytes)", lim.MaxTreeBytes)
		}
		changes = append(changes, driver.Change{Path: p, Action: driver.Create, Content: b,
			Executable: info.Mode().Perm()&0o111 != 0})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return nil, errcode.New(errcode.InvalidArgument, op, "the tree holds no file (an initial commit needs one)")
	}
	return changes, nil
}

// readCapped reads the file p of fsys, failing when it holds more than
// max bytes (its size may change between Stat and Read).
func readCapped(fsys fs.FS, p string, max int64) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return b, nil
}
