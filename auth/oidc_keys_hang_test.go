package auth_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/authtest"
	"github.com/scmkit/scmkit/integrations"
)

// hangKeys is a transport whose first request for the provider's key set
// hangs until the request is cancelled (or the test ends): an identity
// provider that accepts the connection and never answers.
type hangKeys struct {
	rt      http.RoundTripper
	once    sync.Once
	release chan struct{}
	hung    atomic.Bool
}

func (h *hangKeys) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/keys") {
		first := false
		h.once.Do(func() { first = true })
		if first {
			h.hung.Store(true)
			select {
			case <-r.Context().Done():
				return nil, r.Context().Err()
			case <-h.release:
			}
		}
	}
	return h.rt.RoundTrip(r)
}

// go-oidc fetches the provider's key set in the background, without the
// caller's context, and every verification waits for the fetch in
// flight: one key-set request that hangs used to fail every later OIDC
// sign-in of the process (each timing out after ProviderTimeout), for as
// long as the connection stayed open. The fetch is now bounded by
// OIDCOptions.Timeout, so the next sign-in fetches the keys again.
func TestOIDCKeySetFetchThatHangsDoesNotBlockLaterSignIns(t *testing.T) {
	p := newPortal(t, auth.Options{ProviderTimeout: 2 * time.Second})
	op := startOP(t, p, "oidc", authtest.OPOptions{ProfileInIDToken: true, User: authtest.User{Subject: "u-1"}})
	h := &hangKeys{rt: http.DefaultTransport, release: make(chan struct{})}
	t.Cleanup(func() { close(h.release) })
	prov, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: integrations.NewSecret("portal-secret"), MetadataURL: op.Issuer,
		HTTPClient: &http.Client{Transport: h}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.h.Register("oidc", "development", prov); err != nil {
		t.Fatal(err)
	}
	_, resp, body := p.signIn(t, "oidc")
	if resp.StatusCode == http.StatusOK || !h.hung.Load() {
		t.Fatalf("first sign-in, its key set hanging: %d %s", resp.StatusCode, body)
	}
	_, resp, body = p.signIn(t, "oidc")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "hello") {
		t.Fatalf("second sign-in, once the provider answers again: %d %s", resp.StatusCode, body)
	}
}
