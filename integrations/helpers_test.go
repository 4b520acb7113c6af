package integrations

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"
)

// testKeys holds PEM keys generated once per test binary.
type testKeys struct {
	pkcs1, pkcs8, ec string
}

var keysOnce = sync.OnceValues(func() (testKeys, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return testKeys{}, err
	}
	p8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return testKeys{}, err
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return testKeys{}, err
	}
	e8, err := x509.MarshalPKCS8PrivateKey(ek)
	if err != nil {
		return testKeys{}, err
	}
	return testKeys{
		pkcs1: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})),
		pkcs8: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})),
		ec:    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: e8})),
	}, nil
})

func keys(t testing.TB) testKeys {
	t.Helper()
	k, err := keysOnce()
	if err != nil {
		t.Fatalf("generating test keys: %v", err)
	}
	return k
}

// testConfig is a registry config with one non-default entry per provider,
// with ports, a GitLab sub-path and a Bitbucket Server context path.
func testConfig() Config {
	return Config{
		GitHub: []GitHubConfig{
			{Host: "github.com", Token: NewSecret("ghp-host-wide")},
			{Host: "ghe.example.com:8443", APIBaseURL: "https://ghe.example.com:8443/api/v3/"},
		},
		GitLab: []GitLabConfig{
			{Host: "git.example.com", APIBaseURL: "https://git.example.com/gitlab/api/v4", BaseURL: "https://git.example.com/gitlab/"},
		},
		BitbucketServer: []BitbucketServerConfig{
			{Host: "bitbucket.example.com:7990"},
			{Host: "bb.example.com", APIBaseURL: "https://bb.example.com/bitbucket/rest/api/1.0"},
		},
	}
}

func testRegistry(t testing.TB) *Registry {
	t.Helper()
	r, err := NewRegistry(testConfig())
	if err != nil {
		t.Fatalf("NewRegistry(testConfig()) = %v", err)
	}
	return r
}
