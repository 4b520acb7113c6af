//go:build linux

package testsvc

import (
	"sync"
	"syscall"
)

// reservePort reserves a free port on 127.0.0.1 for a server the test
// starts: a socket bound to it with SO_REUSEADDR, not listening. While it is
// held, the kernel gives the port to no other socket bound to port 0 (the
// httptest servers and components of tests running meanwhile, in this
// process or another) nor to an outgoing connection's local end, so the
// server's port cannot be taken between the moment it is picked and the
// moment the server listens, nor while a test has stopped the server to
// restart it. Connections to it are refused until the server listens. The
// server binds it all the same, because it sets SO_REUSEADDR too (redis-server
// and slapd do) and the reserving socket does not listen. release closes
// the reserving socket; call it once the server has stopped for good.
func reservePort() (port int, release func(), err error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, nil, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		syscall.Close(fd)
		return 0, nil, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return 0, nil, err
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return 0, nil, err
	}
	var once sync.Once
	return sa.(*syscall.SockaddrInet4).Port, func() { once.Do(func() { syscall.Close(fd) }) }, nil
}
