package ldaporg_test

import (
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/org/ldaporg"
)

// The fake AD's CA goes through the config's tls.ca, as a directory with a
// private CA is configured; without it the error names the keys to set.
func TestPrivateCAThroughConfig(t *testing.T) {
	s := startAD(t)
	c := adConfig(s, 100)
	r, err := ldaporg.New(c, &ldaporg.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Read(t.Context()); err == nil || !strings.Contains(err.Error(), "tls.ca (PEM) or tls.caFile") {
		t.Errorf("without the CA: %v; want an error naming tls.ca and tls.caFile", err)
	}
	c.TLS = &ldaporg.TLSConfig{CA: s.CAPEM}
	r2, err := ldaporg.New(c, &ldaporg.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, err := r2.Read(t.Context()); err != nil {
		t.Errorf("with tls.ca: %v", err)
	}
}
