package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// FuzzDeviceAuthAnswers feeds the device authorization endpoint's answers
// (status and JSON) to GitHub's and GitLab's DeviceAuth. Nothing panics;
// every error is an *errcode.Error that shows neither the answer's
// device code nor the client secret; a DeviceCode returned has a short
// printable user code, verification pages that are pages of the
// provider's own host (http on loopback here) in printable ASCII (they
// are shown to the user, in a terminal too), an interval of at least a
// second and an expiry within 30 minutes, and never prints, logs or
// marshals its device code.
func FuzzDeviceAuthAnswers(f *testing.F) {
	var mu sync.Mutex
	var status int
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st, b := status, body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		w.Write(b)
	}))
	f.Cleanup(srv.Close)
	const secret = "client-secret-0123456789"
	gh, err := auth.NewGitHub(auth.GitHubOptions{ClientID: "Iv1.portal", EnterpriseInstanceURL: srv.URL})
	if err != nil {
		f.Fatal(err)
	}
	gl, err := auth.NewGitLab(auth.GitLabOptions{ClientID: "portal", ClientSecret: integrations.NewSecret(secret), BaseURL: srv.URL})
	if err != nil {
		f.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	// Seeds in testdata/fuzz/FuzzDeviceAuthAnswers; "$WEB" in the answer
	// is the provider's URL.
	f.Fuzz(func(t *testing.T, st int, answer string) {
		b := []byte(strings.ReplaceAll(answer, "$WEB", srv.URL))
		mu.Lock()
		status, body = pickStatus(st, 200, 200, 200, 400, 401, 404, 500), b
		mu.Unlock()
		var sent struct {
			DeviceCode string `json:"device_code"`
		}
		_ = json.Unmarshal(b, &sent)
		hidden := []string{secret}
		if len(sent.DeviceCode) >= 8 {
			hidden = append(hidden, sent.DeviceCode)
		}
		for _, p := range []auth.DeviceProvider{gh, gl} {
			start := time.Now()
			dc, err := p.DeviceAuth(context.Background(), nil)
			if err != nil {
				var e *errcode.Error
				if !errors.As(err, &e) {
					t.Fatalf("%v: %T %v, want an *errcode.Error", p, err, err)
				}
				for _, s := range hidden {
					if strings.Contains(err.Error(), s) {
						t.Fatalf("%v: the error %q shows %q", p, err, s)
					}
				}
				continue
			}
			if dc.UserCode == "" || len(dc.UserCode) > 64 || strings.ContainsFunc(dc.UserCode, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
				t.Fatalf("%v: user code %q", p, dc.UserCode)
			}
			for _, page := range []string{dc.VerificationURI, dc.VerificationURIComplete} {
				if page == "" && dc.VerificationURI != "" {
					continue // no complete page
				}
				u, err := url.Parse(page)
				if err != nil || u.Host != host || u.User != nil {
					t.Fatalf("%v: verification page %q is not the provider's (%s)", p, page, host)
				}
				if strings.ContainsFunc(page, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
					t.Fatalf("%v: verification page %q is not printable ASCII", p, page)
				}
			}
			if dc.Interval < time.Second || dc.Expiry.After(start.Add(30*time.Minute+time.Second)) {
				t.Fatalf("%v: interval %v, expiry in %v", p, dc.Interval, time.Until(dc.Expiry))
			}
			var out bytes.Buffer
			fmt.Fprintf(&out, "%v %+v %#v %s %q", dc, dc, dc, dc, dc)
			slog.New(slog.NewJSONHandler(&out, nil)).Info("device", "code", dc)
			j, _ := json.Marshal(dc)
			out.Write(j)
			if len(sent.DeviceCode) >= 8 && strings.Contains(out.String(), sent.DeviceCode) {
				t.Fatalf("%v: the device code shows in %q", p, out.String())
			}
		}
	})
}
