//go:build race

package archive_test

// raceEnabled reports that the race detector is on: it slows the code it
// instruments (the standard library's tar and gzip readers included) 2 to
// 20 times, so timing bounds are loosened under it.
const raceEnabled = true
