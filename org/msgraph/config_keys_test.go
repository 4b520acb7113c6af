package msgraph

import (
	"slices"
	"testing"

	"github.com/scmkit/scmkit/config"
)

// TestDecodeConfigWarnsOfKeysItDoesNotRead: Backstage's older flat
// userFilter (dropped, every user of the tenant would be read) and a
// misspelt nested key are named with their paths, in the single-block
// form and the map form; schedule is not.
func TestDecodeConfigWarnsOfKeysItDoesNotRead(t *testing.T) {
	for _, tc := range []struct{ name, doc, path string }{
		{"single", `
catalog:
  providers:
    microsoftGraphOrg:
      tenantId: t
      clientId: c
      clientSecret: s
      userFilter: accountEnabled eq true
      user: {filtr: accountEnabled eq true, loadPhotos: false}
      schedule: {frequency: PT30M, timeout: PT3M}
`, "catalog.providers.microsoftGraphOrg"},
		{"map", `
catalog:
  providers:
    microsoftGraphOrg:
      corp:
        tenantId: t
        clientId: c
        clientSecret: s
        userFilter: accountEnabled eq true
        user: {filtr: accountEnabled eq true, loadPhotos: false}
        schedule: {frequency: PT30M, timeout: PT3M}
`, "catalog.providers.microsoftGraphOrg.corp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.LoadBytes(t.Context(), nil, []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			cs, err := DecodeConfig(cfg)
			if err != nil || len(cs) != 1 {
				t.Fatal(cs, err)
			}
			want := []string{
				tc.path + ".user.filtr: not a key scmkit reads here; ignored (a typo for filter?)",
				tc.path + ".userFilter: Backstage's older spelling of user.filter, which scmkit does not read: ignored, so it does not apply; write user.filter",
			}
			if !slices.Equal(cs[0].Warnings, want) {
				t.Errorf("warnings\n%q\nwant\n%q", cs[0].Warnings, want)
			}
		})
	}
}
