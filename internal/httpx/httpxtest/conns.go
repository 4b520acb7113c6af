package httpxtest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Conns counts the connections of one client-side http.Transport: how many
// it dialled and how many are still open. A response body that is never
// closed keeps its connection open (and its two transport goroutines
// running) after the transport's idle connections are closed; a body closed
// early closes its connection; a body drained and closed returns its
// connection for reuse. Build one with [CountConns].
type Conns struct {
	tr     *http.Transport
	dialed atomic.Int64
	open   atomic.Int64
}

// CountConns returns a Conns whose Transport is a clone of
// http.DefaultTransport dialling through a counting dialer. Its idle
// connections are closed when tb ends.
func CountConns(tb testing.TB) *Conns {
	c := &Conns{tr: http.DefaultTransport.(*http.Transport).Clone()}
	var d net.Dialer
	c.tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c.dialed.Add(1)
		c.open.Add(1)
		return &countedConn{Conn: nc, open: &c.open}, nil
	}
	tb.Cleanup(c.tr.CloseIdleConnections)
	return c
}

// Transport is the counting transport, for a client under test.
func (c *Conns) Transport() *http.Transport { return c.tr }

// Dialed is the number of connections dialled so far.
func (c *Conns) Dialed() int { return int(c.dialed.Load()) }

// CheckNoneLeft closes the transport's idle connections and fails tb if a
// connection is still open a second later: one whose response body nobody
// closed.
func (c *Conns) CheckNoneLeft(tb testing.TB) {
	tb.Helper()
	c.tr.CloseIdleConnections()
	deadline := time.Now().Add(time.Second)
	for c.open.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := c.open.Load(); n != 0 {
		tb.Errorf("%d connection(s) still open after closing the idle ones: a response body was not closed", n)
	}
}

type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}
