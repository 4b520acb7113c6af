package scm_test

import (
	"context"
	"testing"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/driver"
)

// BenchmarkReadFileRouting measures what routing a ReadFile costs: the
// driver answers from memory without a request, so allocs/op is the
// client's own work (URL parsing, the registry lookup, the credential
// request and the per-call HTTP client). Sub-benchmarks: a URL on an
// integration host, the same with an audit hook, and a URL on a host
// without integration (refused). Measured when each call came to parse its
// URL once (Registry.Lookup) instead of three to five times, with the
// default registry built once: 67 -> 43, 73 -> 47 and 26 -> 15 allocs/op.
func BenchmarkReadFileRouting(b *testing.B) {
	file := &driver.File{Content: []byte("x")}
	d := &fakeDriver{readFile: func(context.Context, *driver.ReadFileRequest) (*driver.File, error) { return file, nil }}
	tok := &credentials.Credential{Kind: credentials.KindToken, Token: "bench-token", Source: "integrations.github[0].token"}
	for _, tc := range []struct {
		name  string
		url   string
		audit scm.AuditFunc
		fail  bool
	}{
		{"integration", "https://github.com/acme/svc/blob/main/catalog-info.yaml", nil, false},
		{"integration+audit", "https://github.com/acme/svc/blob/main/catalog-info.yaml", func(context.Context, scm.AuditEvent) {}, false},
		{"no-integration", "https://elsewhere.example/acme/svc/catalog-info.yaml", nil, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := newClient(b, d.opener(), serviceOrUser{tok}, &scm.Options{Audit: tc.audit,
				Drivers: map[integrations.Kind]driver.Opener{integrations.GitHub: d.opener()}})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, err := c.ReadFile(ctx, tc.url, nil)
				if (err != nil) != tc.fail {
					b.Fatal(err)
				}
			}
		})
	}
}
