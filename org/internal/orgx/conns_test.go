package orgx

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
)

// TestConnectionsAfterFailedAnswers: the REST and GraphQL helpers every
// org reader uses close each answer's body on every path (an error status
// with a body, JSON over the limit or not JSON, GraphQL errors, a 502 that
// shrinks the query, a timed-out request), and the small error answers
// leave their connection for the next request.
func TestConnectionsAfterFailedAnswers(t *testing.T) {
	errBody := `{"message":"` + strings.Repeat("x", 2<<10) + `"}`
	tests := []struct {
		name    string
		handler http.HandlerFunc
		graphQL bool
		code    errcode.Code
		reused  bool
	}{
		{"404 with a body", func(w http.ResponseWriter, r *http.Request) { http.Error(w, errBody, http.StatusNotFound) },
			false, errcode.NotFound, true},
		{"500 with a body", func(w http.ResponseWriter, r *http.Request) { http.Error(w, errBody, http.StatusInternalServerError) },
			false, errcode.Unavailable, true},
		{"429", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			http.Error(w, errBody, http.StatusTooManyRequests)
		}, false, errcode.RateLimited, true},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>login</html>")) },
			false, errcode.Unavailable, true},
		{"JSON over the limit", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"x":"` + strings.Repeat("y", 1<<20) + `"}`))
		}, false, errcode.InvalidArgument, false},
		{"GraphQL errors", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"data":null,"errors":[{"type":"NOT_FOUND","message":"gone"}]}`))
		}, true, errcode.NotFound, true},
		{"GraphQL 502", func(w http.ResponseWriter, r *http.Request) { http.Error(w, errBody, http.StatusBadGateway) },
			true, errcode.Unavailable, true},
		{"GraphQL timeout mid-body", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"data":{"x":"`))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, true, errcode.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			conns := httpxtest.CountConns(t)
			errs := Errs{Op: "orgx.test", Provider: "test", Host: "example"}
			api := API{Client: &http.Client{Transport: conns.Transport()}, Errs: errs, MaxResponseBytes: 64 << 10,
				HTTPError: func(resp *http.Response) error {
					return errs.Answer(resp, time.Now(), Wording{}, func([]byte) string { return "" })
				}}
			gql := &GraphQL{API: api, URL: srv.URL, Timeout: 200 * time.Millisecond,
				QueryErrors: func([]QueryError, http.Header) error { return errs.Fail(errcode.NotFound, 200, "gone", nil) }}
			for range 3 {
				var out map[string]any
				var err error
				if tt.graphQL {
					err = gql.Post(context.Background(), "query{x}", nil, &out)
				} else {
					_, err = api.GetJSON(context.Background(), srv.URL, nil, &out)
				}
				if errcode.CodeOf(err) != tt.code {
					t.Fatalf("%v (%v), want %v", errcode.CodeOf(err), err, tt.code)
				}
			}
			if tt.reused && conns.Dialed() != 1 {
				t.Errorf("%d connections dialled, want 1 (error answers read, their connection reused)", conns.Dialed())
			}
			conns.CheckNoneLeft(t)
		})
	}
}
