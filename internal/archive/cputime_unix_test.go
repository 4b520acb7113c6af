//go:build unix

package archive_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) the test process has used
// so far. Unlike wall-clock time, other processes competing for the CPU do
// not inflate it, so a bound on it measures the work a reader does, not how
// loaded the machine is.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return wallTime()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
