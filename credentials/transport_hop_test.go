package credentials

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
)

type hopRT struct{ seen map[string]string }

func (h *hopRT) RoundTrip(r *http.Request) (*http.Response, error) {
	h.seen[r.URL.String()] = r.Header.Get("Authorization")
	loc := map[string]string{
		"https://api.github.com/a": "http://api.github.com/b",     // downgrade on the same host: no credential here
		"http://api.github.com/b":  "https://api.github.com/evil", // whoever answered the plain hop steers the next one
	}[r.URL.String()]
	st := 200
	h2 := http.Header{}
	if loc != "" {
		st = 302
		h2.Set("Location", loc)
	}
	return &http.Response{StatusCode: st, Header: h2, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// TestNoCredentialAfterAPlainHTTPHop: the chain passed through a hop the rule refused the credential (plain
// http, which anyone on the path can answer); the hop's redirect target
// still gets it.
func TestNoCredentialAfterAPlainHTTPHop(t *testing.T) {
	reg, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		t.Fatal(err)
	}
	base := &hopRT{seen: map[string]string{}}
	hc := &http.Client{Transport: &Transport{Base: base, Credential: &Credential{Kind: KindToken, Token: "s3cret"},
		Registry: reg, Request: Request{Host: "github.com"}}}
	resp, err := hc.Get("https://api.github.com/a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Logf("%v", base.seen)
	if base.seen["https://api.github.com/evil"] != "" {
		t.Errorf("credential sent to the target of a redirect made by a plain-http hop")
	}
}
