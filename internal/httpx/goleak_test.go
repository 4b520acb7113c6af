package httpx

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is still running
// after they end: every goroutine the package starts (and every connection
// reader of a client it builds) stops with the Close or the context that
// owns it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
