// Package leakcheck is the last step of a TestMain that starts services
// (slapd, redis-server) and so cannot use goleak.VerifyTestMain: a run
// whose tests passed fails if a goroutine is still running once they
// stopped. It is for scmkit's tests only.
package leakcheck

import (
	"fmt"
	"os"

	"go.uber.org/goleak"
)

// After returns code (m.Run's), or 1 if code is 0 and goroutines are
// still running, which it reports on standard error.
func After(code int) int {
	if code != 0 {
		return code
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
		return 1
	}
	return 0
}
