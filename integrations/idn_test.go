package integrations

import (
	"strings"
	"testing"
)

// A URL whose host is written in Unicode finds the integration configured
// with its xn-- form, as Backstage's new URL(url).host does; the host of
// an unconfigured one is named in the form the configuration takes. Where
// a credential goes is not affected: hosts of requests are compared as
// written.
func TestParseInternationalisedHost(t *testing.T) {
	r, err := NewRegistry(Config{
		GitLab: []GitLabConfig{{Host: "xn--gtlab-zsa.example.com", APIBaseURL: "https://xn--gtlab-zsa.example.com/api/v4"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		url  string
		want Location
	}{
		{"https://gítlab.example.com/g/p/-/blob/main/a.md", Location{Kind: GitLab, Host: "xn--gtlab-zsa.example.com", Owner: "g", Repo: "p", Ref: "main", Path: "a.md"}},
		{"https://GÍTLAB.example.com:443/g/p", Location{Kind: GitLab, Host: "xn--gtlab-zsa.example.com", Owner: "g", Repo: "p", Tree: true}},
		{"https://ｇｉｔｈｕｂ.com/o/r/blob/main/a.md", Location{Kind: GitHub, Host: "github.com", Owner: "o", Repo: "r", Ref: "main", Path: "a.md"}},
	} {
		got, err := r.Parse(tt.url)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.url, got, err, tt.want)
		}
		if in, ok := r.ByURL(tt.url); !ok || in.Host != tt.want.Host {
			t.Errorf("ByURL(%q) = %v, %v; want %s", tt.url, in, ok, tt.want.Host)
		}
	}
	_, err = r.Parse("https://bücher.example/o/r")
	if err == nil || !strings.Contains(err.Error(), `host: "xn--bcher-kva.example"`) {
		t.Errorf("Parse(unconfigured IDN host) = %v; want advice naming its xn-- form", err)
	}
	for _, h := range []string{"gítlab.example.com", "ｇｉｔｈｕｂ.com"} {
		if in, ok := r.Owning(h); ok {
			t.Errorf("Owning(%q) = %s; want no integration: a request's host is compared as written", h, in.ConfigPath)
		}
	}
}

// ResolveURL and EditURL find the integration of a Unicode host as Parse
// does: "/x" is relative to the repository root, and the edit page is the
// provider's; the URL they return has the host's xn-- form, as a WHATWG
// URL's href has.
func TestResolveAndEditInternationalisedHost(t *testing.T) {
	r, err := NewRegistry(Config{
		GitLab: []GitLabConfig{{Host: "xn--gtlab-zsa.example.com", APIBaseURL: "https://xn--gtlab-zsa.example.com/api/v4"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	base := "https://gítlab.example.com/g/p/-/blob/main/docs/a.md"
	got, err := r.ResolveURL(base, "/b.md", 0)
	if want := "https://xn--gtlab-zsa.example.com/g/p/-/blob/main/b.md"; err != nil || got != want {
		t.Errorf("ResolveURL = %q, %v; want %q", got, err, want)
	}
	got, err = r.EditURL(base)
	if want := "https://xn--gtlab-zsa.example.com/g/p/-/edit/main/docs/a.md"; err != nil || got != want {
		t.Errorf("EditURL = %q, %v; want %q", got, err, want)
	}
}
