package archive_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
)

// rawHeader is a 512-byte tar header block: name, type typ, size bytes of
// data in the stream, old GNU magic when gnu (else ustar).
func rawHeader(name string, typ byte, size int64, gnu bool) []byte {
	b := make([]byte, 512)
	copy(b[0:], name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "15000000000\x00")
	b[156] = typ
	if gnu {
		copy(b[257:], "ustar  \x00")
	} else {
		copy(b[257:], "ustar\x0000")
	}
	return b
}

// checksum fills in b's header checksum.
func checksum(b []byte) []byte {
	copy(b[148:], "        ")
	var sum int
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// pad fills data up to a multiple of 512 bytes.
func pad(data string) []byte {
	return append([]byte(data), make([]byte, (512-len(data)%512)%512)...)
}

// paxRecord is one record of a PAX extended header: "len key=value\n",
// len counting itself.
func paxRecord(k, v string) string {
	n := len(k) + len(v) + 3
	for n != len(fmt.Sprintf("%d %s=%s\n", n, k, v)) {
		n = len(fmt.Sprintf("%d %s=%s\n", n, k, v))
	}
	return fmt.Sprintf("%d %s=%s\n", n, k, v)
}

// TestSparseEntriesRefused: a sparse entry's holes are not in the stream,
// so they escaped MaxArchiveBytes, and repeating the entry's path escaped
// MaxBytes and MaxFiles: 64 entries of 64 MiB of hole, 308 bytes gzipped,
// made the reader allocate and zero 4 GiB under a 256 MiB limit (found by
// an adversarial review). No git host's archiver writes sparse entries;
// both of GNU's formats are refused before anything is allocated.
func TestSparseEntriesRefused(t *testing.T) {
	const size = 64 << 20
	var old bytes.Buffer // old GNU: type 'S', an empty sparse map, no data
	for range 64 {
		h := rawHeader("repo-sha/templates/big", tar.TypeGNUSparse, 0, true)
		copy(h[483:], fmt.Sprintf("%011o\x00", size)) // the real size
		old.Write(checksum(h))
	}
	old.Write(make([]byte, 1024))

	// GNU's PAX sparse format 1.0: the PAX records name the real file and
	// its size; the sparse map (no data blocks: "0") heads the entry's
	// data. archive/tar reads it as a regular file of realsize bytes.
	var pax bytes.Buffer
	records := paxRecord("GNU.sparse.major", "1") + paxRecord("GNU.sparse.minor", "0") +
		paxRecord("GNU.sparse.name", "repo-sha/templates/big") + paxRecord("GNU.sparse.realsize", fmt.Sprint(size))
	for range 64 {
		pax.Write(checksum(rawHeader("repo-sha/PaxHeaders/big", tar.TypeXHeader, int64(len(records)), false)))
		pax.Write(pad(records))
		pax.Write(checksum(rawHeader("repo-sha/GNUSparseFile.0/big", tar.TypeReg, 512, false)))
		pax.Write(pad("0\n"))
	}
	pax.Write(make([]byte, 1024))

	lim := archive.Limits{MaxBytes: size, MaxFileBytes: size}
	for name, raw := range map[string][]byte{"old GNU": old.Bytes(), "PAX 1.0": pax.Bytes()} {
		fsys, err := archive.ReadTarGz(t.Context(), bytes.NewReader(gzipBytes(t, raw)), &archive.Options{Limits: lim, StripComponents: 1})
		if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "sparse file") {
			var n int64
			if fsys != nil {
				if fi, err := fsys.Stat("templates/big"); err == nil {
					n = fi.Size()
				}
			}
			t.Errorf("%s: err = %v (a file of %d bytes kept); want InvalidArgument naming a sparse file", name, err, n)
		}
	}
}

// TestRepeatedPathCountsEachTime: a path given again replaces the earlier
// file, so MaxBytes and MaxFiles never trip; the data of every kept entry
// now counts against MaxArchiveBytes, the bound on decompression a zip
// otherwise lacked (2 MB of zip decompressed to 2 GiB under a 16 MiB
// limit, found by an adversarial review). A few repeats stay fine.
func TestRepeatedPathCountsEachTime(t *testing.T) {
	const size = 1 << 20
	zeros := strings.Repeat("\x00", size)
	var many []entry
	for range 10 {
		many = append(many, entry{name: "repo/big", body: zeros})
	}
	lim := archive.Limits{MaxBytes: size, MaxFileBytes: size} // MaxArchiveBytes: 4 MiB
	z := zipBytes(t, many...)
	_, err := archive.ReadZip(t.Context(), bytes.NewReader(z), int64(len(z)), &archive.Options{Limits: lim})
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "MaxArchiveBytes") {
		t.Errorf("zip, 10 entries of 1 MiB at one path (%d bytes): err = %v; want InvalidArgument naming MaxArchiveBytes", len(z), err)
	}
	_, err = archive.ReadTarGz(t.Context(), bytes.NewReader(tarGz(t, many...)), &archive.Options{Limits: lim})
	if errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "MaxArchiveBytes") {
		t.Errorf("tar: err = %v; want InvalidArgument naming MaxArchiveBytes", err)
	}

	few := many[:3]
	z = zipBytes(t, few...)
	if fsys, err := archive.ReadZip(t.Context(), bytes.NewReader(z), int64(len(z)), &archive.Options{Limits: lim}); err != nil {
		t.Errorf("zip, 3 entries at one path: %v", err)
	} else if fi, err := fsys.Stat("repo/big"); err != nil || fi.Size() != size {
		t.Errorf("zip, 3 entries at one path: %v, %v", fi, err)
	}
	if _, err := archive.ReadTarGz(t.Context(), bytes.NewReader(tarGz(t, few...)), &archive.Options{Limits: lim}); err != nil {
		t.Errorf("tar, 3 entries at one path: %v", err)
	}
}
