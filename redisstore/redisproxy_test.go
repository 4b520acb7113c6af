package redisstore_test

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// redisProxy forwards a client's connections to a Redis at addr, and
// stands for a network that delays: while holdReplies is set, each script
// answer is held for replyDelay before it is passed on (a Redis that
// answers late: fork, swap); when holdRequest is armed, the next script
// command a client sends reaches Redis only after requestDelay (a request
// held in the network, which a command sent later on another connection
// overtakes).
type redisProxy struct {
	ln                       net.Listener
	holdReplies, holdRequest atomic.Bool
	replyDelay, requestDelay time.Duration
}

func (p *redisProxy) addr() string { return p.ln.Addr().String() }

func startRedisProxy(t *testing.T, addr string, replyDelay, requestDelay time.Duration) *redisProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &redisProxy{ln: ln, replyDelay: replyDelay, requestDelay: requestDelay}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			go p.pipe(s, c, func(b []byte) {
				if p.holdReplies.Load() && b[0] == '*' { // a script's answer, not a handshake
					time.Sleep(p.replyDelay)
				}
			}, 0)
			go p.pipe(c, s, func(b []byte) {
				if bytes.Contains(bytes.ToLower(b), []byte("evalsha")) && p.holdRequest.CompareAndSwap(true, false) {
					time.Sleep(p.requestDelay)
				}
			}, 300*time.Millisecond) // on close, let Redis run what it was sent
		}
	}()
	return p
}

// pipe copies from to to, calling delay before each chunk, and closes to
// linger after from ends.
func (p *redisProxy) pipe(from, to net.Conn, delay func([]byte), linger time.Duration) {
	buf := make([]byte, 64<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			delay(buf[:n])
			if _, werr := to.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	time.Sleep(linger)
	to.Close()
}
