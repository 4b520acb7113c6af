// Package testsvc starts the real components that scmkit's tests run against
// (slapd, redis-server, chromium) on loopback ports, in throw-away
// directories, stopped when the test ends.
//
// A component that is not installed fails the test when the environment
// variable CI is "true" (CI installs every component, so a missing one is a
// broken CI machine, not a reason to pass), and skips it elsewhere with a
// message naming the Debian package to install. This package is for tests
// only; the library never starts a process.
package testsvc

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// Require returns the path of the program bin, looked up in PATH and then in
// the given extra directories (e.g. "/usr/sbin" for slapd). When it is not
// installed, Require fails the test if CI is "true" and skips it otherwise;
// the message names pkg, the Debian package that provides it.
func Require(tb testing.TB, bin, pkg string, dirs ...string) string {
	tb.Helper()
	if p, err := exec.LookPath(bin); err == nil {
		return p
	}
	for _, d := range dirs {
		p := d + "/" + bin
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is not installed: apt-get install %s (CI=true, so this is a failure, not a skip)", bin, pkg)
	}
	tb.Skipf("%s is not installed; apt-get install %s to run this test", bin, pkg)
	return ""
}

// Addr formats 127.0.0.1:port.
func Addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
