package testsvc

import (
	"bufio"
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Redis is a redis-server started by [StartRedis] for one test: on a free
// loopback port, without persistence (--save ” --appendonly no), in a
// throw-away directory, stopped when the test ends. Stop and Start let a
// test take it down and bring it back on the same address: the port stays
// reserved for the test meanwhile (on Linux), so no other server or
// connection of the machine takes it while Redis is down.
type Redis struct {
	// Addr is host:port on 127.0.0.1.
	Addr string

	tb   testing.TB
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts a redis-server for tb (skipping or failing the test as
// [Require] does when it is not installed) and stops it in tb.Cleanup.
func StartRedis(tb testing.TB) *Redis {
	tb.Helper()
	bin := Require(tb, "redis-server", "redis-server")
	r := &Redis{tb: tb, bin: bin, dir: tb.TempDir()}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var release func()
		r.port, release, err = reservePort()
		if err != nil {
			tb.Fatalf("reserving a port for redis-server: %v", err)
		}
		r.Addr = Addr(r.port)
		if err = r.start(); err == nil {
			// The port stays reserved until the test ends, so that
			// Start finds it free after Stop.
			tb.Cleanup(func() { r.Stop(); release() })
			return r
		}
		release()
	}
	tb.Fatalf("starting redis-server: %v", err)
	return nil
}

// URL returns the redis:// URL of the server, database db.
func (r *Redis) URL(db int) string { return "redis://" + r.Addr + "/" + strconv.Itoa(db) }

// Start starts the server again on the same address after [Redis.Stop]; it
// fails the test if it cannot.
func (r *Redis) Start() {
	r.tb.Helper()
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if err = r.start(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.tb.Fatalf("restarting redis-server on %s: %v", r.Addr, err)
}

func (r *Redis) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return nil
	}
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir,
		"--daemonize", "no", "--loglevel", "warning", "--logfile", "")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }() //nolint:errcheck // the exit status of a stopped server does not matter
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return &startError{out: out.String()}
		default:
		}
		if ping(r.Addr) {
			r.cmd, r.done = cmd, done
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill() //nolint:errcheck // best effort
	<-done
	return &startError{out: "did not answer PING within 5s: " + out.String()}
}

type startError struct{ out string }

func (e *startError) Error() string { return "redis-server exited: " + strings.TrimSpace(e.out) }

// Stop kills the server (as a crash would: no shutdown save, nothing kept)
// and waits for it to exit. Stopping a stopped server does nothing.
func (r *Redis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill() //nolint:errcheck // it may have exited already
	<-r.done
	r.cmd, r.done = nil, nil
}

// ping sends PING in RESP and reports whether the answer is +PONG.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second)) //nolint:errcheck // a failed deadline shows as a failed read
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}
