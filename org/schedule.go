package org

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/scmkit/scmkit/internal/duration"
)

// Schedule scopes: [Schedule.Scope] is one of these or "".
const (
	// ScopeGlobal reads once per period for the whole fleet (Backstage's
	// default): one replica reads, the others take its snapshot.
	ScopeGlobal = "global"
	// ScopeLocal reads on every replica, each on its own schedule.
	ScopeLocal = "local"
)

// Schedule is a provider block's schedule key, Backstage's task schedule
// definition (readSchedulerServiceTaskScheduleDefinitionFromConfig):
//
//	schedule:
//	  frequency: { minutes: 30 }   # or PT30M, or 30m
//	  timeout: { minutes: 3 }
//	  initialDelay: { seconds: 15 }
//	  scope: global
//
// Each duration takes Backstage's forms: an ISO 8601 duration ("PT30M"),
// a string in the `ms` library's format ("30m", "30 minutes"), or an
// object of units ({minutes: 30}). frequency and timeout are required, as
// Backstage requires them; a frequency shorter than [MinFrequency] is
// refused. A cron frequency ({cron: "*/30 * * * *"}) is
// refused with an error saying to give an interval: the cron parser Go's
// schedulers use (robfig/cron/v3) has had no release since January 2020,
// and scmkit does not depend on unkept code. A manual trigger ({trigger: manual})
// decodes into Manual, which [Run] refuses, as it has no trigger to wait
// for. [Run] reads with it.
type Schedule struct {
	// Frequency is the time from the start of one read to the next; zero
	// when Manual.
	Frequency time.Duration
	// Manual is frequency: {trigger: manual}: read only when triggered.
	Manual bool
	// Timeout bounds each read.
	Timeout time.Duration
	// InitialDelay is the wait before the first read after start.
	InitialDelay time.Duration
	// Scope is "global" (or "", the default: once per period for the
	// fleet) or "local" (every replica reads).
	Scope string
}

// UnmarshalJSON decodes Backstage's schedule block. Its errors name the
// key at fault under "schedule", never more of the value than the key's
// own text.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	var raw struct {
		Frequency    json.RawMessage `json:"frequency"`
		Timeout      json.RawMessage `json:"timeout"`
		InitialDelay json.RawMessage `json:"initialDelay"`
		Scope        *string         `json:"scope"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("schedule: must be an object with frequency and timeout")
	}
	var out Schedule
	switch {
	case isAbsent(raw.Frequency):
		return fmt.Errorf("schedule.frequency is required (e.g. {minutes: 30} or PT30M)")
	case bytes.HasPrefix(bytes.TrimSpace(raw.Frequency), []byte("{")):
		// Keys as spelt (encoding/json would fold "Trigger" into trigger).
		var f map[string]json.RawMessage
		_ = json.Unmarshal(raw.Frequency, &f)
		var cron, trigger string
		if c, ok := f["cron"]; ok {
			_ = json.Unmarshal(c, &cron)
			return fmt.Errorf("schedule.frequency: cron schedules (cron: %q) are not supported: give an interval instead, "+
				"e.g. frequency: {minutes: 30} or PT30M", clipValue(cron))
		}
		if tr, ok := f["trigger"]; ok {
			if json.Unmarshal(tr, &trigger) != nil {
				trigger = string(bytes.TrimSpace(tr))
			}
			if trigger != "manual" {
				return fmt.Errorf("schedule.frequency: trigger %q is not understood (only manual is)", clipValue(trigger))
			}
			if len(f) != 1 {
				return fmt.Errorf("schedule.frequency: {trigger: manual} takes no other key")
			}
			out.Manual = true
			break
		}
		fallthrough
	default:
		d, err := duration.Parse(raw.Frequency)
		if err != nil {
			return fmt.Errorf("schedule.frequency: %v", err)
		}
		if d < MinFrequency {
			return fmt.Errorf("schedule.frequency: %v is shorter than %v: each read costs the provider's rate limit", d, MinFrequency)
		}
		out.Frequency = d
	}
	if isAbsent(raw.Timeout) {
		return fmt.Errorf("schedule.timeout is required (e.g. {minutes: 3} or PT3M)")
	}
	d, err := duration.Parse(raw.Timeout)
	if err != nil {
		return fmt.Errorf("schedule.timeout: %v", err)
	}
	out.Timeout = d
	if !isAbsent(raw.InitialDelay) {
		d, err := duration.Parse(raw.InitialDelay)
		if err != nil {
			return fmt.Errorf("schedule.initialDelay: %v", err)
		}
		out.InitialDelay = d
	}
	if raw.Scope != nil {
		switch *raw.Scope {
		case ScopeGlobal, ScopeLocal, "":
			out.Scope = *raw.Scope
		default:
			return fmt.Errorf("schedule.scope: only %q or %q are allowed, got %q", ScopeGlobal, ScopeLocal, clipValue(*raw.Scope))
		}
	}
	*s = out
	return nil
}

// MarshalJSON writes the schedule back in a form UnmarshalJSON reads
// (durations as Go duration strings), so that a Config can be printed and
// decoded again.
func (s Schedule) MarshalJSON() ([]byte, error) {
	m := map[string]any{"timeout": s.Timeout.String()}
	if s.Manual {
		m["frequency"] = map[string]string{"trigger": "manual"}
	} else {
		m["frequency"] = s.Frequency.String()
	}
	if s.InitialDelay > 0 {
		m["initialDelay"] = s.InitialDelay.String()
	}
	if s.Scope != "" {
		m["scope"] = s.Scope
	}
	return json.Marshal(m)
}

func isAbsent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

func clipValue(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
