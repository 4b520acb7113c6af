package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// decoder turns the merged configuration tree into an integrations.Config,
// reporting every value of the wrong type with its path.
type decoder struct {
	l *loader
}

// field decodes the value of one key; v is never nil.
type field func(v any, path string)

// fail reports a value of the wrong type. The message never shows the
// value; for a substituted one it says where it came from.
func (d *decoder) fail(path, format string, args ...any) {
	d.l.problem(path, "%s%s", fmt.Sprintf(format, args...), d.l.note(path))
	d.l.markFailed(path)
}

func (d *decoder) root(raw map[string]any) integrations.Config {
	var cfg integrations.Config
	if v := raw["integrations"]; v != nil {
		d.object(v, "integrations", map[string]field{
			"github":          list(d, &cfg.GitHub, d.github),
			"gitlab":          list(d, &cfg.GitLab, d.gitlab),
			"bitbucketCloud":  list(d, &cfg.BitbucketCloud, d.bitbucketCloud),
			"bitbucketServer": list(d, &cfg.BitbucketServer, d.bitbucketServer),
		})
	}
	if v := raw["backend"]; v != nil {
		d.object(v, "backend", map[string]field{
			"reading": func(v any, path string) {
				d.object(v, path, map[string]field{
					"allow": list(d, &cfg.ReadingAllow, d.readingAllow),
				})
			},
		}, "baseUrl", "cache", "auth")
	}
	return cfg
}

// object decodes the keys of an object with fields. Keys in ignored are
// Backstage settings scmkit does not use; any other key draws a warning.
func (d *decoder) object(v any, path string, fields map[string]field, ignored ...string) {
	m, ok := asObject(v)
	if !ok {
		d.fail(path, "must be an object, got %s", typeName(v))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		x, p := m[k], joinKey(path, k)
		if f, ok := fields[k]; ok {
			if x != nil { // null: not set
				f(x, p)
			}
			continue
		}
		if !slices.Contains(ignored, k) {
			d.l.warnAt(p, "unknown key, ignored")
		}
	}
}

// list decodes an array of objects with elem.
func list[T any](d *decoder, dst *[]T, elem func(v any, path string) T) field {
	return func(v any, path string) {
		xs, ok := v.([]any)
		if !ok {
			d.fail(path, "must be an array, got %s", typeName(v))
			return
		}
		out := make([]T, 0, len(xs))
		for i, x := range xs {
			out = append(out, elem(x, joinIndex(path, i)))
		}
		*dst = out
	}
}

// str decodes a string. An empty string leaves dst empty.
func (d *decoder) str(dst *string) field {
	return func(v any, path string) {
		s, ok := v.(string)
		if !ok {
			d.fail(path, "must be a string, got %s", typeName(v))
			return
		}
		*dst = s
	}
}

// secret decodes a string into a Secret. Messages never show the value.
func (d *decoder) secret(dst *integrations.Secret) field {
	return func(v any, path string) {
		s, ok := v.(string)
		if !ok {
			d.fail(path, "must be a string, got %s", typeName(v))
			return
		}
		if err := dst.UnmarshalText([]byte(s)); err != nil {
			// Its message never shows the value.
			msg := "invalid secret"
			if e, ok := errors.AsType[*errcode.Error](err); ok && e.Msg != "" {
				msg = e.Msg
			}
			d.fail(path, "%s", msg)
		}
	}
}

// strs decodes an array of non-empty strings.
func (d *decoder) strs(dst *[]string) field {
	return func(v any, path string) {
		xs, ok := v.([]any)
		if !ok {
			d.fail(path, "must be an array of strings, got %s", typeName(v))
			return
		}
		out := make([]string, 0, len(xs))
		for i, x := range xs {
			s, ok := x.(string)
			if !ok || s == "" {
				d.fail(joinIndex(path, i), "must be a non-empty string, got %s", typeName(x))
				continue
			}
			out = append(out, s)
		}
		*dst = out
	}
}

// boolean decodes true or false, also written as a string (as an
// APP_CONFIG_ variable or a substitution yields).
func (d *decoder) boolean(dst *bool) field {
	return func(v any, path string) {
		switch x := v.(type) {
		case bool:
			*dst = x
			return
		case string:
			if x == "true" || x == "false" {
				*dst = x == "true"
				return
			}
		}
		d.fail(path, "must be a boolean (true or false), got %s", describe(v))
	}
}

// int64 decodes an integer written as a number or a numeric string.
func (d *decoder) int64(dst *int64) field {
	return func(v any, path string) {
		var (
			n   int64
			err error
		)
		switch x := v.(type) {
		case int:
			n = int64(x)
		case int64:
			n = x
		case uint64:
			if x > math.MaxInt64 {
				err = strconv.ErrRange
			}
			n = int64(x)
		case float64:
			if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
				err = strconv.ErrSyntax
			}
			n = int64(x)
		case json.Number:
			n, err = x.Int64()
		case string:
			n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		default:
			err = strconv.ErrSyntax
		}
		if err != nil {
			d.fail(path, "must be a number, got %s", describe(v))
			return
		}
		*dst = n
	}
}

// int decodes an integer that fits an int.
func (d *decoder) int(dst *int) field {
	return func(v any, path string) {
		var n int64
		d.int64(&n)(v, path)
		if d.l.failed[path] {
			return
		}
		if int64(int(n)) != n {
			d.fail(path, "must be a smaller number")
			return
		}
		*dst = int(n)
	}
}

// ints decodes an array of integers.
func (d *decoder) ints(dst *[]int) field {
	return func(v any, path string) {
		xs, ok := v.([]any)
		if !ok {
			d.fail(path, "must be an array of numbers, got %s", typeName(v))
			return
		}
		out := make([]int, 0, len(xs))
		for i, x := range xs {
			var n int
			d.int(&n)(x, joinIndex(path, i))
			out = append(out, n)
		}
		*dst = out
	}
}

// describe names v's type. It never shows a string, whatever its length:
// a token put in the wrong key (appId, say) must not appear in a message.
func describe(v any) string {
	switch x := v.(type) {
	case bool, int, int64, uint64, float64, json.Number:
		return fmt.Sprint(x)
	}
	return typeName(v)
}

func (d *decoder) github(v any, path string) (c integrations.GitHubConfig) {
	d.object(v, path, map[string]field{
		"host":        d.str(&c.Host),
		"apiBaseUrl":  d.str(&c.APIBaseURL),
		"rawBaseUrl":  d.str(&c.RawBaseURL),
		"token":       d.secret(&c.Token),
		"apps":        list(d, &c.Apps, d.githubApp),
		"credentials": list(d, &c.Credentials, d.scoped),
	}, "commitSigningKey", "throttling")
	return c
}

func (d *decoder) githubApp(v any, path string) (c integrations.GitHubAppConfig) {
	d.object(v, path, map[string]field{
		"appId":                     d.int64(&c.AppID),
		"privateKey":                d.secret(&c.PrivateKey),
		"clientId":                  d.str(&c.ClientID),
		"clientSecret":              d.secret(&c.ClientSecret),
		"webhookSecret":             d.secret(&c.WebhookSecret),
		"allowedInstallationOwners": d.strs(&c.AllowedInstallationOwners),
		"publicAccess":              d.boolean(&c.PublicAccess),
		// The rest of the file backstage-cli create-github-app writes.
	}, "webhookUrl")
	return c
}

func (d *decoder) gitlab(v any, path string) (c integrations.GitLabConfig) {
	d.object(v, path, map[string]field{
		"host":       d.str(&c.Host),
		"apiBaseUrl": d.str(&c.APIBaseURL),
		"baseUrl":    d.str(&c.BaseURL),
		"token":      d.secret(&c.Token),
		"retry": func(v any, path string) {
			c.Retry = &integrations.GitLabRetry{}
			d.object(v, path, map[string]field{
				"maxRetries":              d.int(&c.Retry.MaxRetries),
				"retryStatusCodes":        d.ints(&c.Retry.RetryStatusCodes),
				"maxApiRequestsPerMinute": d.int(&c.Retry.MaxAPIRequestsPerMinute),
			})
		},
		"credentials": list(d, &c.Credentials, d.scoped),
	}, "commitSigningKey", "throttling")
	return c
}

func (d *decoder) bitbucketCloud(v any, path string) (c integrations.BitbucketCloudConfig) {
	d.object(v, path, map[string]field{
		"host":         d.str(&c.Host),
		"apiBaseUrl":   d.str(&c.APIBaseURL),
		"tokenUrl":     d.str(&c.TokenURL),
		"username":     d.str(&c.Username),
		"token":        d.secret(&c.Token),
		"appPassword":  d.secret(&c.AppPassword),
		"clientId":     d.str(&c.ClientID),
		"clientSecret": d.secret(&c.ClientSecret),
		"credentials":  list(d, &c.Credentials, d.scoped),
	}, "commitSigningKey", "throttling")
	return c
}

func (d *decoder) bitbucketServer(v any, path string) (c integrations.BitbucketServerConfig) {
	d.object(v, path, map[string]field{
		"host":        d.str(&c.Host),
		"apiBaseUrl":  d.str(&c.APIBaseURL),
		"token":       d.secret(&c.Token),
		"username":    d.str(&c.Username),
		"password":    d.secret(&c.Password),
		"credentials": list(d, &c.Credentials, d.scoped),
	}, "commitSigningKey", "throttling")
	return c
}

func (d *decoder) scoped(v any, path string) (c integrations.ScopedCredential) {
	d.object(v, path, map[string]field{
		"owners":   d.strs(&c.Owners),
		"token":    d.secret(&c.Token),
		"username": d.str(&c.Username),
		"password": d.secret(&c.Password),
	})
	return c
}

func (d *decoder) readingAllow(v any, path string) (c integrations.ReadingAllow) {
	d.object(v, path, map[string]field{
		"host":  d.str(&c.Host),
		"paths": d.strs(&c.Paths),
	})
	return c
}
