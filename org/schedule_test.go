package org_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/org/ldaporg"
	"github.com/scmkit/scmkit/org/msgraph"
)

// Each of the four org readers' DecodeConfig keeps the block's schedule,
// in each of Backstage's duration shapes (they were dropped before).
func TestDecodeConfigKeepsSchedule(t *testing.T) {
	yaml := `
catalog:
  providers:
    githubOrg:
      - id: production
        githubUrl: https://github.com
        orgs: [acme]
        schedule:
          frequency: { minutes: 30 }
          timeout: { minutes: 3 }
          initialDelay: { seconds: 15 }
    gitlab:
      org:
        host: gitlab.com
        orgEnabled: true
        schedule:
          frequency: PT1H
          timeout: PT15M
          scope: local
    ldapOrg:
      corp:
        target: ldaps://ds.example.net
        schedule:
          frequency: 45m
          timeout: 5 minutes
    microsoftGraphOrg:
      default:
        tenantId: t
        clientId: c
        clientSecret: s
        schedule:
          frequency: { hours: 2 }
          timeout: { minutes: 10 }
          initialDelay: PT1M
          scope: global
`
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	gh, err := githuborg.DecodeConfig(cfg)
	if err != nil || len(gh) != 1 {
		t.Fatalf("githuborg: %v %v", gh, err)
	}
	gl, err := gitlaborg.DecodeConfig(cfg)
	if err != nil || len(gl) != 1 {
		t.Fatalf("gitlaborg: %v %v", gl, err)
	}
	ld, err := ldaporg.DecodeConfig(cfg)
	if err != nil || len(ld) != 1 {
		t.Fatalf("ldaporg: %v %v", ld, err)
	}
	mg, err := msgraph.DecodeConfig(cfg)
	if err != nil || len(mg) != 1 {
		t.Fatalf("msgraph: %v %v", mg, err)
	}
	for _, c := range []struct {
		name string
		got  *org.Schedule
		want org.Schedule
	}{
		{"githubOrg", gh[0].Schedule, org.Schedule{Frequency: 30 * time.Minute, Timeout: 3 * time.Minute, InitialDelay: 15 * time.Second}},
		{"gitlab", gl[0].Schedule, org.Schedule{Frequency: time.Hour, Timeout: 15 * time.Minute, Scope: org.ScopeLocal}},
		{"ldapOrg", ld[0].Schedule, org.Schedule{Frequency: 45 * time.Minute, Timeout: 5 * time.Minute}},
		{"microsoftGraphOrg", mg[0].Schedule, org.Schedule{Frequency: 2 * time.Hour, Timeout: 10 * time.Minute, InitialDelay: time.Minute, Scope: org.ScopeGlobal}},
	} {
		if c.got == nil || *c.got != c.want {
			t.Errorf("%s: schedule %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

// A schedule Backstage would refuse, or one scmkit cannot run (cron), is
// an error naming the key, and what to write instead.
func TestScheduleErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"frequency": {"cron": "*/30 * * * *"}, "timeout": "PT3M"}`: `cron schedules (cron: "*/30 * * * *") are not supported: give an interval instead`,
		`{"timeout": "PT3M"}`:                                               "schedule.frequency is required",
		`{"frequency": "PT30M"}`:                                            "schedule.timeout is required",
		`{"frequency": "30", "timeout": "PT3M"}`:                            "schedule.frequency: duration \"30\" is not understood",
		`{"frequency": "PT30M", "timeout": {"fortnights": 1}}`:              "schedule.timeout: duration unit",
		`{"frequency": "PT30M", "timeout": "PT3M", "initialDelay": "soon"}`: "schedule.initialDelay:",
		`{"frequency": "PT30M", "timeout": "PT3M", "scope": "cluster"}`:     `schedule.scope: only "global" or "local" are allowed, got "cluster"`,
		`{"frequency": {"trigger": "hourly"}, "timeout": "PT3M"}`:           `trigger "hourly" is not understood`,
		`"PT30M"`: "schedule: must be an object",
		`{"frequency": {"trigger": "manual", "minutes": 5}, "timeout": "PT3M"}`: "{trigger: manual} takes no other key",
		`{"frequency": {"Trigger": "manual"}, "timeout": "PT3M"}`:               "schedule.frequency:",
		`{"frequency": {"milliseconds": 0.5}, "timeout": "PT3M"}`:               "schedule.frequency: 500µs is shorter than 1s",
	} {
		var s org.Schedule
		err := s.UnmarshalJSON([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", in, err, want)
		}
	}
	var s org.Schedule
	if err := s.UnmarshalJSON([]byte(`{"frequency": {"trigger": "manual"}, "timeout": "PT3M"}`)); err != nil || !s.Manual || s.Timeout != 3*time.Minute {
		t.Errorf("manual trigger: %+v %v", s, err)
	}
	// Through config: the error names the provider's path.
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(`
catalog:
  providers:
    githubOrg:
      id: production
      orgs: [acme]
      schedule:
        frequency: { cron: '*/30 * * * *' }
        timeout: { minutes: 3 }
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = githuborg.DecodeConfig(cfg)
	if err == nil || !strings.Contains(err.Error(), "catalog.providers.githubOrg") || !strings.Contains(err.Error(), "schedule.frequency: cron") {
		t.Errorf("githuborg.DecodeConfig: %v", err)
	}
}

// MarshalJSON writes what UnmarshalJSON reads back.
func TestScheduleRoundTrip(t *testing.T) {
	for _, s := range []org.Schedule{
		{Frequency: 30 * time.Minute, Timeout: 3 * time.Minute, InitialDelay: 15 * time.Second, Scope: org.ScopeLocal},
		{Manual: true, Timeout: time.Hour},
	} {
		b, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back org.Schedule
		if err := back.UnmarshalJSON(b); err != nil || back != s {
			t.Errorf("%s: %+v %v, want %+v", b, back, err, s)
		}
	}
}
