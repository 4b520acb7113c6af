package auth

import (
	"strings"
	"testing"
)

// FuzzEntraTenantIssuer: an issuer is taken for a tenant only when it is
// exactly <authority>/<a GUID>/v2.0, the GUID the tenant's own when the
// tenant is given as one.
func FuzzEntraTenantIssuer(f *testing.F) {
	const authority = "https://login.microsoftonline.com"
	for _, s := range [][2]string{
		{authority + "/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0", "contoso.onmicrosoft.com"},
		{authority + "/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0", "8EAEF023-2B34-4DA1-9BAA-8BC8C9D6A490"},
		{authority + "/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", "8eaef023-2b34-4da1-9baa-8bc8c9d6a490"},
		{"https://evil.example/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0", "contoso.onmicrosoft.com"},
		{authority + "/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/x/v2.0", "contoso.onmicrosoft.com"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, iss, tenant string) {
		if !entraTenantIssuer(iss, authority, tenant) {
			return
		}
		guid, ok := strings.CutPrefix(iss, authority+"/")
		guid, ok2 := strings.CutSuffix(guid, "/v2.0")
		if !ok || !ok2 || !isGUID(guid) {
			t.Fatalf("took %q, not %s/<GUID>/v2.0", iss, authority)
		}
		if isGUID(tenant) && !strings.EqualFold(guid, tenant) {
			t.Fatalf("took %q for tenant %q", iss, tenant)
		}
	})
}
