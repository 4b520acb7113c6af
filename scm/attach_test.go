package scm_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
)

// TestNoCredentialAfterDowngradeRedirect: an https API on an integration's
// host redirects to http on the same host (a default port, so the
// normalised hosts are equal). The plain-http request must go out without
// the credential, for every kind of Resolver; an https redirect on the same
// host keeps it.
func TestNoCredentialAfterDowngradeRedirect(t *testing.T) {
	const host = "ghe.test"
	var (
		mu    sync.Mutex
		auths = map[string][]string{} // "https" or "http" → Authorization headers
	)
	record := func(scheme string, r *http.Request) {
		mu.Lock()
		auths[scheme] = append(auths[scheme], r.Header.Get("Authorization"))
		mu.Unlock()
	}
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("https", r)
		switch r.URL.Path {
		case "/api/v3/files/a.txt":
			fmt.Fprint(w, "a\n")
		case "/api/v3/files/moved.txt":
			http.Redirect(w, r, "https://"+host+"/api/v3/files/a.txt", http.StatusFound)
		case "/api/v3/files/downgrade.txt":
			http.Redirect(w, r, "http://"+host+"/download", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(secure.Close)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record("http", r)
		fmt.Fprint(w, "plain\n")
	}))
	t.Cleanup(plain.Close)

	// host:443 is the TLS server, host:80 the plain one.
	tr := secure.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: tr.TLSClientConfig.RootCAs, ServerName: "example.com"}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		switch addr {
		case host + ":443":
			return d.DialContext(ctx, network, secure.Listener.Addr().String())
		case host + ":80":
			return d.DialContext(ctx, network, plain.Listener.Addr().String())
		}
		return nil, fmt.Errorf("unexpected dial to %s", addr)
	}
	t.Cleanup(tr.CloseIdleConnections)

	reg, in, resolvers := tokenSetup(t, host, "https://"+host+"/api/v3")
	for _, tc := range resolvers {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			clear(auths)
			mu.Unlock()
			d := &httpDriver{in: in}
			c, err := scm.NewClient(reg, tc.res, &scm.Options{
				Drivers:   map[integrations.Kind]driver.Opener{integrations.GitHub: func(*integrations.Integration) (driver.Driver, error) { return d, nil }},
				Transport: tr,
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"a.txt", "moved.txt", "downgrade.txt"} {
				if _, err := c.ReadFile(t.Context(), "https://"+host+"/acme/svc/blob/main/"+p, nil); err != nil {
					t.Errorf("ReadFile(%s): %v", p, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			// a.txt; moved.txt and its redirect to a.txt; downgrade.txt.
			if got := auths["https"]; len(got) != 4 {
				t.Errorf("the https server received %d requests; want 4", len(got))
			}
			for i, a := range auths["https"] {
				if a != tc.wantAuth {
					t.Errorf("https request %d: Authorization %q; want %q", i, a, tc.wantAuth)
				}
			}
			if got := auths["http"]; len(got) != 1 || got[0] != "" {
				t.Errorf("plain-http Authorization headers after the downgrade = %q; want one request without", got)
			}
		})
	}
}

// TestNoCredentialBackFromAForeignHost: the integration's API redirects to
// a foreign host, which redirects back to the API. Neither the foreign
// request nor the one that comes back carries the credential, for every
// kind of Resolver: a credential never crosses a redirect through another
// host, whatever the chain's first and last hosts are.
func TestNoCredentialBackFromAForeignHost(t *testing.T) {
	var apiURL string
	foreign := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, apiURL+"/api/v3/files/landing.txt", http.StatusFound)
	})
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v3/files/bounce.txt":
			http.Redirect(w, r, foreign.URL+"/back", http.StatusFound)
		case "/api/v3/files/landing.txt":
			fmt.Fprint(w, "landed\n")
		default:
			http.NotFound(w, r)
		}
	})
	apiURL = api.URL
	host := hostOf(t, api.URL)
	reg, in, resolvers := tokenSetup(t, host, api.URL+"/api/v3")
	for _, tc := range resolvers {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range []*recorder{api, foreign} {
				s.mu.Lock()
				s.auths = nil
				s.mu.Unlock()
			}
			d := &httpDriver{in: in}
			c, err := scm.NewClient(reg, tc.res, &scm.Options{
				Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: func(*integrations.Integration) (driver.Driver, error) { return d, nil }},
			})
			if err != nil {
				t.Fatal(err)
			}
			f, err := c.ReadFile(t.Context(), "http://"+host+"/acme/svc/blob/main/bounce.txt", nil)
			if err != nil || string(f.Content) != "landed\n" {
				t.Fatalf("ReadFile(bounce.txt) = %v, %v; want the landing file", f, err)
			}
			if got := api.authorizations(); len(got) != 2 || got[0] != tc.wantAuth || got[1] != "" {
				t.Errorf("API Authorization headers = %q; want [%q, \"\"] (the request back from the foreign host without)", got, tc.wantAuth)
			}
			if got := foreign.authorizations(); len(got) != 1 || got[0] != "" {
				t.Errorf("foreign host Authorization headers = %q; want one request without", got)
			}
		})
	}
}

// TestFixedCredentialNeedsHost: a credentials.Transport given a credential
// picked up front (as scm gives it one for a custom Resolver) but no
// template host sends nothing, since any integration host would do.
func TestFixedCredentialNeedsHost(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {})
	tr := &credentials.Transport{Base: http.DefaultTransport, Credential: &credentials.Credential{Token: "fixed-token"}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("RoundTrip without Request.Host succeeded; want InvalidArgument")
	}
	if scm.Code(err) != scm.InvalidArgument {
		t.Errorf("RoundTrip: %v; want InvalidArgument", err)
	}
	if n := len(srv.authorizations()); n != 0 {
		t.Errorf("the server received %d requests; want 0", n)
	}
}
