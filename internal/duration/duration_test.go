package duration

import (
	"testing"
	"time"
)

// The forms Backstage's schedules use (frequency, timeout, initialDelay)
// parse here as they do in auth, whose tests cover the rest.
func TestParseScheduleForms(t *testing.T) {
	for in, want := range map[string]time.Duration{
		`"PT30M"`: 30 * time.Minute, `{"minutes": 30}`: 30 * time.Minute, `"30m"`: 30 * time.Minute,
		`{"hours": 1, "minutes": 30}`: 90 * time.Minute, `"15 seconds"`: 15 * time.Second,
	} {
		if d, err := Parse([]byte(in)); err != nil || d != want {
			t.Errorf("Parse(%s) = %v, %v; want %v", in, d, err, want)
		}
	}
	for _, in := range []string{`"30"`, `{"fortnights": 1}`, `{"minutes": -1}`, `true`, `"P"`} {
		if d, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%s) = %v, want an error", in, d)
		}
	}
}
