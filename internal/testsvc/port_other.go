//go:build !linux

package testsvc

import "net"

// reservePort returns a port on 127.0.0.1 that was free a moment ago; it
// is not held (the reservation of the Linux version relies on Linux's
// SO_REUSEADDR rules), so release does nothing.
func reservePort() (port int, release func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, func() {}, nil
}
