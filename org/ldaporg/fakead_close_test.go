package ldaporg_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/org/ldaporg"
	"github.com/scmkit/scmkit/org/ldaporg/fakead"
)

// TestFakeADCloseWithAnOpenReader (review 29, point 7): a test that
// forgets to close its ldaporg.Reader held fakead's Close (and so the
// test binary) until the test timeout, as the directory cannot end the
// reader's pooled connection. Close now returns, after CloseWait, an
// error that says to close the reader; closed, the server stops.
func TestFakeADCloseWithAnOpenReader(t *testing.T) {
	s, err := fakead.New(adDirectory(), map[string]string{adSvc: adSvcPW})
	if err != nil {
		t.Fatal(err)
	}
	s.CloseWait = 200 * time.Millisecond
	r, err := ldaporg.New(adConfig(s, 100), &ldaporg.Options{TLS: &tls.Config{RootCAs: s.CAPool}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(t.Context()); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err = <-closed:
	case <-time.After(3 * time.Second):
		r.Close()
		t.Fatal("fakead's Close did not return while a reader's connection was open")
	}
	if err == nil || !strings.Contains(err.Error(), "ldaporg.Reader.Close") {
		t.Errorf("Close with a reader open: %v, want an error saying to close the reader", err)
	}
	r.Close()
	if err := s.Close(); err != nil {
		t.Errorf("Close after the reader's: %v", err)
	}
}
