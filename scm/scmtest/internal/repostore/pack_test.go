package repostore

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

// TestPack: every format holds the commit's files under the prefix (a
// zip or plain tar once came back empty).
func TestPack(t *testing.T) {
	c := &Commit{ID: "0123456789abcdef0123456789abcdef01234567", Files: map[string]Entry{
		"a.txt": {Content: []byte("hello\n")}, "d/run.sh": {Content: []byte("#!/bin/sh\n"), Exec: true}}}
	for _, format := range []string{"zip", "tar", "tar.gz"} {
		b, err := Pack(c, format, "p/", 0o755, false)
		if err != nil {
			t.Fatalf("Pack(%s): %v", format, err)
		}
		got := map[string]string{}
		switch format {
		case "zip":
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("Pack(zip): %v", err)
			}
			for _, f := range zr.File {
				rc, _ := f.Open()
				data, _ := io.ReadAll(rc)
				rc.Close()
				got[f.Name] = string(data)
			}
		default:
			var r io.Reader = bytes.NewReader(b)
			if format == "tar.gz" {
				if r, err = gzip.NewReader(r); err != nil {
					t.Fatalf("Pack(tar.gz): %v", err)
				}
			}
			tr := tar.NewReader(r)
			for {
				h, err := tr.Next()
				if err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("Pack(%s): %v", format, err)
				}
				if h.Typeflag == tar.TypeReg {
					data, _ := io.ReadAll(tr)
					got[h.Name] = string(data)
				}
			}
		}
		if len(got) != 2 || got["p/a.txt"] != "hello\n" || got["p/d/run.sh"] != "#!/bin/sh\n" {
			t.Errorf("Pack(%s) holds %q; want p/a.txt and p/d/run.sh with their content", format, got)
		}
	}
}
