package archive_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/archive"
)

// githubTarball builds a small tarball shaped like GitHub's: every path
// under one "owner-repo-sha/" directory.
func githubTarball() *bytes.Buffer {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range map[string]string{
		"acme-website-1a2b3c4/catalog-info.yaml":                    "kind: Component\n",
		"acme-website-1a2b3c4/templates/service/template.yaml":      "kind: Template\n",
		"acme-website-1a2b3c4/templates/service/skeleton/README.md": "# ${{ values.name }}\n",
	} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return &buf
}

func ExampleReadTarGz() {
	fsys, err := archive.ReadTarGz(context.Background(), githubTarball(), &archive.Options{
		StripComponents: 1,                   // drop "acme-website-1a2b3c4/"
		Dir:             "templates/service", // re-root here
		Limits:          archive.Limits{MaxFiles: 1000},
	})
	if err != nil {
		log.Fatal(err)
	}
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		fmt.Println(p, d.IsDir())
		return err
	})
	// Output:
	// . true
	// skeleton true
	// skeleton/README.md false
	// template.yaml false
}

func ExampleReadTarGz_refused() {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "repo/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})
	tw.Close()
	zw.Close()

	_, err := archive.ReadTarGz(context.Background(), &buf, nil)
	fmt.Println(errcode.CodeOf(err))
	fmt.Println(err)
	// Output:
	// InvalidArgument
	// archive entry "repo/link" is a symbolic link to "/etc/passwd", outside the extracted tree (InvalidArgument)
}

func ExampleWriteDir() {
	fsys, err := archive.NewFS(map[string]archive.File{
		"bin/run.sh": {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
		"README.md":  {Data: []byte("# demo\n"), Mode: 0o644},
	})
	if err != nil {
		log.Fatal(err)
	}
	dest, err := os.MkdirTemp("", "workspace")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dest)
	if err := archive.WriteDir(context.Background(), fsys, dest, nil); err != nil {
		log.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dest, "bin", "run.sh"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fi.Mode())
	// Output: -rwxr-xr-x
}
