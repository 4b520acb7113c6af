package archive_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/internal/archive"
)

// BenchmarkReadTarGz reads a GitHub-style tarball of 200 files in 20
// directories (about 400 KiB of YAML-like text, 100 KiB gzipped): "all"
// keeps every file, "dir" keeps 50 of them through a Filter.
func BenchmarkReadTarGz(b *testing.B) {
	entries := []entry{{name: "owner-repo-0123abc/", typ: '5'}}
	var size int
	for i := range 200 {
		var sb strings.Builder
		for j := range 1 + i%150 {
			fmt.Fprintf(&sb, "key%d: value %x # line %d\n", j, uint32(i*2654435761+j*40503), j)
		}
		body := sb.String()
		size += len(body)
		entries = append(entries, entry{name: fmt.Sprintf("owner-repo-0123abc/dir%02d/file%03d.yaml", i%20, i), body: body})
	}
	data := tarGz(b, entries...)
	for _, bc := range []struct {
		name string
		opts *archive.Options
	}{
		{"all", &archive.Options{StripComponents: 1}},
		{"dir", &archive.Options{StripComponents: 1, Filter: func(p string, _ int64) bool { return p < "dir05" }}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := archive.ReadTarGz(b.Context(), bytes.NewReader(data), bc.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data)), "gz-bytes")
		})
	}
}
