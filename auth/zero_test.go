package auth_test

import (
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// TestZeroProviders: a provider not made by its constructor fails with
// InvalidArgument instead of a nil dereference. The zero OIDC's used to
// panic inside the discovery's singleflight goroutine, which no recover
// of the caller's sees: it ended the process.
func TestZeroProviders(t *testing.T) {
	for name, p := range map[string]auth.RedirectProvider{
		"GitHub": &auth.GitHub{}, "GitLab": &auth.GitLab{}, "Bitbucket": &auth.Bitbucket{}, "OIDC": &auth.OIDC{},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			if _, err := p.AuthCodeURL(ctx, auth.AuthRequest{State: "s", RedirectURI: "https://portal.example/cb", CodeChallenge: "c", Nonce: "n"}); errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("AuthCodeURL = %v; want InvalidArgument", err)
			}
			if _, err := p.Exchange(ctx, auth.Callback{Code: "c", RedirectURI: "https://portal.example/cb", CodeVerifier: "v", Nonce: "n"}); errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Errorf("Exchange = %v; want InvalidArgument", err)
			}
			if _, err := p.Refresh(ctx, auth.Tokens{AccessToken: "a", RefreshToken: "r"}); err == nil {
				t.Error("Refresh succeeded")
			}
			if d, ok := p.(auth.DeviceProvider); ok {
				if _, err := d.DeviceAuth(ctx, nil); errcode.CodeOf(err) != errcode.InvalidArgument {
					t.Errorf("DeviceAuth = %v; want InvalidArgument", err)
				}
			}
		})
	}
}
