package identity

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is still running
// after they end: an Issuer starts none unless StartRepublishing is
// called (Close stops it), and a Verifier's shared JWKS fetch ends with
// its 10 s bound.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
