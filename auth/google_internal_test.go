package auth

import "testing"

// Google's ID tokens name the issuer with or without the scheme (go-oidc
// accepts both for Google); the identity is the same account either way,
// and only Google's provider folds the two.
func TestGoogleIdentityIssuerIsOneForm(t *testing.T) {
	g, err := NewGoogle(GoogleOptions{ClientID: "portal"})
	if err != nil {
		t.Fatal(err)
	}
	for _, iss := range []string{"accounts.google.com", "https://accounts.google.com"} {
		if id := g.identity(&claims{Issuer: iss, Subject: "1098765"}); id.Issuer != "https://accounts.google.com" || id.Subject != "1098765" {
			t.Errorf("identity of an ID token from %q = %+v; want issuer https://accounts.google.com", iss, id)
		}
	}
	o, err := NewOIDC(OIDCOptions{ClientID: "portal", MetadataURL: "https://idp.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if id := o.identity(&claims{Issuer: "accounts.google.com", Subject: "1"}); id.Issuer != "accounts.google.com" {
		t.Errorf("a generic provider changed the issuer to %q", id.Issuer)
	}
}
