package identity

import (
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
)

// Backstage's app-config keys of its token issuer: backend.baseUrl (the
// iss), auth.backstageTokenExpiration, auth.identityTokenAlgorithm and
// auth.keyStore.provider.
func TestIssuerOptionsFromConfig(t *testing.T) {
	shared := NewMemoryKeyStore()
	info := &MemoryUserInfoStore{}
	for _, tc := range []struct {
		name string
		yaml string
		base *IssuerOptions
		want IssuerOptions
		err  string // a substring of the error; "" for none
	}{
		{name: "baseUrl only", yaml: "backend:\n  baseUrl: https://portal.example.com/\n",
			want: IssuerOptions{Issuer: "https://portal.example.com/api/auth"}},
		{name: "every key", yaml: "backend:\n  baseUrl: https://portal.example.com\nauth:\n  backstageTokenExpiration: 30 minutes\n  identityTokenAlgorithm: ES384\n  keyStore:\n    provider: database\n",
			base: &IssuerOptions{KeyStore: shared},
			want: IssuerOptions{Issuer: "https://portal.example.com/api/auth", Lifetime: 30 * time.Minute, Algorithm: "ES384", KeyStore: shared}},
		{name: "an object of units, ISO 8601", yaml: "backend:\n  baseUrl: http://localhost:7007\nauth:\n  backstageTokenExpiration: {hours: 2}\n",
			want: IssuerOptions{Issuer: "http://localhost:7007/api/auth", Lifetime: 2 * time.Hour}},
		{name: "ISO 8601", yaml: "backend:\n  baseUrl: http://localhost:7007\nauth:\n  backstageTokenExpiration: PT45M\n  keyStore:\n    provider: memory\n",
			want: IssuerOptions{Issuer: "http://localhost:7007/api/auth", Lifetime: 45 * time.Minute}},
		{name: "config overrides base", yaml: "backend:\n  baseUrl: https://portal.example.com\nauth:\n  identityTokenAlgorithm: ES512\n",
			base: &IssuerOptions{Issuer: "https://other.example.com/api/auth", Algorithm: "ES256", Lifetime: time.Hour},
			want: IssuerOptions{Issuer: "https://portal.example.com/api/auth", Algorithm: "ES512", Lifetime: time.Hour}},
		{name: "base supplies the issuer", yaml: "app:\n  title: x\n",
			base: &IssuerOptions{Issuer: "https://portal.example.com/api/auth"},
			want: IssuerOptions{Issuer: "https://portal.example.com/api/auth"}},
		{name: "no issuer", yaml: "app:\n  title: x\n", err: "backend.baseUrl: is empty"},
		{name: "baseUrl not a URL", yaml: "backend:\n  baseUrl: portal.example.com\n", err: "backend.baseUrl: must be"},
		{name: "bad duration", yaml: "backend:\n  baseUrl: https://p.example.com\nauth:\n  backstageTokenExpiration: soon\n", err: "auth.backstageTokenExpiration: "},
		{name: "RSA", yaml: "backend:\n  baseUrl: https://p.example.com\nauth:\n  identityTokenAlgorithm: RS256\n", err: `auth.identityTokenAlgorithm: scmkit signs with ES256, ES384 or ES512, not "RS256"`},
		{name: "database without a shared store", yaml: "backend:\n  baseUrl: https://p.example.com\nauth:\n  keyStore:\n    provider: database\n", err: "give IssuerOptions.KeyStore one"},
		{name: "omit ent, one replica", yaml: "backend:\n  baseUrl: https://p.example.com\nauth:\n  omitIdentityTokenOwnershipClaim: true\n",
			want: IssuerOptions{Issuer: "https://p.example.com/api/auth", OmitOwnershipClaim: true}},
		{name: "omit ent, a fleet", yaml: "backend:\n  baseUrl: https://p.example.com\nauth:\n  omitIdentityTokenOwnershipClaim: true\n  keyStore:\n    provider: database\n",
			base: &IssuerOptions{KeyStore: shared, UserInfo: info},
			want: IssuerOptions{Issuer: "https://p.example.com/api/auth", OmitOwnershipClaim: true, KeyStore: shared, UserInfo: info}},
		{name: "config keeps ent over base", yaml: "backend:\n  baseUrl: https://p.example.com\nauth:\n  omitIdentityTokenOwnershipClaim: false\n",
			base: &IssuerOptions{OmitOwnershipClaim: true}, want: IssuerOptions{Issuer: "https://p.example.com/api/auth"}},
		{name: "omit ent, a fleet without shared user info", yaml: "backend:\n  baseUrl: https://p.example.com\nauth:\n  omitIdentityTokenOwnershipClaim: true\n",
			base: &IssuerOptions{KeyStore: shared}, err: "auth.omitIdentityTokenOwnershipClaim: tokens without ent need the user info shared"},
		{name: "omit ent not a boolean", yaml: "backend:\n  baseUrl: https://p.example.com\nauth:\n  omitIdentityTokenOwnershipClaim: sometimes\n", err: "omitIdentityTokenOwnershipClaim"},
		{name: "static without keys", yaml: "backend:\n  baseUrl: https://p.example.com\nauth:\n  keyStore:\n    provider: static\n", err: "auth.keyStore.static.keys: lists no key"},
	} {
		cfg, err := config.LoadBytes(t.Context(), nil, []byte(tc.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := IssuerOptionsFromConfig(cfg, tc.base)
		if tc.err != "" {
			if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v; want InvalidArgument containing %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got.Issuer != tc.want.Issuer || got.Lifetime != tc.want.Lifetime || got.Algorithm != tc.want.Algorithm || got.KeyStore != tc.want.KeyStore ||
			got.OmitOwnershipClaim != tc.want.OmitOwnershipClaim || got.UserInfo != tc.want.UserInfo {
			t.Errorf("%s: got %+v; want %+v", tc.name, *got, tc.want)
		}
		if _, err := NewIssuer(got); err != nil {
			t.Errorf("%s: NewIssuer: %v", tc.name, err)
		}
	}
}

// An issuer URL from an unset variable says which.
func TestIssuerOptionsFromConfigUnsetVariable(t *testing.T) {
	cfg, err := config.LoadBytes(t.Context(), &config.Options{Lookup: func(string) (string, bool) { return "", false }},
		[]byte("backend:\n  baseUrl: ${PORTAL_URL}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = IssuerOptionsFromConfig(cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "PORTAL_URL") {
		t.Errorf("err = %v; want it to name PORTAL_URL", err)
	}
}
