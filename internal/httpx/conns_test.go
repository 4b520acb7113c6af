package httpx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
)

// TestConnectionsAfterErrorAnswers sends three requests per case through a
// Transport over a counting base transport and checks, after each case,
// that no connection is left open (every body closed on every path), and,
// where the answer is small, that the three requests (and their retries)
// shared one connection: error bodies are drained, not abandoned.
func TestConnectionsAfterErrorAnswers(t *testing.T) {
	errBody := `{"message":"` + strings.Repeat("x", 2<<10) + `"}`
	tests := []struct {
		name    string
		handler http.HandlerFunc
		// use makes one request with client c to url and checks its result.
		use     func(t *testing.T, c *http.Client, url string)
		reused  bool          // all requests on one connection
		attempt time.Duration // Options.AttemptTimeout
	}{
		{name: "404 with a body, read by ReadBody", reused: true,
			handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, errBody, http.StatusNotFound) },
			use: func(t *testing.T, c *http.Client, url string) {
				resp := mustGet(t, c, url)
				if _, err := httpx.ReadBody(resp, 0); err != nil || resp.StatusCode != 404 {
					t.Fatalf("%d %v", resp.StatusCode, err)
				}
			}},
		{name: "403 with a body, drained", reused: true,
			handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, errBody, http.StatusForbidden) },
			use: func(t *testing.T, c *http.Client, url string) {
				resp := mustGet(t, c, url)
				httpx.DrainClose(resp)
			}},
		{name: "503 with a body, retries exhausted", reused: true,
			handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, errBody, http.StatusServiceUnavailable) },
			use: func(t *testing.T, c *http.Client, url string) {
				resp, err := c.Get(url)
				if err == nil {
					httpx.DrainClose(resp) // retryablehttp passes the last answer through
					if resp.StatusCode != 503 {
						t.Fatalf("status %d, want 503", resp.StatusCode)
					}
					return
				}
				if errcode.CodeOf(err) != errcode.Unavailable {
					t.Fatalf("%v, want Unavailable", err)
				}
			}},
		{name: "429 beyond the wait cap", reused: true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3600")
				http.Error(w, errBody, http.StatusTooManyRequests)
			},
			use: func(t *testing.T, c *http.Client, url string) {
				if _, err := c.Get(url); errcode.CodeOf(err) != errcode.RateLimited {
					t.Fatalf("%v, want RateLimited", err)
				}
			}},
		{name: "redirect refused by the caller's client", reused: true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "/elsewhere")
				w.WriteHeader(http.StatusFound)
				// net/http drains up to 2 KiB of a refused redirect's body
				w.Write([]byte(strings.Repeat("r", 1<<10)))
			},
			use: func(t *testing.T, c *http.Client, url string) {
				rc := *c
				rc.CheckRedirect = func(*http.Request, []*http.Request) error { return errors.New("no redirects") }
				if _, err := rc.Get(url); err == nil {
					t.Fatal("redirect followed")
				}
			}},
		{name: "body over ReadBody's limit",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(strings.Repeat("y", 1<<20)))
			},
			use: func(t *testing.T, c *http.Client, url string) {
				resp := mustGet(t, c, url)
				if _, err := httpx.ReadBody(resp, 1<<10); errcode.CodeOf(err) != errcode.InvalidArgument {
					t.Fatalf("%v, want InvalidArgument", err)
				}
			}},
		{name: "body over a CapBodies cap",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(strings.Repeat("y", 1<<20)))
			},
			use: func(t *testing.T, c *http.Client, url string) {
				cc := httpx.CapClient(c, httpx.BodyCaps{Other: 1 << 10})
				resp := mustGet(t, cc, url)
				if _, err := httpx.ReadBody(resp, 0); errcode.CodeOf(err) != errcode.InvalidArgument {
					t.Fatalf("%v, want InvalidArgument", err)
				}
			}},
		{name: "context cancelled mid-body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(strings.Repeat("z", 4<<10)))
				w.(http.Flusher).Flush()
				<-r.Context().Done() // until the client goes
			},
			use: func(t *testing.T, c *http.Client, url string) {
				ctx, cancel := context.WithCancel(t.Context())
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 1<<10)
				if _, err := resp.Body.Read(buf); err != nil {
					t.Fatal(err)
				}
				cancel()
				if _, err := httpx.ReadBody(resp, 0); errcode.CodeOf(err) != errcode.Canceled {
					t.Fatalf("%v, want Canceled", err)
				}
			}},
		{name: "attempt timeout while the body is read", attempt: 100 * time.Millisecond,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(strings.Repeat("z", 4<<10)))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			},
			use: func(t *testing.T, c *http.Client, url string) {
				resp := mustGet(t, c, url)
				if _, err := httpx.ReadBody(resp, 0); err == nil {
					t.Fatal("a body that never ends was read")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			conns := httpxtest.CountConns(t)
			c := httpx.NewClient(&httpx.Options{Base: conns.Transport(), MaxRetries: 2, MinWait: time.Millisecond, MaxWait: time.Millisecond,
				AttemptTimeout: tt.attempt})
			for range 3 {
				tt.use(t, c, srv.URL)
			}
			if tt.reused && conns.Dialed() != 1 {
				t.Errorf("%d connections dialled, want 1 (the error bodies drained, the connection reused)", conns.Dialed())
			}
			conns.CheckNoneLeft(t)
		})
	}
}

func mustGet(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
