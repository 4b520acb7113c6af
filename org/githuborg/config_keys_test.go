package githuborg

import (
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/config"
)

// TestDecodeConfigWarnsOfKeysItDoesNotRead: a typo "org:" for "orgs:"
// (with a GitHub App, no orgs reads every organisation the app is
// installed on), Backstage's queryLimits, a key in another case and a
// misspelt nested key are each named in the entry's Warnings with its
// path; schedule (the scheduler's) and the keys it reads are not.
func TestDecodeConfigWarnsOfKeysItDoesNotRead(t *testing.T) {
	for _, tc := range []struct{ name, doc, prefix string }{
		{"object", `
catalog:
  providers:
    githubOrg:
      id: production
      githubUrl: https://github.com
      org: [acme]
      queryLimits: {teamMembers: 50}
      PageSizes: {teams: 10}
      defaultUserTransformer: {useVerifiedEmail: true}
      schedule: {frequency: {minutes: 30}, timeout: {minutes: 3}}
`, "catalog.providers.githubOrg"},
		{"list", `
catalog:
  providers:
    githubOrg:
      - id: ok
        orgs: [other]
      - id: production
        githubUrl: https://github.com
        org: [acme]
        queryLimits: {teamMembers: 50}
        PageSizes: {teams: 10}
        defaultUserTransformer: {useVerifiedEmail: true}
        schedule: {frequency: {minutes: 30}, timeout: {minutes: 3}}
`, "catalog.providers.githubOrg[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.LoadBytes(t.Context(), nil, []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			cs, err := DecodeConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := cs[len(cs)-1]
			if len(cs) == 2 && len(cs[0].Warnings) != 0 {
				t.Errorf("a clean entry has warnings %q", cs[0].Warnings)
			}
			if c.PageSizes.Teams != 10 {
				t.Errorf("PageSizes %+v: PageSizes not read as pageSizes", c.PageSizes)
			}
			p := tc.prefix
			want := []string{
				p + ".org: not a key scmkit reads here; ignored (a typo for orgs?)",
				p + ".queryLimits: Backstage's limits",
				p + ".PageSizes: read as pageSizes",
				p + ".defaultUserTransformer.useVerifiedEmail: not a key scmkit reads here; ignored (a typo for useVerifiedEmails?)",
			}
			for _, w := range want {
				if !slices.ContainsFunc(c.Warnings, func(s string) bool { return strings.HasPrefix(s, w) }) {
					t.Errorf("no warning %q in %q", w, c.Warnings)
				}
			}
			if len(c.Warnings) != len(want) {
				t.Errorf("warnings %q, want %d", c.Warnings, len(want))
			}
		})
	}
}
