package auth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// answeringOP is an OpenID provider whose discovery document and keys are
// fixed and whose token endpoint and userinfo answer what a test sets.
// It signs the ID tokens the test asks for with its key, so that answers
// get past the signature to the checks after it.
type answeringOP struct {
	srv *httptest.Server
	key *rsa.PrivateKey

	mu          sync.Mutex
	tokenStatus int
	tokenBody   []byte
	userinfo    []byte
}

func newAnsweringOP(t testing.TB) *answeringOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &answeringOP{key: key}
	mux := http.NewServeMux()
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	iss := op.srv.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"userinfo_endpoint": iss + "/userinfo", "jwks_uri": iss + "/keys",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "k1",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		st, body := op.tokenStatus, op.tokenBody
		op.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		w.Write(body)
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		body := op.userinfo
		op.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	return op
}

// sign returns claims (JSON, as given) as an RS256 ID token of op's key.
func (op *answeringOP) sign(claims string) string {
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims))
	sum := sha256.Sum256([]byte(in))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, op.key, crypto.SHA256, sum[:])
	return in + "." + enc.EncodeToString(sig)
}

// answer sets what the token endpoint and userinfo answer next. The
// token body is tokenJSON with an ID token of claims (unless it has
// one, or claims is empty) when it is a JSON object, else tokenJSON as
// it is; answer returns the body.
func (op *answeringOP) answer(status int, tokenJSON, claims, userinfo string) []byte {
	body := []byte(tokenJSON)
	var obj map[string]any
	if claims != "" && json.Unmarshal(body, &obj) == nil && obj != nil {
		if _, ok := obj["id_token"]; !ok {
			obj["id_token"] = op.sign(strings.ReplaceAll(claims, "$ISS", op.srv.URL))
		}
		body, _ = json.Marshal(obj)
	}
	op.mu.Lock()
	op.tokenStatus, op.tokenBody, op.userinfo = status, body, []byte(userinfo)
	op.mu.Unlock()
	return body
}

// pickStatus returns st if it is one of statuses, else one of them
// chosen by st.
func pickStatus(st int, statuses ...int) int {
	if slices.Contains(statuses, st) {
		return st
	}
	return statuses[int(uint(st)%uint(len(statuses)))]
}

// secretsOf returns the tokens of body, a token endpoint's answer that
// is not an error answer, long enough to be told apart from words.
func secretsOf(body []byte) []string {
	var obj map[string]any
	if json.Unmarshal(body, &obj) != nil || obj["error"] != nil {
		return nil
	}
	var out []string
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if s, ok := obj[k].(string); ok && len(s) >= 12 {
			out = append(out, s)
		}
	}
	return out
}

// FuzzOIDCAnswers feeds an OpenID provider's answers to a sign-in
// (Exchange) and a refresh: the token endpoint's status and JSON (with an
// ID token signed by the provider's key over the fuzzer's claims) and
// userinfo's JSON. Nothing panics; every error is an *errcode.Error that
// shows none of the tokens of the answer, nor the code, the verifier,
// the refresh token sent or the client secret; a sign-in that succeeds
// holds the answer's access token and names its user (OpenID Connect
// Core: sub is required), and a refresh that succeeds holds the new
// access token.
func FuzzOIDCAnswers(f *testing.F) {
	op := newAnsweringOP(f)
	const secret = "client-secret-0123456789"
	p, err := auth.NewOIDC(auth.OIDCOptions{ClientID: "portal", ClientSecret: integrations.NewSecret(secret), MetadataURL: op.srv.URL + "/.well-known/openid-configuration"})
	if err != nil {
		f.Fatal(err)
	}
	// Seeds in testdata/fuzz/FuzzOIDCAnswers; "$ISS" in claims is the
	// provider's issuer.
	code, verifier, oldRT := "code-0123456789abcdef", "verifier-0123456789abcdef0123456789abcdef0123", "rt-old-0123456789abcdef"
	f.Fuzz(func(t *testing.T, status int, tokenJSON, claims, userinfo string) {
		// No 429: the provider remembers a rate limit for minutes.
		st := pickStatus(status, 200, 200, 200, 400, 401, 403, 500, 503)
		body := op.answer(st, tokenJSON, claims, userinfo)
		answer := secretsOf(body)
		check := func(what string, err error, sent ...string) {
			var e *errcode.Error
			if !errors.As(err, &e) {
				t.Fatalf("%s: %T %v, want an *errcode.Error", what, err, err)
			}
			msg := err.Error()
			for _, s := range append(append(answer, secret), sent...) {
				if strings.Contains(msg, s) {
					t.Fatalf("%s: the error %q shows %q (answer %q)", what, msg, s, body)
				}
			}
		}
		var want struct {
			AccessToken string `json:"access_token"`
		}
		wantOK := json.Unmarshal(body, &want) == nil
		ctx := context.Background()
		res, err := p.Exchange(ctx, auth.Callback{Code: code, CodeVerifier: verifier, RedirectURI: "https://portal.example.com/api/auth/oidc/handler/frame", Nonce: "nonce-0123456789"})
		if err != nil {
			check("sign-in", err, code, verifier)
		} else {
			if res.Identity.Subject == "" {
				t.Fatalf("a sign-in names no user (answer %q)", body)
			}
			if !wantOK || res.Tokens.AccessToken != want.AccessToken || res.Tokens.AccessToken == "" {
				t.Fatalf("a sign-in holds access token %q, the answer %q", res.Tokens.AccessToken, body)
			}
		}
		res, err = p.Refresh(ctx, auth.Tokens{RefreshToken: oldRT})
		if err != nil {
			check("refresh", err, oldRT)
		} else if !wantOK || res.Tokens.AccessToken != want.AccessToken || res.Tokens.AccessToken == "" {
			t.Fatalf("a refresh holds access token %q, the answer %q", res.Tokens.AccessToken, body)
		}
	})
}
