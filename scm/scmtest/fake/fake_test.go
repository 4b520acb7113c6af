package fake

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

type testFault struct {
	name, method, path string
}

func TestFaults(t *testing.T) {
	var fs Faults[testFault]
	fs.Arm(testFault{name: "twice", method: "get", path: "/repos/"}, 2)
	fs.Arm(testFault{name: "always"}, 0)
	take := func(method, path string) string {
		f, ok := fs.Take(func(f testFault) bool {
			return (f.method == "" || strings.EqualFold(f.method, method)) && strings.HasPrefix(path, f.path)
		})
		if !ok {
			return ""
		}
		return f.name
	}
	var got []string
	for _, req := range [][2]string{{"GET", "/repos/x"}, {"POST", "/repos/x"}, {"GET", "/repos/y"}, {"GET", "/repos/z"}, {"GET", "/other"}} {
		got = append(got, take(req[0], req[1]))
	}
	if diff := cmp.Diff([]string{"twice", "always", "twice", "always", "always"}, got); diff != "" {
		t.Errorf("faults taken (-want +got):\n%s", diff)
	}
	fs.Clear()
	if name := take("GET", "/repos/x"); name != "" {
		t.Errorf("after Clear, got fault %q; want none", name)
	}
}

func TestServe(t *testing.T) {
	answer := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Answer", "normal")
		Write(w, r, http.StatusCreated, "application/json", []byte(`{"hello":"world"}`))
	}
	for _, tt := range []struct {
		name       string
		outcome    Outcome
		wantStatus int
		wantBody   string
		wantErr    bool
	}{
		{"pass", Pass, http.StatusCreated, `{"hello":"world"}`, false},
		{"answered", Answered, http.StatusTeapot, "fault", false},
		{"truncated", Truncate, http.StatusCreated, `{"hello"`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.outcome == Answered {
					w.WriteHeader(http.StatusTeapot)
					io.WriteString(w, "fault")
				}
				Serve(w, r, tt.outcome, answer)
			}))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if (err != nil) != tt.wantErr {
				t.Errorf("reading the body: %v; want an error: %v", err, tt.wantErr)
			}
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("got %d %q; want %d %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if tt.outcome == Truncate && (resp.ContentLength != 17 || resp.Header.Get("X-Answer") != "normal") {
				t.Errorf("truncated answer has Content-Length %d, X-Answer %q; want the full 17 and the normal headers",
					resp.ContentLength, resp.Header.Get("X-Answer"))
			}
		})
	}
}

func TestServeTruncatesEmptyBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Serve(w, r, Truncate, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Errorf("read a truncated empty answer (%d, Content-Length %d) without an error; want one", resp.StatusCode, resp.ContentLength)
	}
}

func TestSlow(t *testing.T) {
	var answered atomic.Int32
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := time.Millisecond
		if r.URL.Path == "/long" {
			d = time.Hour
		}
		if Slow(r, d, stop) == Pass {
			answered.Add(1)
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()

	resp, err := srv.Client().Post(srv.URL+"/short", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || answered.Load() != 1 {
		t.Fatalf("short wait: %d, %d answered; want 200 and 1", resp.StatusCode, answered.Load())
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/long", nil)
	start := time.Now()
	if _, err := srv.Client().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("long wait with a deadline: %v; want DeadlineExceeded", err)
	}

	go func() {
		time.Sleep(20 * time.Millisecond)
		close(stop)
	}()
	if _, err := srv.Client().Get(srv.URL + "/long"); err == nil {
		t.Error("long wait, then stop: no error; want the connection aborted")
	}
	if time.Since(start) > 10*time.Second || answered.Load() != 1 {
		t.Errorf("slow answers took %v, %d answered; want them aborted at once, 1 answered", time.Since(start), answered.Load())
	}
}

func TestGatewayError(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		page   string
		want   string
		ok     bool
	}{
		{"502 generic", 502, "", "<html><body><h1>502 Bad Gateway</h1></body></html>\n", true},
		{"504 own page", 504, "<p>down</p>", "<p>down</p>", true},
		{"500", 500, "", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if ok := GatewayError(w, tt.status, tt.page); ok != tt.ok {
				t.Fatalf("got %v; want %v", ok, tt.ok)
			}
			if w.Body.String() != tt.want || tt.ok && (w.Code != tt.status || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html")) {
				t.Errorf("got %d %q %q; want %d %q, HTML", w.Code, w.Header().Get("Content-Type"), w.Body, tt.status, tt.want)
			}
		})
	}
}

type testStats struct {
	API, NotModified int
	Routes           map[string]int
}

func TestLog(t *testing.T) {
	var l Log[string, testStats]
	if _, routes, _ := l.Stats(); routes == nil {
		t.Error("Stats of an empty log: nil routes; want an empty map")
	}
	api := func(st *testStats) { st.API++ }
	l.Record("GET /a", "GET /{x}", api)
	l.Record("GET /b", "GET /{x}", api)
	l.Record("GET /nowhere", "", nil)
	l.Count(func(st *testStats) { st.NotModified++ })
	counts, routes, unrouted := l.Stats()
	routes["GET /{x}"] = 99 // a copy
	_, routes2, _ := l.Stats()
	if diff := cmp.Diff(testStats{API: 2, NotModified: 1}, counts); diff != "" || routes2["GET /{x}"] != 2 || unrouted != 1 {
		t.Errorf("counts (-want +got):\n%s; routes %v, unrouted %d; want GET /{x}: 2, 1 unrouted", diff, routes2, unrouted)
	}
	if diff := cmp.Diff([]string{"GET /a", "GET /b", "GET /nowhere"}, l.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	l.Reset()
	counts, routes, unrouted = l.Stats()
	if len(l.Requests()) != 0 || counts.API+counts.NotModified != 0 || len(routes) != 0 || unrouted != 0 {
		t.Errorf("after Reset: %v, %+v, %v, %d; want nothing", l.Requests(), counts, routes, unrouted)
	}
}

func TestMarshal(t *testing.T) {
	if got := string(Marshal(map[string]string{"q": "<a&b>"})); got != `{"q":"<a&b>"}` {
		t.Errorf("got %s; want HTML characters unescaped, no newline", got)
	}
}

func TestWriteHead(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, httptest.NewRequest("HEAD", "/", nil), http.StatusOK, "application/json", []byte("{}"))
	if w.Body.Len() != 0 || w.Header().Get("Content-Length") != "2" || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("HEAD: body %q, headers %v; want no body, Content-Length 2", w.Body, w.Header())
	}
}

func TestETagMatches(t *testing.T) {
	for _, tt := range []struct {
		name, inm, etag string
		want            bool
	}{
		{"absent", "", `"a"`, false},
		{"same", `"a"`, `"a"`, true},
		{"weak", `W/"a"`, `"a"`, true},
		{"weak etag", `"a"`, `W/"a"`, true},
		{"list", `"b", "a"`, `"a"`, true},
		{"star", "*", `"a"`, true},
		{"other", `"b"`, `"a"`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ETagMatches(tt.inm, tt.etag); got != tt.want {
				t.Errorf("ETagMatches(%q, %q) = %v; want %v", tt.inm, tt.etag, got, tt.want)
			}
		})
	}
}

func TestReadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"a.txt":      {Data: []byte("a")},
		"bin/run.sh": {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
		"link":       {Data: []byte("a.txt"), Mode: fs.ModeSymlink},
	}
	for _, tt := range []struct {
		name        string
		regularOnly bool
		want        []File
	}{
		{"links read through", false, []File{{Path: "a.txt", Content: []byte("a")},
			{Path: "bin/run.sh", Content: []byte("#!/bin/sh\n"), Executable: true}, {Path: "link", Content: []byte("a")}}},
		{"regular files only", true, []File{{Path: "a.txt", Content: []byte("a")},
			{Path: "bin/run.sh", Content: []byte("#!/bin/sh\n"), Executable: true}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadFS(fsys, tt.regularOnly)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestArchive(t *testing.T) {
	when := time.Date(2024, 5, 6, 7, 8, 9, 500_000_000, time.UTC)
	a := &Archive{Commit: "0123456789abcdef0123456789abcdef01234567", Prefix: "acme-svc/", ModTime: when, Files: []File{
		{Path: "README.md", Content: []byte("# svc\n")},
		{Path: "bin/run.sh", Content: []byte("#!/bin/sh\n"), Executable: true},
		{Path: "docs/a/b.md", Content: []byte("b")},
	}}
	var buf bytes.Buffer
	if err := a.WriteTar(&buf, 0o775); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			got = append(got, "comment "+h.PAXRecords["comment"])
			continue
		}
		if !h.ModTime.Equal(when.Truncate(time.Second)) {
			t.Errorf("%s dated %v; want %v", h.Name, h.ModTime, when.Truncate(time.Second))
		}
		got = append(got, h.Name+" "+fs.FileMode(h.Mode).String())
	}
	want := []string{"comment " + a.Commit, "acme-svc/ -rwxrwxr-x", "acme-svc/bin/ -rwxrwxr-x", "acme-svc/docs/ -rwxrwxr-x",
		"acme-svc/docs/a/ -rwxrwxr-x", "acme-svc/README.md -rw-rw-r--", "acme-svc/bin/run.sh -rwxrwxr-x", "acme-svc/docs/a/b.md -rw-rw-r--"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tar entries (-want +got):\n%s", diff)
	}

	buf.Reset()
	if err := a.WriteZip(&buf, 0o755, true); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got = []string{"comment " + zr.Comment}
	for _, f := range zr.File {
		got = append(got, f.Name+" "+f.Mode().String())
	}
	want = []string{"comment " + a.Commit, "acme-svc/README.md -rw-r--r--", "acme-svc/bin/run.sh -rwxr-xr-x", "acme-svc/docs/a/b.md -rw-r--r--"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("zip entries (-want +got):\n%s", diff)
	}
}

func TestIsDir(t *testing.T) {
	files := map[string]int{"a/b/c.txt": 1, "ab.txt": 2}
	for _, tt := range []struct {
		name, dir string
		want      bool
	}{
		{"root", "", true},
		{"parent", "a", true},
		{"nested", "a/b", true},
		{"file", "ab.txt", false},
		{"prefix of a name", "a/b/c", false},
		{"missing", "x", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsDir(files, tt.dir); got != tt.want {
				t.Errorf("IsDir(%q) = %v; want %v", tt.dir, got, tt.want)
			}
		})
	}
	if !IsDir(map[string]int{}, "") {
		t.Error(`IsDir(empty, "") = false; want true`)
	}
}
