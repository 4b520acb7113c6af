//go:build linux

package testsvc

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// TestReservedPortIsNotHandedOut: while a port is reserved, no listener on
// port 0 and no outgoing connection gets it, connections to it are
// refused, and a server setting SO_REUSEADDR (as redis-server and slapd
// do) can still listen on it.
func TestReservedPortIsNotHandedOut(t *testing.T) {
	port, release, err := reservePort()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// Without the reservation (a port picked by listening on port 0 and
	// closing, as before), 5,000 listeners alone were given that port
	// again in 10 of 20 runs.
	for i := range 5000 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		got := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if got == port {
			t.Fatalf("listener %d was given the reserved port %d", i, port)
		}
		c, err := net.Dial("tcp", target.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		got = c.LocalAddr().(*net.TCPAddr).Port
		c.Close()
		if got == port {
			t.Fatalf("connection %d was given the reserved port %d as its local end", i, port)
		}
	}
	if _, err := net.Dial("tcp", Addr(port)); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to the reserved port: %v; want connection refused", err)
	}
	lc := net.ListenConfig{} // Go's listeners set SO_REUSEADDR, as the servers do
	l, err := lc.Listen(t.Context(), "tcp", Addr(port))
	if err != nil {
		t.Fatalf("a server could not listen on its reserved port: %v", err)
	}
	l.Close()
}
