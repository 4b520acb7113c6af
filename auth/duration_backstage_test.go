package auth_test

import (
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// Backstage reads a duration string (readDurationFromConfig) in the `ms`
// library's format ("2 days", "1.5h", "30 minutes", a bare number of
// milliseconds; a year is 365.25 days) or as an ISO 8601 duration
// ("P2DT6H", "PT1M"; a month is 30 days, a year 365): a Backstage
// sessionDuration in either form loads.
func TestParseHumanDurationBackstageForms(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{
		`"2 days"`: 2 * day, `"1 day"`: day, `"1 Day"`: day, `"1.5h"`: 90 * time.Minute, `"2.5 hrs"`: 150 * time.Minute,
		`"30 minutes"`: 30 * time.Minute, `"45 secs"`: 45 * time.Second, `"1 week"`: 7 * day,
		`"1y"`: 365*day + 6*time.Hour, `"2 years"`: 730*day + 12*time.Hour, `".5d"`: 12 * time.Hour, `"250 msecs"`: 250 * time.Millisecond,
		`"PT1M"`: time.Minute, `"P2DT6H"`: 54 * time.Hour, `"P1W"`: 7 * day, `"P1M"`: 30 * day, `"P1Y"`: 365 * day,
		`"PT1.5H"`: 90 * time.Minute, `"PT0,5S"`: 500 * time.Millisecond, `" P7D "`: 7 * day,
	} {
		d, err := auth.ParseHumanDuration([]byte(in))
		if err != nil || d != want {
			t.Errorf("ParseHumanDuration(%s) = %v, %v; want %v", in, d, err, want)
		}
	}
	for _, in := range []string{`"P"`, `"PT"`, `"P1H"`, `"PT1D"`, `"P1DT"`, `"1 fortnight"`, `"-1d"`, `"0 days"`, `"P0D"`, `"1e3"`, `"."`,
		`"PT-1M"`, `"1 d ays"`, `"9999999999999y"`, `"P9999999999999Y"`, `"1..5h"`, `"0"`,
		`"1000"`, `"3600"`, // a plain number: Backstage refuses it ("try adding a unit")
		`{"milliseconds": 9223372036854.775808}`} { // 2^63 ns, which would wrap to a negative Duration
		if d, err := auth.ParseHumanDuration([]byte(in)); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("ParseHumanDuration(%s) = %v, %v; want InvalidArgument", in, d, err)
		}
	}
}

// FuzzParseHumanDuration: any input either parses to a positive duration
// or is refused as InvalidArgument; nothing panics.
func FuzzParseHumanDuration(f *testing.F) {
	for _, s := range []string{`"12h"`, `"2 days"`, `"P2DT6H"`, `"PT1,5S"`, `{"days": 1}`, `"1000"`, `".5d"`, `"P1Y2M3W4DT5H6M7.5S"`, `{"milliseconds": 9223372036854.775808}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := auth.ParseHumanDuration(raw)
		if err != nil {
			if errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("ParseHumanDuration(%q): %v, not InvalidArgument", raw, err)
			}
			return
		}
		if d <= 0 {
			t.Fatalf("ParseHumanDuration(%q) = %v, not positive", raw, d)
		}
	})
}
