//go:build !unix

package archive_test

import "time"

// cpuTime falls back to wall-clock time where getrusage is not available.
func cpuTime() time.Duration { return wallTime() }
