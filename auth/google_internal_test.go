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
	// A generic provider configured with Google's issuer is Google's:
	// both forms are one issuer (or a refresh would end the session as
	// another user's), and the same e-mail rule holds.
	og, err := NewOIDC(OIDCOptions{ClientID: "portal", MetadataURL: "https://accounts.google.com"})
	if err != nil {
		t.Fatal(err)
	}
	if id := og.identity(&claims{Issuer: "accounts.google.com", Subject: "1", Email: "a@corp.example", EmailVerified: true}); id.Issuer != googleIssuer || id.EmailVerified {
		t.Errorf("generic provider at Google: %+v", id)
	}
}

// Google's email_verified is trusted only where Google is authoritative:
// a Gmail address, or a Workspace account's (hd). A consumer account
// registered with a company address is not verified here, even when
// Google says email_verified.
func TestGoogleEmailVerifiedOnlyWhereGoogleVouches(t *testing.T) {
	g, err := NewGoogle(GoogleOptions{ClientID: "portal"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		email, hd string
		verified  any
		want      bool
	}{
		{"alice@gmail.com", "", true, true},
		{"Alice@GMail.com", "", true, true},
		{"alice@corp.example", "corp.example", true, true},
		{"alice@corp.example", "", true, false}, // a consumer account with a company address
		{"alice@gmail.com.evil.example", "", true, false},
		{"alice@gmail.com", "", false, false},
		{"alice@corp.example", "corp.example", "false", false},
	} {
		id := g.identity(&claims{Issuer: googleIssuer, Subject: "1", Email: tc.email, HD: tc.hd, EmailVerified: tc.verified})
		if id.EmailVerified != tc.want {
			t.Errorf("%s (hd %q, email_verified %v): verified %v; want %v", tc.email, tc.hd, tc.verified, id.EmailVerified, tc.want)
		}
	}
	o, err := NewOIDC(OIDCOptions{ClientID: "portal", MetadataURL: "https://idp.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if id := o.identity(&claims{Issuer: "https://idp.example.com", Subject: "1", Email: "alice@corp.example", EmailVerified: true}); !id.EmailVerified {
		t.Errorf("a generic provider's email_verified was not taken")
	}
}
