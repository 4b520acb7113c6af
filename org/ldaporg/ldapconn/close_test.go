package ldapconn_test

import (
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org/ldaporg/ldapconn"
)

// TestCloseLifecycle: Close closes the idle connections at once and a
// connection in use when it is released; a second Close changes nothing;
// a Get after Close works and its connection is closed on release; a Get
// whose service bind is refused leaves no connection open after Close.
func TestCloseLifecycle(t *testing.T) {
	s := shared(t)
	p, err := ldapconn.New(opts(s, s.LDAPSURL))
	if err != nil {
		t.Fatal(err)
	}
	idle, err := p.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	busy, err := p.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	idle.Release()
	if open := p.Stats().Open; open != 2 {
		t.Fatalf("%d connections open, want 2", open)
	}
	for range 2 {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if open := p.Stats().Open; open != 1 {
			t.Fatalf("after Close: %d connections open, want 1 (the one in use)", open)
		}
	}
	busy.Release()
	if open := p.Stats().Open; open != 0 {
		t.Fatalf("after the release: %d connections open", open)
	}
	late, err := p.Get(t.Context())
	if err != nil {
		t.Fatalf("Get after Close: %v", err)
	}
	late.Release()
	if open := p.Stats().Open; open != 0 {
		t.Fatalf("a Get after Close left %d connections open", open)
	}

	o := opts(s, s.LDAPSURL)
	o.BindPassword = integrations.NewSecret("not-the-service-password")
	bad, err := ldapconn.New(o)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if c, err := bad.Get(t.Context()); err == nil {
			c.Release()
			t.Fatal("a refused service bind gave a connection")
		}
	}
	bad.Close()
	if open := bad.Stats().Open; open != 0 {
		t.Errorf("refused binds: %d connections open after Close", open)
	}
}
