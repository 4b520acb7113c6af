package httpx_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/httpx"
)

func TestCapBodies(t *testing.T) {
	t.Parallel()
	caps := httpx.BodyCaps{JSON: 5, Error: 3, Setting: "pkg.Options.MaxResponseBytes"}
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        string
		wantCode    errcode.Code
		wantSetting bool  // the message names caps.Setting
		other       int64 // caps.Other
	}{
		{name: "JSON within the cap", status: 200, contentType: "application/json", body: "[1]", want: "[1]"},
		{name: "JSON exactly at the cap", status: 200, contentType: "application/json; charset=utf-8", body: "[1,2]", want: "[1,2]"},
		{name: "JSON over the cap", status: 200, contentType: "application/json", body: "[1,2,3]", wantCode: errcode.InvalidArgument, wantSetting: true},
		{name: "GraphQL JSON over the cap", status: 200, contentType: "application/graphql-response+json", body: "{\"data\":{}}", wantCode: errcode.InvalidArgument, wantSetting: true},
		{name: "file contents not capped", status: 200, contentType: "application/octet-stream", body: "0123456789", want: "0123456789"},
		{name: "error within the cap", status: 404, contentType: "application/json", body: "{}", want: "{}"},
		{name: "error over the cap", status: 500, contentType: "text/html", body: "<html>", wantCode: errcode.InvalidArgument},
		{name: "JSON error over the error cap", status: 422, contentType: "application/json", body: "[1,2]", wantCode: errcode.InvalidArgument},
		{name: "Other: form answer within the cap", status: 200, contentType: "application/x-www-form-urlencoded", body: "a=1", want: "a=1", other: 5},
		{name: "Other: form answer over the cap", status: 200, contentType: "application/x-www-form-urlencoded", body: "access_token=x", wantCode: errcode.InvalidArgument, other: 5},
		{name: "Other: redirect body over the cap", status: 302, contentType: "text/html", body: "<a href>", wantCode: errcode.InvalidArgument, other: 5},
		{name: "Other: JSON keeps the JSON cap", status: 200, contentType: "application/json", body: "[1,2,3]", wantCode: errcode.InvalidArgument, wantSetting: true, other: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
				h := http.Header{"Content-Type": {tt.contentType}}
				return &http.Response{StatusCode: tt.status, Header: h, Body: io.NopCloser(strings.NewReader(tt.body)), Request: req}, nil
			})
			req, _ := http.NewRequest("GET", "https://api.example.com/repos/x?token=SECRET", nil)
			c := caps
			c.Other = tt.other
			resp, err := httpx.CapBodies(base, c).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if code := errcode.CodeOf(err); code != tt.wantCode {
				t.Fatalf("got code %v (%v); want %v", code, err, tt.wantCode)
			}
			if err == nil {
				if string(got) != tt.want {
					t.Errorf("got %q; want %q", got, tt.want)
				}
				return
			}
			msg := err.Error()
			if !strings.Contains(msg, "api.example.com") || !strings.Contains(msg, "GET /repos/x") || strings.Contains(msg, "SECRET") {
				t.Errorf("got message %q; want the host, method and path, and no query string", msg)
			}
			if got := strings.Contains(msg, caps.Setting); got != tt.wantSetting {
				t.Errorf("message %q names %s: %v; want %v", msg, caps.Setting, got, tt.wantSetting)
			}
		})
	}
}

func TestCapBodiesPassesErrors(t *testing.T) {
	t.Parallel()
	base := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, io.ErrUnexpectedEOF })
	req, _ := http.NewRequest("GET", "https://api.example.com/x", nil)
	if _, err := httpx.CapBodies(base, httpx.BodyCaps{JSON: 1, Error: 1}).RoundTrip(req); err != io.ErrUnexpectedEOF {
		t.Errorf("got %v; want the base transport's error unchanged", err)
	}
}

func TestCapClient(t *testing.T) {
	t.Parallel()
	orig := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader("[1,2,3]")), Request: req}, nil
	})}
	c := httpx.CapClient(orig, httpx.BodyCaps{JSON: 2, Error: 2})
	if c == orig {
		t.Fatal("CapClient returned hc itself; want a copy")
	}
	if _, ok := orig.Transport.(roundTripFunc); !ok {
		t.Errorf("hc.Transport changed to %T; want it untouched", orig.Transport)
	}
	resp, err := c.Get("https://api.example.com/x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("got %v; want InvalidArgument", err)
	}
	if c := httpx.CapClient(nil, httpx.BodyCaps{}); c.Transport == nil {
		t.Error("CapClient(nil) has no transport; want one over http.DefaultTransport")
	}
}
