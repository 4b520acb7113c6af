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
// QueryEscape changes ('+', '/', '=' ...) that value was none of the forms
// oauthError scrubs. A token endpoint that answered 200 with an "error"
// and echoed the header in error_description put it in the Warn record and
// the error (a 503 answer was scrubbed already, and is kept as a check).
func TestErrorHidesEscapedBasicEcho(t *testing.T) {
	const secret = "s3cr+t/val=ue+long"
	req, _ := http.NewRequest("POST", "http://token.example", nil)
	req.SetBasicAuth("consumer", "s3cr%2Bt%2Fval%3Due%2Blong")
	sent := strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
	for _, status := range []int{http.StatusOK, http.StatusServiceUnavailable} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"error": "temporarily_unavailable",
				"error_description": "try later; you sent " + r.Header.Get("Authorization")})
		}))
		cc := &clientcredentials.Config{ClientID: "consumer", ClientSecret: secret, TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInHeader}
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		src := clientCredentials("credentials.Resolve", cc, &ClientCredentialsOptions{HTTPClient: tokenClient(&ResolverOptions{MaxRetries: -1}), What: "the OAuth consumer x", Host: "bitbucket.org"}, log)
		_, err := src.Credential(t.Context())
		srv.Close()
		if err == nil {
			t.Fatalf("status %d: no error", status)
		}
		if strings.Contains(buf.String(), sent) {
			t.Errorf("status %d: the Warn record holds the Basic credentials %q", status, sent)
		}
		if strings.Contains(err.Error(), sent) {
			t.Errorf("status %d: the error holds the Basic credentials %q", status, sent)
		}
		if status == http.StatusOK && buf.Len() == 0 {
			t.Errorf("status %d: no Warn record (the check above tested nothing)", status)
		}
	}
}
