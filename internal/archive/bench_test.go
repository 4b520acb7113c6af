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

// BenchmarkReadTarGzDeep reads one entry whose path has depth elements:
// 256 (the default MaxDepth) and, with the limits raised, 100,000. The
// cost per element stays flat as depth grows (the reader is linear); the
// quadratic reader it replaced needed about 6 s for 64,000 elements.
func BenchmarkReadTarGzDeep(b *testing.B) {
	for _, depth := range []int{255, 10_000, 100_000} {
		data := tarGz(b, entry{name: strings.Repeat("a/", depth) + "f", body: "x"})
		opts := &archive.Options{Limits: archive.Limits{MaxFiles: 1 << 20, MaxDepth: 1 << 20, MaxPathBytes: 1 << 20}}
		b.Run(fmt.Sprintf("depth=%d", depth+1), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := archive.ReadTarGz(b.Context(), bytes.NewReader(data), opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(depth+1), "ns/element")
		})
	}
}

// BenchmarkReadTarGzAtByteLimit reads a tree of one 16 MiB file with
// MaxBytes 16 MiB: B/op (everything the read allocates) is about 1× the
// limit, which bounds the peak heap.
func BenchmarkReadTarGzAtByteLimit(b *testing.B) {
	const limit = 16 << 20
	data := tarGz(b, entry{name: "repo/big", body: strings.Repeat("x", limit)})
	opts := &archive.Options{StripComponents: 1, Limits: archive.Limits{MaxBytes: limit, MaxFileBytes: limit}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := archive.ReadTarGz(b.Context(), bytes.NewReader(data), opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(limit, "limit-bytes")
}

// BenchmarkWriteDirDeep writes a chain of depth nested directories with
// one file at the bottom, into a fresh directory each time.
func BenchmarkWriteDirDeep(b *testing.B) {
	for _, depth := range []int{256, 1024} {
		fsys, err := archive.NewFS(map[string]archive.File{strings.Repeat("d/", depth-1) + "f": {Data: []byte("x")}})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			base := b.TempDir()
			i := 0
			for b.Loop() {
				i++
				if err := archive.WriteDir(b.Context(), fsys, fmt.Sprintf("%s/%d", base, i), nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(depth), "ns/dir")
		})
	}
}
