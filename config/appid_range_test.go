package config

import (
	"strings"
	"testing"
)

// TestAppIDBeyondInt64IsNotANumber: an appId that YAML reads as an
// unsigned integer beyond int64 is refused as a number out of range, not
// wrapped round to a negative id.
func TestAppIDBeyondInt64IsNotANumber(t *testing.T) {
	for _, id := range []string{"9223372036854775808", "18446744073709551615"} {
		doc := []byte("integrations:\n  github:\n    - apps: [{appId: " + id + ", privateKey: k}]\n")
		_, err := LoadBytes(t.Context(), &Options{Lookup: lookupMap(nil), ReadFile: mapFS(nil)}, doc)
		if err == nil || !strings.Contains(err.Error(), "integrations.github[0].apps[0].appId: must be a number") {
			t.Errorf("appId %s: %v; want it refused as not a number", id, err)
		}
	}
}
