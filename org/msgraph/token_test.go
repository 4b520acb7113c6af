package msgraph_test

// The client-credentials token request is one of the reader's requests:
// sent with the Read's context through the reader's client stack (retries,
// rate limits, the request count), its answers classified as every
// answer is, its errors free of the client secret (w5 audit, issue 10).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/msgraph"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
)

// TestTokenRequestEndsWithTheRead: a Read whose context ends while the
// token endpoint has not answered returns at once.
func TestTokenRequestEndsWithTheRead(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
			select {
			case <-time.After(2 * time.Second):
			case <-stop:
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	defer close(stop)
	cfg := msgraph.Config{TenantID: "contoso.example", ClientID: "c", ClientSecret: integrations.NewSecret("s"),
		Target: srv.URL + "/v1.0", Authority: srv.URL}
	r, err := msgraph.New(cfg, &msgraph.Options{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = r.Read(ctx)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Read returned after %v (err %v); its context ended after 100ms", d.Round(time.Millisecond), err)
	}
}

// TestNewRedactsURLs: a target or authority with user information is
// refused without quoting its password (nor an empty provider id).
func TestNewRedactsURLs(t *testing.T) {
	for _, cfg := range []msgraph.Config{
		{Target: "https://svc:hunter2@graph.example.com/v1.0"},
		{Authority: "https://svc:hunter2@login.example.com"},
		{Target: "https://graph.example.com/v1.0?key=hunter2"},
	} {
		cfg.TenantID, cfg.ClientID, cfg.ClientSecret = "contoso.example", "c", integrations.NewSecret("s")
		_, err := msgraph.New(cfg, nil)
		if errcode.CodeOf(err) != errcode.InvalidArgument || strings.Contains(err.Error(), "hunter2") ||
			strings.Contains(err.Error(), "microsoftGraphOrg.:") {
			t.Errorf("New(%s%s) = %v; want InvalidArgument without the URL's password", cfg.Target, cfg.Authority, err)
		}
	}
}

// TestTokenEndpointAnswers: a 429 is RateLimited with its RetryAt; an
// error code echoing the client secret does not show it.
func TestTokenEndpointAnswers(t *testing.T) {
	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		check  func(t *testing.T, err error)
	}{
		{
			name: "429 throttled",
			answer: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3600")
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"AADSTS50196: The server terminated an operation because it encountered a client request loop."}`))
			},
			check: func(t *testing.T, err error) {
				var e *errcode.Error
				if !errors.As(err, &e) || e.Code != errcode.RateLimited || time.Until(e.RetryAt) < 59*time.Minute {
					t.Errorf("Read = %v; want RateLimited (httpx.Classify of a 429) with RetryAt in an hour", err)
				}
			},
		},
		{
			name: "error code echoes the request",
			answer: func(w http.ResponseWriter, r *http.Request) {
				r.ParseForm()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error":"bad ` + r.PostForm.Get("client_secret") + `","error_description":"no"}`))
			},
			check: func(t *testing.T, err error) {
				if err == nil || strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), "s3cr3t-value") {
					t.Errorf("Read = %v; the client secret must not appear", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
					tt.answer(w, r)
					return
				}
				http.NotFound(w, r)
			}))
			defer srv.Close()
			cfg := msgraph.Config{TenantID: "contoso.example", ClientID: "c", ClientSecret: integrations.NewSecret("s3cr3t-value"),
				Target: srv.URL + "/v1.0", Authority: srv.URL}
			r, err := msgraph.New(cfg, &msgraph.Options{MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Read(t.Context())
			tt.check(t, err)
		})
	}
}

// failFirstToken answers the first token request with a 503 itself, below
// the reader's retries.
type failFirstToken struct {
	base http.RoundTripper
	n    atomic.Int32
}

func (t *failFirstToken) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/oauth2/v2.0/token") && t.n.Add(1) == 1 {
		if req.Body != nil {
			req.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	}
	return t.base.RoundTrip(req)
}

// TestTokenRetriedCountedCached: the token request is retried after a 503
// (httpx's policy), counted in the requests the reader reports, fetched
// once for all of a Read's concurrent requests and reused by the next
// Read until it is near expiry.
func TestTokenRetriedCountedCached(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	seed(f)
	now := time.Now()
	var mu sync.Mutex
	var last org.Progress
	cfg := cfgFor(f)
	cfg.QueryMode = "advanced" // list queries: member listings run concurrently
	r := newReader(t, cfg, func(o *msgraph.Options) {
		o.Transport = &failFirstToken{base: http.DefaultTransport}
		o.Concurrency = 4
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		o.Progress = func(p org.Progress) { mu.Lock(); defer mu.Unlock(); last = p }
	})
	if _, err := r.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := f.Stats()
	mu.Lock()
	reported := last.Requests
	mu.Unlock()
	if st.Token != 1 || reported != st.Graph+2 {
		t.Errorf("token requests %d (want 1), reported requests %d (want %d Graph + 2 token attempts)", st.Token, reported, st.Graph)
	}
	f.ResetStats()
	if _, err := r.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := f.Stats(); st.Token != 0 {
		t.Errorf("second Read: %d token requests, want the cached token", st.Token)
	}
	mu.Lock()
	now = now.Add(time.Hour) // the token (3599 s) is due for renewal
	mu.Unlock()
	f.ResetStats()
	if _, err := r.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := f.Stats(); st.Token != 1 {
		t.Errorf("an hour later: %d token requests, want 1", st.Token)
	}
}
