package integrations

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

func TestResolveURL(t *testing.T) {
	const (
		ghBase  = "https://github.com/acme/api/blob/main/docs/index.md"
		glBase  = "https://gitlab.com/acme/platform/api/-/blob/main/docs/index.md"
		subBase = "https://git.example.com/gitlab/acme/api/-/blob/main/docs/index.md"
		bcBase  = "https://bitbucket.org/ws/repo/src/main/docs/index.md"
		bsBase  = "https://bitbucket.example.com:7990/projects/P/repos/r/browse/docs/index.md?at=refs%2Fheads%2Fmain"
		ctxBase = "https://bb.example.com/bitbucket/projects/P/repos/r/browse/docs/index.md"
	)
	tests := []struct {
		name, base, rel string
		line            int
		want            string
	}{
		{"github sibling", ghBase, "other.md", 0, "https://github.com/acme/api/tree/main/docs/other.md"},
		{"github dot", ghBase, "./img/a.png", 0, "https://github.com/acme/api/tree/main/docs/img/a.png"},
		{"github parent", ghBase, "../README.md", 0, "https://github.com/acme/api/tree/main/README.md"},
		{"github repo-root relative", ghBase, "/catalog-info.yaml", 0, "https://github.com/acme/api/tree/main/catalog-info.yaml"},
		{"github line", ghBase, "other.md", 5, "https://github.com/acme/api/tree/main/docs/other.md#L5"},
		{"github directory", ghBase, "sub/", 0, "https://github.com/acme/api/tree/main/docs/sub/"},
		{"github base directory", "https://github.com/acme/api/tree/main/docs/", "a.md", 0, "https://github.com/acme/api/tree/main/docs/a.md"},
		{"github base query copied, rel query dropped", ghBase + "?plain=1", "a.md?x=1", 0, "https://github.com/acme/api/tree/main/docs/a.md?plain=1"},
		{"github fragment kept", ghBase, "a.md#usage", 0, "https://github.com/acme/api/tree/main/docs/a.md#usage"},
		{"github fragment only", ghBase, "#usage", 0, "https://github.com/acme/api/tree/main/docs/index.md#usage"},
		{"github line replaces fragment", ghBase, "a.md#usage", 3, "https://github.com/acme/api/tree/main/docs/a.md#L3"},
		{"github absolute verbatim", ghBase, "https://example.com/x?y#z", 4, "https://example.com/x?y#z"},
		{"github absolute github verbatim", ghBase, "https://github.com/o/r/blob/main/x", 0, "https://github.com/o/r/blob/main/x"},
		{"github slash branch root", "https://github.com/acme/api/blob/feature/x/docs/a.md?at=feature%2Fx", "/b.md", 0, "https://github.com/acme/api/tree/feature/x/b.md?at=feature%2Fx"},
		{"github scheme-relative stays on host", ghBase, "//evil.example/x", 0, "https://github.com/acme/api/tree/main//evil.example/x"},
		{"github repo root base", "https://github.com/acme/api", "/docs/a.md", 0, "https://github.com/acme/api/docs/a.md"},
		{"github spaces", ghBase, "my file.md", 0, "https://github.com/acme/api/tree/main/docs/my%20file.md"},
		{"github escapes", ghBase, "/a%20b.md", 0, "https://github.com/acme/api/tree/main/a%20b.md"},
		{"gitlab sibling", glBase, "a.md", 0, "https://gitlab.com/acme/platform/api/-/blob/main/docs/a.md"},
		{"gitlab root", glBase, "/a.md", 2, "https://gitlab.com/acme/platform/api/-/blob/main/a.md#L2"},
		{"gitlab sub-path root", subBase, "/x/y.md", 0, "https://git.example.com/gitlab/acme/api/-/blob/main/x/y.md"},
		{"gitlab sub-path parent", subBase, "../y.md", 0, "https://git.example.com/gitlab/acme/api/-/blob/main/y.md"},
		{"bitbucket cloud line", bcBase, "a.md", 7, "https://bitbucket.org/ws/repo/src/main/docs/a.md#lines-7"},
		{"bitbucket cloud root", bcBase, "/a.md", 0, "https://bitbucket.org/ws/repo/src/main/a.md"},
		{"bitbucket server line and query", bsBase, "a.md", 9, "https://bitbucket.example.com:7990/projects/P/repos/r/browse/docs/a.md?at=refs%2Fheads%2Fmain#9"},
		{"bitbucket server root", bsBase, "/a.md", 0, "https://bitbucket.example.com:7990/projects/P/repos/r/browse/a.md?at=refs%2Fheads%2Fmain"},
		{"bitbucket server context path root", ctxBase, "/c.md", 0, "https://bb.example.com/bitbucket/projects/P/repos/r/browse/c.md"},
		{"no integration", "https://example.com/docs/a/index.html", "../b.html", 2, "https://example.com/docs/b.html#L2"},
		{"no integration root", "https://example.com/docs/a/index.html?v=1", "/x", 0, "https://example.com/x?v=1"},
		{"no integration scheme-relative stays on host", "https://example.com/docs/", "//evil.example/x", 0, "https://example.com//evil.example/x"},
	}
	r := testRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.ResolveURL(tt.base, tt.rel, tt.line)
			if err != nil {
				t.Fatalf("ResolveURL(%q, %q, %d) = %v", tt.base, tt.rel, tt.line, err)
			}
			if got != tt.want {
				t.Errorf("ResolveURL(%q, %q, %d) = %q; want %q", tt.base, tt.rel, tt.line, got, tt.want)
			}
		})
	}
}

func TestResolveURLErrors(t *testing.T) {
	tests := []struct{ name, base, rel, wantErr string }{
		{"relative base", "/docs/a.md", "b.md", "not an absolute URL"},
		{"bad base", "https://exa mple.com/", "b.md", "not an absolute URL"},
		{"bad rel", "https://github.com/acme/api/blob/main/a.md", "%zz", "not a valid URL reference"},
		{"root rel on unparsable base", "https://github.com/", "/a.md", "names no owner"},
		{"root rel on traversal base", "https://github.com/acme/api/blob/main/%2e%2e/a.md", "/a.md", "traversal"},
		{"root rel with bad escape", "https://github.com/acme/api/blob/main/a.md", "/%zz", "not a valid path"},
	}
	r := testRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.ResolveURL(tt.base, tt.rel, 0)
			if err == nil {
				t.Fatalf("ResolveURL(%q, %q) = %q, nil; want error", tt.base, tt.rel, got)
			}
			if c := errcode.CodeOf(err); c != errcode.InvalidArgument {
				t.Errorf("CodeOf(err) = %v; want InvalidArgument", c)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q; want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestEditURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"github blob", "https://github.com/acme/api/blob/main/a.md", "https://github.com/acme/api/edit/main/a.md"},
		{"github tree", "https://github.com/acme/api/tree/main/docs/a.md", "https://github.com/acme/api/edit/main/docs/a.md"},
		{"github edit stays", "https://github.com/acme/api/edit/main/a.md", "https://github.com/acme/api/edit/main/a.md"},
		{"github keeps query", "https://github.com/acme/api/blob/feature/x/a.md?at=feature%2Fx", "https://github.com/acme/api/edit/feature/x/a.md?at=feature%2Fx"},
		{"github GHE port", "https://ghe.example.com:8443/acme/api/blob/main/a.md", "https://ghe.example.com:8443/acme/api/edit/main/a.md"},
		{"github repo root unchanged", "https://github.com/acme/api", "https://github.com/acme/api"},
		{"github raw unchanged", "https://github.com/acme/api/raw/main/a.md", "https://github.com/acme/api/raw/main/a.md"},
		{"gitlab blob", "https://gitlab.com/acme/platform/api/-/blob/main/a.md", "https://gitlab.com/acme/platform/api/-/edit/main/a.md"},
		{"gitlab tree", "https://gitlab.com/acme/api/-/tree/main/a.md", "https://gitlab.com/acme/api/-/edit/main/a.md"},
		{"gitlab sub-path", "https://git.example.com/gitlab/acme/api/-/blob/main/a.md", "https://git.example.com/gitlab/acme/api/-/edit/main/a.md"},
		{"gitlab legacy unchanged", "https://gitlab.com/acme/api/blob/main/a.md", "https://gitlab.com/acme/api/blob/main/a.md"},
		{"bitbucket cloud", "https://bitbucket.org/ws/repo/src/main/a.md", "https://bitbucket.org/ws/repo/src/main/a.md?mode=edit&at=main"},
		{"bitbucket cloud existing at", "https://bitbucket.org/ws/repo/src/main/a.md?at=main", "https://bitbucket.org/ws/repo/src/main/a.md?at=main&mode=edit"},
		{"bitbucket cloud other params kept", "https://bitbucket.org/ws/repo/src/main/a.md?x=1&mode=view", "https://bitbucket.org/ws/repo/src/main/a.md?x=1&mode=edit&at=main"},
		{"bitbucket cloud slash branch", "https://bitbucket.org/ws/repo/src/feature/x/a.md?at=feature%2Fx", "https://bitbucket.org/ws/repo/src/feature/x/a.md?at=feature%2Fx&mode=edit"},
		{"bitbucket cloud repo root", "https://bitbucket.org/ws/repo", "https://bitbucket.org/ws/repo?mode=edit"},
		{"bitbucket server strips query", "https://bitbucket.example.com:7990/projects/P/repos/r/browse/a.md?at=main", "https://bitbucket.example.com:7990/projects/P/repos/r/browse/a.md"},
		{"bitbucket server strips query and fragment", "https://bitbucket.example.com:7990/projects/P/repos/r/browse/a.md?at=main#12", "https://bitbucket.example.com:7990/projects/P/repos/r/browse/a.md"},
		{"bitbucket server no query", "https://bitbucket.example.com:7990/projects/P/repos/r/browse/a.md#12", "https://bitbucket.example.com:7990/projects/P/repos/r/browse/a.md#12"},
		{"no integration", "https://example.com/a/blob/b?x", "https://example.com/a/blob/b?x"},
		{"relative", "/acme/api/blob/main/a.md", "/acme/api/blob/main/a.md"},
	}
	r := testRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.EditURL(tt.in)
			if err != nil {
				t.Fatalf("EditURL(%q) = %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("EditURL(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"https://exa mple.com/x", "https://bitbucket.org/ws/repo/src/main/%2e%2e/x"} {
		if got, err := r.EditURL(bad); err == nil || errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("EditURL(%q) = %q, %v; want an InvalidArgument error", bad, got, err)
		}
	}
}
