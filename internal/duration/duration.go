// Package duration parses Backstage's duration forms, for the packages
// that read them from config (auth's session duration, the org readers'
// schedules) without depending on one another.
package duration

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// msDuration is the `ms` library's string form, which Backstage's
// readDurationFromConfig reads: a number (a decimal fraction allowed),
// optional spaces, and a unit, milliseconds when none.
var msDuration = regexp.MustCompile(`(?i)^(\d*\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$`)

// isoDuration is an ISO 8601 duration (PnYnMnWnDTnHnMnS, each number
// with an optional '.' or ',' fraction), as Backstage reads one.
var isoDuration = regexp.MustCompile(`^P(?:([\d.,]+)Y)?(?:([\d.,]+)M)?(?:([\d.,]+)W)?(?:([\d.,]+)D)?(?:T(?:([\d.,]+)H)?(?:([\d.,]+)M)?(?:([\d.,]+)S)?)?$`)

const day = 24 * time.Hour

// msUnits are the `ms` library's units but milliseconds, by their first
// letters (a year is 365.25 days there).
var msUnits = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": day, "w": 7 * day, "y": day * 36525 / 100}

// isoUnits are the ISO 8601 designators in the order of isoDuration's
// groups (a month is 30 days, a year 365, as Backstage's luxon counts).
var isoUnits = []time.Duration{365 * day, 30 * day, 7 * day, day, time.Hour, time.Minute, time.Second}

// Parse parses Backstage's duration forms (its readDurationFromConfig):
// a string in the `ms` library's format ("7d", "2 days", "1.5h",
// "30 minutes"; a plain number is refused, as Backstage refuses it), an
// ISO 8601 duration ("P7D", "PT1M", "P2DT6H"), a Go duration ("1h30m"),
// or an object with years, months, weeks, days, hours, minutes, seconds
// and milliseconds. A value it does not understand, or one that is not
// positive, is a plain error saying why, for the caller to wrap with the
// config path.
func Parse(raw json.RawMessage) (time.Duration, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		s = strings.TrimSpace(s)
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return d, nil
		}
		if d, ok := parseStringDuration(s); ok {
			return d, nil
		}
		return 0, fmt.Errorf("duration %q is not understood (e.g. \"12h\", \"7d\", \"2 days\", \"P7D\")", clip(s))
	}
	var obj map[string]float64
	if err := json.Unmarshal(raw, &obj); err != nil {
		return 0, fmt.Errorf("a duration must be a string or an object of units")
	}
	units := map[string]time.Duration{"years": 365 * 24 * time.Hour, "months": 30 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
		"days": 24 * time.Hour, "hours": time.Hour, "minutes": time.Minute, "seconds": time.Second, "milliseconds": time.Millisecond}
	var total float64
	for k, v := range obj {
		u, ok := units[k]
		if !ok || v < 0 {
			return 0, fmt.Errorf("duration unit %q is not understood", clip(k))
		}
		total += v * float64(u)
	}
	if !(total > 0) || total >= math.MaxInt64 { // 2^63 itself would wrap to a negative Duration
		return 0, fmt.Errorf("the duration must be positive and less than 292 years")
	}
	return time.Duration(total), nil
}

// parseStringDuration parses the `ms` and ISO 8601 forms; ok is false
// for anything else, and for a total that is not positive or too long.
func parseStringDuration(s string) (time.Duration, bool) {
	var total float64
	if m := isoDuration.FindStringSubmatch(s); m != nil {
		if s == "P" || strings.HasSuffix(s, "T") {
			return 0, false
		}
		for i, v := range m[1:] {
			if v == "" {
				continue
			}
			n, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
			if err != nil {
				return 0, false
			}
			total += n * float64(isoUnits[i])
		}
	} else if m := msDuration.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return 0, false
		}
		unit := strings.ToLower(m[2])
		u := time.Millisecond
		switch {
		case unit == "":
			// Backstage refuses a plain number ("try adding a unit"):
			// "3600" meant as seconds would end sessions in 3.6 s.
			return 0, false
		case strings.HasPrefix(unit, "ms") || strings.HasPrefix(unit, "milli"):
		default:
			u = msUnits[unit[:1]]
		}
		total = n * float64(u)
	} else {
		return 0, false
	}
	if !(total >= 1) || total >= math.MaxInt64 {
		return 0, false
	}
	return time.Duration(total), true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
