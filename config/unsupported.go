package config

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/scmkit/scmkit/integrations"
)

// unsupportedSections are the integration sections of Backstage that
// scmkit does not serve, with the host a default entry of the section
// serves (or "" when every entry names its host). "bitbucket" is the
// section Backstage removed in favour of bitbucketCloud and
// bitbucketServer.
var unsupportedSections = map[string]string{
	"azure":            "dev.azure.com",
	"awsS3":            "amazonaws.com",
	"awsCodeCommit":    "",
	"azureBlobStorage": "blob.core.windows.net",
	"googleGcs":        "storage.cloud.google.com",
	"gerrit":           "",
	"gitea":            "",
	"harness":          "",
	"bitbucket":        "",
}

// seenSection is an unsupported section as the last document that set it
// wrote it, before any substitution (its variables need not be set).
type seenSection struct {
	file string
	raw  any
}

// seeIntegrationKey handles a key under integrations that scmkit does not
// read: an unsupported section is remembered for its hosts and one
// warning; any other key draws an "unknown key" warning.
func (l *loader) seeIntegrationKey(key string, v any, file, path string) {
	if _, ok := unsupportedSections[key]; ok {
		if v == nil {
			delete(l.unsupported, key) // null removes what an earlier file set
			return
		}
		l.unsupported[key] = seenSection{file: file, raw: v}
		return
	}
	l.pathWarn(file, joinKey(path, key), "unknown integration section, ignored")
}

// unsupportedEntries turns the unsupported sections into entries for the
// registry, and warns once per section.
func (l *loader) unsupportedEntries() []integrations.UnsupportedEntry {
	var out []integrations.UnsupportedEntry
	for _, sec := range slices.Sorted(maps.Keys(l.unsupported)) {
		seen := l.unsupported[sec]
		path := "integrations." + sec
		var entries []integrations.UnsupportedEntry
		switch x := seen.raw.(type) {
		case []any:
			for i, e := range x {
				entries = append(entries, integrations.UnsupportedEntry{Section: sec, Path: joinIndex(path, i), Host: unsupportedHost(sec, e)})
			}
		default: // googleGcs is one object
			entries = append(entries, integrations.UnsupportedEntry{Section: sec, Path: path, Host: unsupportedHost(sec, x)})
		}
		var hosts []string
		for _, e := range entries {
			if e.Host != "" && !slices.Contains(hosts, e.Host) {
				hosts = append(hosts, e.Host)
			}
		}
		what := fmt.Sprintf("its %d entries are", len(entries))
		if len(entries) == 1 {
			what = "its entry is"
		}
		var msg string
		if sec == "bitbucket" {
			msg = "Backstage removed this section; move its entries to integrations.bitbucketCloud (bitbucket.org) or integrations.bitbucketServer. Until then " + what + " ignored"
		} else {
			msg = "scmkit does not support " + sec + " integrations; " + what + " ignored"
		}
		if len(hosts) > 0 {
			msg += ", and URLs on " + strings.Join(hosts, ", ") + " are refused with an error naming this section"
		}
		l.warnings = append(l.warnings, where(seen.file, path)+": "+msg)
		out = append(out, entries...)
	}
	return out
}

// unsupportedHost returns the host an entry of an unsupported section
// serves in Backstage, or "" when it cannot be told without evaluating
// substitutions.
func unsupportedHost(sec string, entry any) string {
	m, _ := asObject(entry)
	str := func(key string) string {
		s, _ := m[key].(string)
		if strings.Contains(s, "${") {
			return ""
		}
		return strings.TrimSpace(s)
	}
	fromURL := func(key string) string {
		if u, err := url.Parse(str(key)); err == nil {
			return u.Host
		}
		return ""
	}
	switch sec {
	case "awsS3", "azureBlobStorage":
		if h := fromURL("endpoint"); h != "" {
			return h
		}
	case "awsCodeCommit":
		if h := str("host"); h != "" {
			return h
		}
		if r := str("region"); r != "" {
			return r + ".console.aws.amazon.com"
		}
		return ""
	default:
		if h := str("host"); h != "" {
			return h
		}
	}
	return unsupportedSections[sec]
}
