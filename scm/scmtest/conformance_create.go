package scmtest

import (
	"bytes"
	"fmt"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/scm"
)

// The repositories that the CreateRepository subtests create under the
// harness's owner (which holds nothing but [World]).
const (
	createdRepo = "scmtest-created"
	grantedRepo = "scmtest-granted"
)

// AccessHarness is implemented by harnesses whose fake knows a team (a
// group on GitLab and Bitbucket) that may be granted access to a
// repository of the world's owner, and records the grants. The
// CreateRepository/Access subtest needs it; it is skipped for harnesses
// without it.
type AccessHarness interface {
	// AccessTeam returns such a team, as [scm.Access] names it.
	AccessTeam() string
	// TeamPermission returns the permission team was granted on the
	// owner's repository repo through the provider's API, mapped back to
	// [scm.Permission], or "" when none.
	TeamPermission(repo, team string) scm.Permission
}

// createFiles is the tree of a created repository: text, binary, nested
// and (unless the harness has NoExecutable) executable files.
func createFiles(caps Capabilities) fstest.MapFS {
	return fstest.MapFS{
		"README.md":                         {Data: []byte("# created\n"), Mode: 0o644},
		"catalog-info.yaml":                 {Data: []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\n"), Mode: 0o644},
		"templates/service/skeleton/app.go": {Data: []byte("package main\n\nfunc main() {}\n"), Mode: 0o644},
		"assets/logo.bin":                   {Data: binaryContent, Mode: 0o644},
		"bin/run.sh":                        {Data: []byte("#!/bin/sh\necho run\n"), Mode: fileMode(caps.NoExecutable == "")},
	}
}

// testCreateRepository runs the CreateRepository subtests that
// RunConformanceTests documents.
func testCreateRepository(t *testing.T, h *env) {
	c := h.good
	files := createFiles(h.Capabilities)
	// refused fails unless CreateRepository(spec, fsys) is InvalidArgument
	// without a request.
	refused := func(t *testing.T, what string, spec *scm.RepositorySpec, fsys fs.FS) {
		t.Helper()
		wantCodeFree(t, h, "CreateRepository("+what+")", scm.InvalidArgument, func() error {
			_, err := c.CreateRepository(ctx(t), h.OwnerURL(), spec, fsys)
			return err
		})
	}
	t.Run("BadName", func(t *testing.T) {
		for _, name := range []string{"", "bad name", "bad/name", "..", "naïve", "x\x00y", string(bytes.Repeat([]byte("a"), 300))} {
			refused(t, fmt.Sprintf("name %.20q", name), &scm.RepositorySpec{Name: name}, files)
		}
	})
	t.Run("TreeOverLimits", func(t *testing.T) {
		big := fstest.MapFS{}
		for i := range scm.DefaultMaxTreeFiles + 1 {
			big[fmt.Sprintf("d%d/f%d.txt", i%100, i)] = &fstest.MapFile{Data: []byte("x"), Mode: 0o644}
		}
		link := createFiles(h.Capabilities)
		link["link"] = &fstest.MapFile{Data: []byte("README.md"), Mode: fs.ModeSymlink | 0o777}
		trees := map[string]fs.FS{"too many files": big, "symlink": link, "empty": fstest.MapFS{}}
		for _, p := range []string{".GIT/config", "sub/.git/hooks/post-checkout", "git~1/config", ".gitmodules/x"} {
			dotgit := createFiles(h.Capabilities)
			dotgit[p] = &fstest.MapFile{Data: []byte("[core]\n\tfsmonitor = x\n"), Mode: 0o644}
			trees["a path git refuses: "+p] = dotgit
		}
		for name, fsys := range trees {
			refused(t, name, &scm.RepositorySpec{Name: createdRepo}, fsys)
		}
		_, err := c.ReadFile(ctx(t), h.FileURL(createdRepo, "", "README.md"), nil)
		wantCode(t, h, "ReadFile in the repository refused for its tree", err, scm.NotFound)
	})
	t.Run("Existing", func(t *testing.T) {
		_, err := c.CreateRepository(ctx(t), h.OwnerURL(), &scm.RepositorySpec{Name: BasicRepo}, fstest.MapFS{
			"README.md":     {Data: []byte("overwritten\n"), Mode: 0o644},
			"scmtest/x.txt": {Data: []byte("x\n"), Mode: 0o644},
		})
		wantCode(t, h, "CreateRepository of an existing repository", err, scm.AlreadyExists)
		f := mustRead(t, c, h.FileURL(BasicRepo, "", "README.md"))
		wantBytes(t, "README.md after CreateRepository of the existing repository", f.Content, Basic().File("README.md").Content)
		_, err = c.ReadFile(ctx(t), h.FileURL(BasicRepo, "", "scmtest/x.txt"), nil)
		wantCode(t, h, "ReadFile of a file of the refused tree", err, scm.NotFound)
	})
	t.Run("AccessInvalid", func(t *testing.T) {
		for _, a := range []scm.Access{{Team: "platform", Permission: "owner"}, {Team: "platform"},
			{Permission: scm.Read}, {Team: "platform", User: "alice", Permission: scm.Write},
			{Team: "Platform", Permission: scm.Write}} {
			refused(t, fmt.Sprintf("access %+v", a), &scm.RepositorySpec{Name: createdRepo,
				Access: []scm.Access{{Team: "platform", Permission: scm.Read}, a}}, files)
		}
		_, err := c.ReadFile(ctx(t), h.FileURL(createdRepo, "", "README.md"), nil)
		wantCode(t, h, "ReadFile in the repository refused for its grants", err, scm.NotFound)
	})
	t.Run("Access", func(t *testing.T) {
		ah, ok := h.Harness.(AccessHarness)
		if !ok {
			t.Skip("the harness does not implement scmtest.AccessHarness (no team to grant access to)")
		}
		team := ah.AccessTeam()
		r, err := c.CreateRepository(ctx(t), h.OwnerURL(), &scm.RepositorySpec{Name: grantedRepo,
			Access: []scm.Access{{Team: team, Permission: scm.Write}}}, files)
		if err != nil {
			t.Fatalf("CreateRepository granting %s write: %v", team, err)
		}
		if got := ah.TeamPermission(r.Name, team); got != scm.Write {
			t.Errorf("permission of %s on %s = %q; want %q", team, r.Name, got, scm.Write)
		}
		mustRead(t, c, h.FileURL(grantedRepo, "", "README.md"))
	})
	t.Run("UserPolicy", func(t *testing.T) {
		if r := h.Capabilities.NoHTTP; r != "" {
			t.Skipf("no resolver: %s", r)
		}
		v := c.ForUser(nil, &scm.UserOptions{RequireUserForWrites: true})
		_, err := v.CreateRepository(ctx(t), h.OwnerURL(), &scm.RepositorySpec{Name: createdRepo}, files)
		if err == nil {
			t.Fatalf("CreateRepository with RequireUserForWrites and no user credential succeeded")
		}
		noSecret(t, h, "CreateRepository (user policy)", err)
		_, err = c.ReadFile(ctx(t), h.FileURL(createdRepo, "", "README.md"), nil)
		wantCode(t, h, "ReadFile after the refused CreateRepository", err, scm.NotFound)
	})
	t.Run("Created", func(t *testing.T) {
		spec := &scm.RepositorySpec{Name: createdRepo, Description: "Made by the scmkit conformance suite.",
			DefaultBranch: "trunk", CommitMessage: "scmtest: initial commit"}
		r, err := c.CreateRepository(ctx(t), h.OwnerURL(), spec, files)
		if err != nil {
			t.Fatalf("CreateRepository: %v", err)
		}
		if r.Name != createdRepo || r.DefaultBranch != "trunk" || r.WebURL == "" || !r.Private {
			t.Errorf("CreateRepository = %+v; want %s, default branch trunk, a web URL, private", r, createdRepo)
		}
		for p, f := range files {
			got := mustRead(t, c, h.FileURL(createdRepo, "trunk", p))
			wantBytes(t, "ReadFile("+p+") of the created repository", got.Content, f.Data)
		}
		checkTree(t, "the created repository", mustReadTree(t, c, h.TreeURL(createdRepo, "trunk", ""), nil), files)
		_, err = c.CreateRepository(ctx(t), h.OwnerURL(), spec, files)
		wantCode(t, h, "CreateRepository again", err, scm.AlreadyExists)
	})
}
