package githubapp_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx/httpxtest"
)

var testKeyPEM = sync.OnceValue(func() string {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
})

// answerGitHub answers an installation lookup and a token mint as GitHub
// does, and anything else with 404.
func answerGitHub(req *http.Request) *http.Response {
	resp := &http.Response{Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, Request: req}
	switch req.Method + " " + req.URL.Path {
	case "GET /repos/acme/widgets/installation":
		resp.StatusCode = http.StatusOK
		resp.Body = io.NopCloser(strings.NewReader(`{"id":42,"app_id":4242,"account":{"login":"acme","type":"Organization"},"repository_selection":"all","permissions":{"contents":"read"}}`))
	case "POST /app/installations/42/access_tokens":
		resp.StatusCode = http.StatusCreated
		exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		resp.Body = io.NopCloser(strings.NewReader(`{"token":"ghs_classifycase","expires_at":"` + exp + `","permissions":{"contents":"read"},"repository_selection":"all"}`))
	default:
		resp.StatusCode = http.StatusNotFound
		resp.Body = io.NopCloser(strings.NewReader(`{"message":"Not Found"}`))
	}
	return resp
}

// TestClassifyCases runs internal/httpx's classification cases (the
// table httpx's own TestClassifyCases runs) through the App's two calls:
// the installation lookup (GET) and the token mint (POST). The App must
// agree with httpx on each: the same code, the same waits and RetryAt,
// the same number of requests.
func TestClassifyCases(t *testing.T) {
	t.Parallel()
	key := testKeyPEM()
	for _, tc := range httpxtest.Cases {
		for _, target := range []string{"GET /repos/acme/widgets/installation", "POST /app/installations/42/access_tokens"} {
			t.Run(tc.Name+" on "+target, func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) {
					// Realistic epoch times (the bubble starts in 2000).
					time.Sleep(time.Until(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
					gh := &httpxtest.Script{Case: tc, Next: answerGitHub,
						Target: func(req *http.Request) bool { return req.Method+" "+req.URL.Path == target }}
					app, err := githubapp.New("https://api.github.com", integrations.GitHubAppConfig{AppID: 4242, PrivateKey: integrations.NewSecret(key)},
						&githubapp.Options{HTTPClient: &http.Client{Transport: gh}, MinWait: time.Second, MaxRateLimitWait: tc.MaxRateLimitWait})
					if err != nil {
						t.Fatal(err)
					}
					start := time.Now()
					_, err = app.Token(t.Context(), "acme", "widgets")
					e := tc.Check(t, err, start, gh.Times(), "ghs_", "eyJ")
					if e != nil && (e.Status != tc.Status || e.Op == "" || e.Provider != "github") {
						t.Errorf("error %+v: want Status %d, an Op and Provider github", e, tc.Status)
					}
				})
			})
		}
	}
}
