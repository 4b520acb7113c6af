//go:build !race

package scm_test

const raceEnabled = false
