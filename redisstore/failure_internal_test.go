package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/testsvc/testclock"
	"github.com/scmkit/scmkit/internal/testsvc/testlog"
)

// reply is an error reply as go-redis reports it: a redis.Error.
type reply string

func (r reply) Error() string { return string(r) }
func (reply) RedisError()     {}

// TestFailureClassifies: only errors that mean Redis cannot serve the
// store (no answer, or an answer every command gets) open the circuit
// breaker; a refusal of one command fails that command, with a code that
// says whether trying later may pass, and a message that says what Redis
// refused and what to do.
func TestFailureClassifies(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379}, Err: syscall.ECONNREFUSED}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	tests := []struct {
		name string
		err  error
		down bool
		code errcode.Code
		msg  string // in the message
	}{
		{"connection refused", dial, true, errcode.Unavailable, "did not answer"},
		{"connection reset", reset, true, errcode.Unavailable, "did not answer"},
		{"timeout", context.DeadlineExceeded, true, errcode.Unavailable, "did not answer"},
		{"pool timeout", redis.ErrPoolTimeout, true, errcode.Unavailable, "did not answer"},
		{"closed client", redis.ErrClosed, true, errcode.Unavailable, "did not answer"},
		{"EOF", io.EOF, true, errcode.Unavailable, "did not answer"},
		{"LOADING", reply("LOADING Redis is loading the dataset in memory"), true, errcode.Unavailable, "Redis refused: LOADING"},
		{"BUSY", reply("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."), true, errcode.Unavailable, "Redis refused: BUSY"},
		{"MASTERDOWN", reply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."), true, errcode.Unavailable, "Redis refused: MASTERDOWN"},
		{"CLUSTERDOWN", reply("CLUSTERDOWN The cluster is down"), true, errcode.Unavailable, "Redis refused: CLUSTERDOWN"},
		{"TRYAGAIN", reply("TRYAGAIN Multiple keys request during rehashing of slot"), true, errcode.Unavailable, "TRYAGAIN"},
		{"maxclients", reply("ERR max number of clients reached"), true, errcode.Unavailable, "maxclients"},
		{"NOAUTH", reply("NOAUTH Authentication required."), true, errcode.Unavailable, "Redis refused: NOAUTH"},
		{"WRONGPASS", reply("WRONGPASS invalid username-password pair or user is disabled."), true, errcode.Unavailable, "WRONGPASS"},

		{"OOM", reply("OOM command not allowed when used memory > 'maxmemory'."), false, errcode.Unavailable, "Redis refused: OOM"},
		{"OOM in a script", reply("OOM command not allowed when used memory > 'maxmemory'. script: 085b, on @user_script:1."), false, errcode.Unavailable, "maxmemory-policy"},
		{"READONLY", reply("READONLY You can't write against a read only replica."), false, errcode.Unavailable, "Redis refused: READONLY"},
		{"READONLY in a script, Redis 6", reply("ERR Error running script (call to f_085b): @user_script:1: @user_script: 1: -READONLY You can't write against a read only replica."), false, errcode.Unavailable, "Redis refused: READONLY"},
		{"OOM in a script, Redis 6", reply("ERR Error running script (call to f_085b): @user_script:6: @user_script: 6: -OOM command not allowed when used memory > 'maxmemory'.  "), false, errcode.Unavailable, "Redis refused: OOM"},
		{"NOPERM in a script, Redis 6", reply("ERR Error running script (call to f_085b): @user_script:2: @user_script: 2: -NOPERM this user has no permissions to access one of the keys used as arguments"), false, errcode.PermissionDenied, "Redis refused: NOPERM"},
		{"a script's own error, Redis 6", reply("ERR Error running script (call to f_085b): @user_script:1: user_script:1: attempt to compare nil with number"), false, errcode.Unknown, "Redis refused: an error reply"},
		{"DENIED", reply("DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user."), true, errcode.Unavailable, "Redis refused: DENIED"},
		{"invalid password, Redis 5", reply("ERR invalid password"), true, errcode.Unavailable, "WRONGPASS"},
		{"AUTH without a password configured", reply("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"), true, errcode.Unavailable, "Redis refused: AUTH"},
		{"MISCONF", reply("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."), false, errcode.Unavailable, "Redis refused: MISCONF"},
		{"NOREPLICAS", reply("NOREPLICAS Not enough good replicas to write."), false, errcode.Unavailable, "Redis refused: NOREPLICAS"},
		{"NOPERM", reply("NOPERM User app has no permissions to run the 'evalsha' command"), false, errcode.PermissionDenied, "Redis refused: NOPERM"},
		{"WRONGTYPE", reply("WRONGTYPE Operation against a key holding the wrong kind of value"), false, errcode.Unknown, "Redis refused: WRONGTYPE"},
		{"EXECABORT", reply("EXECABORT Transaction discarded because of previous errors."), false, errcode.Unknown, "Redis refused"},
		{"NOSCRIPT", redis.ErrNoScript, false, errcode.Unknown, "Redis refused"},
		{"unknown command", reply("ERR unknown command 'EVALSHA', with args beginning with: "), false, errcode.Unknown, "Redis refused"},
		{"wrapped", fmt.Errorf("hook: %w", reply("OOM command not allowed when used memory > 'maxmemory'.")), false, errcode.Unavailable, "Redis refused: OOM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, down := failure("redisstore.Test", tt.err)
			if down != tt.down {
				t.Errorf("down = %v; want %v", down, tt.down)
			}
			if e.Code != tt.code || e.Op != "redisstore.Test" {
				t.Errorf("code %v, op %q; want %v, redisstore.Test", e.Code, e.Op, tt.code)
			}
			if !strings.Contains(e.Error(), tt.msg) {
				t.Errorf("%q does not say %q", e, tt.msg)
			}
			var r redis.Error
			if errors.As(tt.err, &r) && !errors.As(e, &r) {
				t.Errorf("%q does not wrap Redis's reply, so redis.IsOOMError and the like cannot tell it", e)
			}
		})
	}
}

// TestScriptWrappedRefusalsRedis6: Redis before 7 wraps the reply that
// redis.call gets inside a script; every session write is a script, so
// this is what a full Redis 6 answers to a Put, CompareAndSwap, Delete. It
// is classified as the bare reply (Unavailable, so that SessionStore keeps
// the write in its mirror), keeps Redis's whole text, and unwraps to the
// command's reply, so that redis.HasErrorPrefix tells it.
func TestScriptWrappedRefusalsRedis6(t *testing.T) {
	for _, tt := range []struct {
		name, msg string
	}{
		{"OOM", "ERR Error running script (call to f_085b): @user_script:6: @user_script: 6: -OOM command not allowed when used memory > 'maxmemory'."},
		{"MISCONF", "ERR Error running script (call to f_085b): @user_script:6: @user_script: 6: -MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."},
		{"READONLY", "ERR Error running script (call to f_085b): @user_script:6: @user_script: 6: -READONLY You can't write against a read only replica."},
		{"NOREPLICAS", "ERR Error running script (call to f_085b): @user_script:6: @user_script: 6: -NOREPLICAS Not enough good replicas to write."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, down := failure("op", reply(tt.msg))
			if down || e.Code != errcode.Unavailable || !strings.Contains(e.Msg, "Redis refused: "+tt.name) {
				t.Errorf("%s wrapped by a Redis 6 script: code %v down %v (%v); want Unavailable, not down, saying %s", tt.name, e.Code, down, e, tt.name)
			}
			if !strings.Contains(e.Error(), tt.msg) {
				t.Errorf("%q lost Redis's text %q", e, tt.msg)
			}
			if !redis.HasErrorPrefix(e, tt.name+" ") {
				t.Errorf("%q does not unwrap to the %s reply", e, tt.name)
			}
			if !refusedAlone(e) {
				t.Errorf("refusedAlone(%q) = false", e)
			}
		})
	}
}

// TestServerWideRepliesPause: answers that every command of a connection
// gets, that no single command can get past, mean Redis cannot serve the
// store, as NOAUTH and WRONGPASS do: the store pauses.
func TestServerWideRepliesPause(t *testing.T) {
	for _, msg := range []string{
		"DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.",
		"ERR invalid password", // Redis < 6, a wrong password
		"ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
		"ERR Client sent AUTH, but no password is set", // Redis 5
	} {
		if e, down := failure("op", reply(msg)); !down || e.Code != errcode.Unavailable {
			t.Errorf("%q: code %v, down %v; want Unavailable and down (no pause: every operation asks Redis again)", msg, e.Code, down)
		}
		if refusedAlone(reply(msg)) {
			t.Errorf("refusedAlone(%q) = true", msg)
		}
	}
}

// TestRefusalsKeepTheBreakerClosedAndLogSparingly: a refused command
// leaves the store asking Redis (and closes a breaker opened by an
// outage: Redis answered), and a Logger hears of refusals of one kind
// once a minute, not once a command.
func TestRefusalsKeepTheBreakerClosedAndLogSparingly(t *testing.T) {
	clk := testclock.New(time.Unix(1_700_000_000, 0))
	logs := &testlog.Buffer{}
	s, err := New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), &Options{Now: clk.Now, Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.rdb.Close()
	ctx := context.Background()
	fail := func(err error) error { return s.do(ctx, "redisstore.Test", func(context.Context) error { return err }) }
	asked := func() bool {
		ran := false
		_ = s.do(ctx, "redisstore.Test", func(context.Context) error { ran = true; return nil })
		return ran
	}
	oom := reply("OOM command not allowed when used memory > 'maxmemory'.")
	for range 100 {
		if err := fail(oom); errcode.CodeOf(err) != errcode.Unavailable {
			t.Fatalf("OOM: %v", err)
		}
	}
	if !asked() {
		t.Fatal("after refusals, the store no longer asks Redis")
	}
	if n := logs.Count("Redis refused: OOM"); n != 1 {
		t.Errorf("100 OOM refusals logged %d times; want 1:\n%s", n, logs)
	}
	_ = fail(reply("READONLY You can't write against a read only replica."))
	if n := logs.Count("Redis refused: READONLY"); n != 1 {
		t.Errorf("a READONLY refusal after OOM ones logged %d times; want 1", n)
	}
	clk.Advance(refusalLogEvery)
	_ = fail(oom)
	if n := logs.Count("Redis refused: OOM"); n != 2 {
		t.Errorf("an OOM refusal a minute later: logged %d times in all; want 2", n)
	}

	// An outage opens the breaker; a refusal after the pause closes it.
	_ = fail(io.EOF)
	if asked() {
		t.Fatal("the store asks Redis right after it did not answer")
	}
	clk.Advance(time.Minute)
	_ = fail(oom)
	if !asked() {
		t.Error("Redis answered (a refusal) after an outage, and the store still does not ask it")
	}
	if n := logs.Count("reachable again"); n != 1 {
		t.Errorf("logged Redis back %d times; want 1:\n%s", n, logs)
	}
}
