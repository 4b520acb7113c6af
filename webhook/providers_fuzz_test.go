package webhook

import (
	"net/http"
	"os"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// FuzzParseEvent: a signed event body of any of the four providers
// (GitHub, GitLab, Bitbucket Cloud, Bitbucket Server) says which files
// changed; the repository names and paths in it come from whoever
// pushed. Whatever they are, every change reported is a catalog file
// whose URL names exactly that file, on the event's repository, branch
// and the receiver's own host; the repository URL is on that host too;
// an ignored event has no changes; and every refusal has a code.
func FuzzParseEvent(f *testing.F) {
	type provider struct {
		host   string
		header func(body []byte) http.Header
		seed   string
	}
	providers := []provider{
		{"github.com", func(b []byte) http.Header { return githubHeaders(b, "f") }, "github-push.json"},
		{"gitlab.example.com", func([]byte) http.Header {
			return http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {secret}, "X-Gitlab-Event-Uuid": {"u1"}}
		}, "gitlab-push.json"},
		{"bitbucket.org", func(b []byte) http.Header {
			return http.Header{"X-Event-Key": {"repo:push"}, "X-Request-Uuid": {"c1"}, "X-Hub-Signature": {sign(b, secret)}}
		}, "bitbucketcloud-push.json"},
		{"bitbucket.example.com", func(b []byte) http.Header {
			return http.Header{"X-Event-Key": {"repo:refs_changed"}, "X-Request-Id": {"r1"}, "X-Hub-Signature": {sign(b, secret)}}
		}, "bitbucketserver-refs-changed.json"},
	}
	for i, p := range providers {
		b, err := os.ReadFile("testdata/" + p.seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	f.Add(uint8(1), []byte(`{"object_kind":"push","ref":"refs/heads/main","project":{"path_with_namespace":"a/../b","default_branch":"main"},"commits":[{"added":["../catalog-info.yaml","x/catalog-info.yaml"]}]}`))
	f.Add(uint8(2), []byte(`{"repository":{"full_name":"acme/svc"},"push":{"changes":[{"new":{"type":"branch","name":"a/b"}}]}}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		p := providers[int(which)%len(providers)]
		r := newReceiver(t, p.host, nil)
		ev, err := r.Parse(t.Context(), p.header(body), body)
		if err != nil {
			if errcode.CodeOf(err) == errcode.Unknown {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if ev.Ignored != "" && len(ev.Changes) > 0 {
			t.Fatal("an ignored event has changes")
		}
		if ev.RepoURL != "" {
			if in, ok := r.reg.ByURL(ev.RepoURL); !ok || in.Host != r.in.Host {
				t.Fatalf("RepoURL %q is not on %s", ev.RepoURL, r.in.Host)
			}
		}
		for _, c := range ev.Changes {
			if !r.isCatalog(c.Path) {
				t.Fatalf("non-catalog path %q reported", c.Path)
			}
			loc, err := r.reg.Parse(c.URL)
			if err != nil {
				t.Fatalf("change %q has URL %q, which does not parse: %v", c.Path, c.URL, err)
			}
			if loc.Host != r.in.Host || loc.Owner != ev.Owner || loc.Repo != ev.Repo || loc.Ref != ev.Branch || loc.Path != c.Path {
				t.Fatalf("change %q of %s/%s@%s has URL %q, which names %+v", c.Path, ev.Owner, ev.Repo, ev.Branch, c.URL, loc)
			}
		}
	})
}
