package redisstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/scmkit/scmkit/internal/testsvc/leakcheck"
)

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// TestMain silences go-redis's package-level logger, which reports the
// failed dials that the fault tests cause on purpose, and fails the tests
// if a goroutine is still running after them: a Store's background push
// ends with Close, and a client's goroutines with the client's Close.
func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	os.Exit(leakcheck.After(m.Run()))
}
