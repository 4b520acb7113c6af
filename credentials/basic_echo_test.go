package credentials

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Regression (review of the Logger): oauth2 sends the client id and secret
// as Basic base64(QueryEscape(id):QueryEscape(secret)); with a secret that
// QueryEscape changes ('+', '/', '=' ...) that value is none of the forms
// oauthError scrubs. A token endpoint that answers 200 with an "error"
// and echoes the header in error_description (Unavailable) puts it in the
// Warn record (and the error).
func TestErrorHidesEscapedBasicEcho(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable",
			"error_description": "try later; you sent " + r.Header.Get("Authorization")})
	}))
	defer srv.Close()
	const secret = "s3cr+t/val=ue+long"
	cc := &clientcredentials.Config{ClientID: "consumer", ClientSecret: secret, TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInHeader}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	src := clientCredentials("credentials.Resolve", cc, &ClientCredentialsOptions{HTTPClient: tokenClient(&ResolverOptions{MaxRetries: -1}), What: "the OAuth consumer x", Host: "bitbucket.org"}, log)
	_, err := src.Credential(t.Context())
	if err == nil {
		t.Fatal("no error")
	}
	req, _ := http.NewRequest("POST", srv.URL, nil)
	req.SetBasicAuth("consumer", "s3cr%2Bt%2Fval%3Due%2Blong")
	sent := strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
	t.Logf("log: %s", buf.String())
	if strings.Contains(buf.String(), sent) {
		t.Errorf("the Warn record holds the Basic credentials %q", sent)
	}
	if strings.Contains(err.Error(), sent) {
		t.Errorf("the error holds the Basic credentials %q", sent)
	}
}
func TestErrorHidesEscapedBasicEcho503(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable",
			"error_description": "try later; you sent " + r.Header.Get("Authorization")})
	}))
	defer srv.Close()
	const secret = "s3cr+t/val=ue+long"
	cc := &clientcredentials.Config{ClientID: "consumer", ClientSecret: secret, TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInHeader}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	src := clientCredentials("credentials.Resolve", cc, &ClientCredentialsOptions{HTTPClient: tokenClient(&ResolverOptions{MaxRetries: -1}), What: "the OAuth consumer x", Host: "bitbucket.org"}, log)
	_, err := src.Credential(t.Context())
	if err == nil {
		t.Fatal("no error")
	}
	req, _ := http.NewRequest("POST", srv.URL, nil)
	req.SetBasicAuth("consumer", "s3cr%2Bt%2Fval%3Due%2Blong")
	sent := strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
	t.Logf("log: %s", buf.String())
	if strings.Contains(buf.String(), sent) {
		t.Errorf("the Warn record holds the Basic credentials %q", sent)
	}
	if strings.Contains(err.Error(), sent) {
		t.Errorf("the error holds the Basic credentials %q", sent)
	}
}
