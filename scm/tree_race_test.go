//go:build race

package scm_test

// raceEnabled reports that the race detector is on; it slows the code it
// instruments many times, so timing bounds are loosened under it.
const raceEnabled = true
