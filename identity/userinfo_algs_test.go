package identity

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Replicas sharing their key and user info stores while the fleet moves
// from ES256 to ES384 (auth.identityTokenAlgorithm changed, a rolling
// deploy): each one's JWKS serves the other's keys, so its user info
// endpoint must answer for the other's tokens too. Replica B's endpoint
// verified only ES384 tokens and answered 401 to A's ES256 token, so a
// verifier refused A's users whose tokens carry no ent.
func TestUserInfoAcrossAlgorithms(t *testing.T) {
	c := newClock()
	st := &MemoryKeyStore{now: c.Now}
	info := &MemoryUserInfoStore{clock: c.Now}
	mk := func(alg string) *Issuer {
		is, err := NewIssuer(&IssuerOptions{Issuer: "https://portal.example.com/api/auth", Now: c.Now, KeyStore: st, Algorithm: alg,
			OmitOwnershipClaim: true, UserInfo: info, Lifetime: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	a, b := mk("ES256"), mk("ES384")
	tok, err := a.Issue(t.Context(), IssueRequest{Subject: "user:default/alice", Ent: []string{"user:default/alice", "group:default/team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/jwks", b.JWKSHandler())
	mux.Handle("/userinfo", b.UserInfoHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	v, err := NewVerifier(&VerifierOptions{JWKSURL: srv.URL + "/jwks", UserInfoURL: srv.URL + "/userinfo", Now: c.Now, Algorithms: []string{"ES256", "ES384"}})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(t.Context(), tok.Token)
	if err != nil {
		t.Fatalf("A's ES256 token through B (ES384): %v", err)
	}
	if len(claims.Ent) != 2 {
		t.Errorf("ent = %v", claims.Ent)
	}
}
