package scm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
)

// TestAnonymousReadRateLimitInBody: an allow-listed host answers 403 with
// the rate limit named only in the body (GitHub's primary limit message,
// or a secondary limit without headers). The read fails RateLimited, with
// RetryAt where the body implies one, not PermissionDenied. Retries are
// off so that the 403 reaches the classification in ReadFile.
func TestAnonymousReadRateLimitInBody(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		switch r.URL.Path {
		case "/primary":
			fmt.Fprint(w, `{"message":"API rate limit exceeded for 192.0.2.1. (But here's the good news: Authenticated requests get a higher rate limit.)"}`)
		case "/secondary":
			fmt.Fprint(w, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`)
		default:
			fmt.Fprint(w, `{"message":"Resource not accessible"}`)
		}
	})
	reg, err := integrations.NewRegistry(integrations.Config{ReadingAllow: []integrations.ReadingAllow{{Host: hostOf(t, srv.URL)}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := scm.NewClient(reg, nil, &scm.Options{Retry: scm.RetryOptions{MaxRetries: -1, MaxRateLimitWait: 5 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		code       scm.ErrorCode
		retryAfter time.Duration // 0: no RetryAt
	}{
		{"primary limit in the body", "/primary", scm.RateLimited, 0},
		{"secondary limit in the body", "/secondary", scm.RateLimited, time.Minute},
		{"a plain 403", "/denied", scm.PermissionDenied, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			_, err := c.ReadFile(t.Context(), srv.URL+tc.path, nil)
			after := time.Now()
			if got := scm.Code(err); got != tc.code {
				t.Fatalf("ReadFile(%s): code %v (%v); want %v", tc.path, got, err, tc.code)
			}
			var e *scm.Error
			if !errors.As(err, &e) || e.Status != http.StatusForbidden {
				t.Fatalf("ReadFile(%s): %#v; want an *scm.Error with status 403", tc.path, err)
			}
			switch at, _ := scm.RetryAt(err); {
			case tc.retryAfter == 0 && !at.IsZero():
				t.Errorf("RetryAt = %v; want none", at)
			case tc.retryAfter != 0 && (at.Before(before.Add(tc.retryAfter)) || at.After(after.Add(tc.retryAfter))):
				t.Errorf("RetryAt = %v; want %v after the request", at, tc.retryAfter)
			}
		})
	}
}

// TestReadFileAnonymousFlag: the driver is told that a read goes out
// without a credential (no resolver, no credential, an anonymous one), so
// that it may use a public endpoint, and is not told so when a credential
// will be sent.
func TestReadFileAnonymousFlag(t *testing.T) {
	withToken, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: "github.com", Token: integrations.NewSecret("ghp_flagtest")}}})
	if err != nil {
		t.Fatal(err)
	}
	tokenResolver, err := credentials.NewResolver(withToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	public, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		t.Fatal(err)
	}
	publicResolver, err := credentials.NewResolver(public, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		reg  *integrations.Registry
		res  scm.Resolver
		want bool
	}{
		{"no resolver", nil, nil, true},
		{"no credential", nil, &recordingResolver{}, true},
		{"anonymous credential", nil, &recordingResolver{cred: &credentials.Credential{Kind: credentials.KindAnonymous}}, true},
		{"token", nil, &recordingResolver{cred: &credentials.Credential{Kind: credentials.KindToken, Token: "t"}}, false},
		{"credentials.Resolver without a credential", public, publicResolver, true},
		{"credentials.Resolver with a token", withToken, tokenResolver, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []bool
			d := &fakeDriver{readFile: func(_ context.Context, r *driver.ReadFileRequest) (*driver.File, error) {
				got = append(got, r.Anonymous)
				return &driver.File{Path: r.Path, Content: []byte("x")}, nil
			}}
			c, err := scm.NewClient(tt.reg, tt.res, &scm.Options{Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: d.opener()}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ReadFile(t.Context(), ghBase+"basic/blob/main/README.md", nil); err != nil {
				t.Fatal(err)
			}
			if want := []bool{tt.want}; !slices.Equal(got, want) {
				t.Errorf("ReadFileRequest.Anonymous = %v; want %v", got, want)
			}
		})
	}
}
