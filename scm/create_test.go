package scm_test

import (
	"testing"
	"testing/fstest"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/memscm"
)

func createFS() fstest.MapFS {
	return fstest.MapFS{
		"README.md":  {Data: []byte("# new\n"), Mode: 0o644},
		"bin/run.sh": {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
		"a/b/c.yaml": {Data: []byte("c: 1\n"), Mode: 0o644},
	}
}

func TestCreateRepository(t *testing.T) {
	w := memscm.New()
	res := &recordingResolver{cred: &credentials.Credential{Kind: credentials.KindToken, Token: "t"}}
	c := newClient(t, w.Opener(nil), res, nil)
	r, err := c.CreateRepository(t.Context(), "https://github.com/acme", &scm.RepositorySpec{Name: "new",
		Visibility: scm.Public, DefaultBranch: "trunk"}, createFS())
	if err != nil {
		t.Fatal(err)
	}
	if r.Owner != "acme" || r.Name != "new" || r.DefaultBranch != "trunk" || r.Private || r.CommitID == "" {
		t.Errorf("CreateRepository = %+v; want acme/new on trunk, public, with a commit id", r)
	}
	for p, f := range createFS() {
		got, exec, ok := w.File("acme", "new", "trunk", p)
		if !ok || string(got) != string(f.Data) || exec != (f.Mode&0o111 != 0) {
			t.Errorf("%s = %q exec %v ok %v; want %q exec %v", p, got, exec, ok, f.Data, f.Mode&0o111 != 0)
		}
	}
	reqs := res.requests()
	if len(reqs) != 1 || !reqs[0].Write || reqs[0].Owner != "acme" || reqs[0].Repo != "" {
		t.Errorf("resolver requests = %+v; want one write for owner acme", reqs)
	}

	// The signed-in user's view: the write asks for the user's credential.
	uc := c.ForUser(nil, &scm.UserOptions{RequireUserForWrites: true})
	if _, err := uc.CreateRepository(t.Context(), "https://github.com/acme", &scm.RepositorySpec{Name: "mine"}, createFS()); err != nil {
		t.Fatal(err)
	}
	reqs = res.requests()
	if last := reqs[len(reqs)-1]; last.Policy&credentials.RequireUser == 0 || !last.Write {
		t.Errorf("resolver request of the user's view = %+v; want Write and RequireUser", last)
	}
}

func TestCreateRepositoryRefused(t *testing.T) {
	big := createFS()
	big["big.bin"] = &fstest.MapFile{Data: make([]byte, 2000), Mode: 0o644}
	for _, tc := range []struct {
		name   string
		limits scm.Limits
		url    string
		spec   *scm.RepositorySpec
		fsys   fstest.MapFS
		want   scm.ErrorCode
	}{
		{"too many files", scm.Limits{MaxTreeFiles: 2}, "https://github.com/acme", &scm.RepositorySpec{Name: "x"}, createFS(), scm.InvalidArgument},
		{"tree too large", scm.Limits{MaxTreeBytes: 1000}, "https://github.com/acme", &scm.RepositorySpec{Name: "x"}, big, scm.InvalidArgument},
		{"file too large", scm.Limits{MaxFileBytes: 1000}, "https://github.com/acme", &scm.RepositorySpec{Name: "x"}, big, scm.InvalidArgument},
		{"a repository URL", scm.Limits{}, "https://github.com/acme/basic", &scm.RepositorySpec{Name: "x"}, createFS(), scm.InvalidArgument},
		{"nil spec", scm.Limits{}, "https://github.com/acme", nil, createFS(), scm.InvalidArgument},
		{"bad name", scm.Limits{}, "https://github.com/acme", &scm.RepositorySpec{Name: "a b"}, createFS(), scm.InvalidArgument},
		{"unknown host", scm.Limits{}, "https://elsewhere.example/acme", &scm.RepositorySpec{Name: "x"}, createFS(), scm.PermissionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := memscm.New()
			c := newClient(t, w.Opener(nil), nil, &scm.Options{Limits: tc.limits})
			_, err := c.CreateRepository(t.Context(), tc.url, tc.spec, tc.fsys)
			if scm.Code(err) != tc.want {
				t.Errorf("CreateRepository = %v; want %v", err, tc.want)
			}
			if n := w.Requests(); n != 0 {
				t.Errorf("driver calls = %d; want 0", n)
			}
		})
	}
}

func TestCreateRepositoryUnimplemented(t *testing.T) {
	c := newClient(t, (&fakeDriver{}).opener(), nil, nil)
	_, err := c.CreateRepository(t.Context(), "https://github.com/acme", &scm.RepositorySpec{Name: "x"}, createFS())
	if scm.Code(err) != scm.Unimplemented {
		t.Errorf("CreateRepository with a driver that cannot = %v; want Unimplemented", err)
	}
}
