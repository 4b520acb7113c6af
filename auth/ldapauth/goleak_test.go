package ldapauth_test

import (
	"fmt"
	"os"

	"go.uber.org/goleak"
)

// leakCheck is TestMain's last step, once slapd has stopped: a run whose
// tests passed fails if any goroutine is still running, since every
// connection the package opens (and its go-ldap reader) closes on every
// path, failed binds and timeouts included.
func leakCheck(code int) int {
	if code != 0 {
		return code
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
		return 1
	}
	return 0
}
