package credentials

import (
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/integrations"
)

// TestTransportNoCredentialToTheOtherSchemesDefaultPort: the default port
// of one scheme, written explicitly under the other (https://host:80,
// http://host:443), is another service on the integration's host, not the
// one the configuration names: NormalizeHost drops both ports, but the
// credential must not follow. Checked in both Transport modes, directly
// and through a redirect on the same host.
func TestTransportNoCredentialToTheOtherSchemesDefaultPort(t *testing.T) {
	cfg := integrations.Config{GitLab: []integrations.GitLabConfig{
		{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4", Token: secret("glpat-tls")},
		{Host: "plain.example.com", APIBaseURL: "http://plain.example.com/api/v4", Token: secret("glpat-plain")},
	}}
	r, err := newResolver(testIntegrations(cfg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := integrations.NewRegistry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url, want string
	}{
		{"https://gitlab.example.com/api/v4/projects", "Bearer glpat-tls"},
		{"https://gitlab.example.com:443/api/v4/projects", "Bearer glpat-tls"},
		{"https://gitlab.example.com:80/api/v4/projects", ""},
		{"http://plain.example.com/api/v4/projects", "Bearer glpat-plain"},
		{"http://plain.example.com:80/api/v4/projects", "Bearer glpat-plain"},
		{"http://plain.example.com:443/api/v4/projects", ""},
		{"https://plain.example.com:80/api/v4/projects", ""},
	}
	for _, mode := range []string{"resolver", "fixed"} {
		for _, tt := range tests {
			t.Run(mode+" "+tt.url, func(t *testing.T) {
				var got []string
				base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
					got = append(got, req.Header.Get("Authorization"))
					return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
				})
				tr := &Transport{Base: base, Resolver: r}
				if mode == "fixed" {
					in, _ := reg.Owning(mustHost(t, tt.url))
					tok := "glpat-tls"
					if in.Host == "plain.example.com" {
						tok = "glpat-plain"
					}
					tr = &Transport{Base: base, Registry: reg, Request: Request{Host: in.Host},
						Credential: &Credential{Kind: KindToken, Token: tok}}
				}
				get(t, &http.Client{Transport: tr}, tt.url)
				if len(got) != 1 || got[0] != tt.want {
					t.Errorf("Authorization = %q; want %q", got, tt.want)
				}
			})
		}
	}
	// A redirect from the configured port to the other scheme's default
	// port on the same host: the second hop goes out bare.
	var got []string
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		got = append(got, req.URL.String()+" "+req.Header.Get("Authorization"))
		if req.URL.Port() == "" {
			h := http.Header{"Location": {"https://gitlab.example.com:80/x"}}
			return &http.Response{StatusCode: http.StatusFound, Header: h, Body: http.NoBody, Request: req}, nil
		}
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
	})
	get(t, &http.Client{Transport: &Transport{Base: base, Resolver: r}}, "https://gitlab.example.com/api/v4/projects")
	want := []string{"https://gitlab.example.com/api/v4/projects Bearer glpat-tls", "https://gitlab.example.com:80/x "}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("requests = %q; want %q", got, want)
	}
}

func mustHost(t *testing.T, raw string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req.URL.Host
}
