package githubapp

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzNextLink: a Link header is the API's answer, and the next link
// decides where the installation token goes next. Whatever the header
// says, a followed link is on the API's own scheme and host and on the
// listing's own path, and following it again leads to itself.
func FuzzNextLink(f *testing.F) {
	for _, s := range [][2]string{
		{`<https://api.github.com/installation/repositories?per_page=100&page=2>; rel="next", <https://api.github.com/installation/repositories?page=5>; rel="last"`, "/installation/repositories"},
		{`<https://evil.example/installation/repositories?page=2>; rel="next"`, "/installation/repositories"},
		{`<https://api.github.com@evil.example/x?page=2>; rel="next"`, "/app/installations"},
		{`<//evil.example/x?page=2>; rel="next"`, "/app/installations"},
		{`<http://api.github.com/x?page=2>; rel="next"`, "/app/installations"},
		{`<https://API.github.com/x?page=2#frag>; rel="next"`, "/api/v3/app/installations"},
		{`<https://api.github.com/other?page=2>; rel="prev", <?page=3>; rel="next"`, "/x"},
		{`rel="next"`, "/x"},
	} {
		f.Add(s[0], s[1], "https://api.github.com")
	}
	f.Add(`<http://127.0.0.1:8080/api/v3/x?page=2>; rel="next"`, "/api/v3/x", "http://127.0.0.1:8080/api/v3")
	f.Fuzz(func(t *testing.T, link, path, base string) {
		api, err := url.Parse(strings.TrimRight(base, "/"))
		if err != nil || (api.Scheme != "https" && api.Scheme != "http") || api.Host == "" {
			return
		}
		a := &App{apiURL: api}
		cur := api.String() + "/" + strings.TrimLeft(path, "/") + "?per_page=100"
		c, err := url.Parse(cur)
		if err != nil || c.Host != api.Host {
			return
		}
		next, refused := a.nextLink(link, cur)
		if next == "" {
			return
		}
		if refused {
			t.Fatalf("nextLink(%q) = %q, refused", link, next)
		}
		n, err := url.Parse(next)
		if err != nil {
			t.Fatalf("nextLink(%q) = %q: %v", link, next, err)
		}
		if n.Scheme != api.Scheme || n.Host != api.Host || n.User.String() != c.User.String() {
			t.Fatalf("nextLink(%q) = %q: not on %s://%s", link, next, api.Scheme, api.Host)
		}
		if n.Path != c.Path || n.RawPath != c.RawPath || n.Fragment != "" {
			t.Fatalf("nextLink(%q) = %q: path %q, want the listing's %q", link, next, n.EscapedPath(), c.EscapedPath())
		}
		if again, refused := a.nextLink("<"+next+`>; rel="next"`, cur); again != next || refused {
			t.Fatalf("nextLink(%q) = %q, but following it again gives %q (refused %v)", link, next, again, refused)
		}
	})
}
