package bitbucketserverscm_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/bitbucketserverscm"
	"github.com/scmkit/scmkit/scm/driver"
)

// cannedDriver returns a driver for a server that answers every search
// with status and body, and a counter of the searches it received.
func cannedDriver(t testing.TB, status int, ctype, body string) (*bitbucketserverscm.Driver, *http.Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/bb/rest/search/latest/search" {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		}
		n.Add(1)
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	reg, err := integrations.NewRegistry(integrations.Config{BitbucketServer: []integrations.BitbucketServerConfig{{
		Host: strings.TrimPrefix(srv.URL, "http://"), APIBaseURL: srv.URL + "/bb/rest/api/1.0", Token: integrations.NewSecret(goodToken)}}})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := reg.ByHost(strings.TrimPrefix(srv.URL, "http://"))
	d, err := bitbucketserverscm.New(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d, srv.Client(), &n
}

const jsonType = "application/json;charset=UTF-8"

// TestFindFilesSearchAnswers: how each answer of the search endpoint is
// classified, and whether the driver then stops searching.
func TestFindFilesSearchAnswers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		ctype      string
		body       string
		wantCode   errcode.Code // 0: success
		remembered bool         // the next call makes no request
		wantRepos  []string
	}{
		{name: "404 page", status: 404, ctype: "text/html", body: "<html>Page not found</html>",
			wantCode: errcode.Unimplemented, remembered: true},
		{name: "405", status: 405, ctype: jsonType, body: `{"errors":[{"message":"Method Not Allowed"}]}`,
			wantCode: errcode.Unimplemented, remembered: true},
		{name: "503 search down", status: 503, ctype: jsonType,
			body:     `{"errors":[{"context":null,"message":"Search is currently unavailable","exceptionName":"x.SearchUnavailableException"}]}`,
			wantCode: errcode.Unimplemented, remembered: true},
		{name: "200 without code", status: 200, ctype: jsonType, body: `{"scope":{"type":"GLOBAL"}}`,
			wantCode: errcode.Unimplemented, remembered: true},
		{name: "200 login page", status: 200, ctype: "text/html", body: "<html>Log in</html>",
			wantCode: errcode.Unimplemented, remembered: true},
		{name: "400 query refused", status: 400, ctype: jsonType, body: `{"errors":[{"message":"Invalid search query"}]}`,
			wantCode: errcode.Unimplemented},
		{name: "401", status: 401, ctype: jsonType, body: `{"errors":[{"message":"Authentication failed"}]}`,
			wantCode: errcode.Unauthorized},
		{name: "403", status: 403, ctype: jsonType, body: `{"errors":[{"message":"no"}]}`,
			wantCode: errcode.PermissionDenied},
		{name: "hits filtered", status: 200, ctype: jsonType, body: `{"code":{"isLastPage":true,"count":4,"start":0,"nextStart":4,"values":[
			{"repository":{"slug":"a","project":{"key":"ACME"},"defaultBranch":"main"},"file":"catalog-info.yaml"},
			{"repository":{"slug":"b","project":{"key":"ACME"}},"file":"sub/catalog-info.yaml"},
			{"repository":{"slug":"c","project":{"key":"OTHER"}},"file":"catalog-info.yaml"},
			{"repository":{"slug":"","project":{"key":"ACME"}},"file":"catalog-info.yaml"},
			{"repository":{"slug":"d","project":{"key":"acme"}},"file":"Catalog-Info.yaml"}]}}`,
			wantRepos: []string{"ACME/a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, hc, n := cannedDriver(t, tc.status, tc.ctype, tc.body)
			page, err := d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: "acme", Path: "catalog-info.yaml"})
			if got := d.ErrorInfo(err).Code; err != nil && got != tc.wantCode || err == nil && tc.wantCode != 0 {
				t.Fatalf("FindFiles: %v (code %v); want code %v", err, got, tc.wantCode)
			}
			if err == nil {
				var got []string
				for _, f := range page.Results {
					if !f.Found {
						t.Errorf("%+v: Found false", f)
					}
					got = append(got, f.Repository.Owner+"/"+f.Repository.Name)
				}
				if strings.Join(got, ",") != strings.Join(tc.wantRepos, ",") || page.Next != "" {
					t.Errorf("FindFiles = %v next %q; want %v", got, page.Next, tc.wantRepos)
				}
			}
			if err != nil && strings.Contains(err.Error(), goodToken) {
				t.Errorf("error holds the token: %v", err)
			}
			_, _ = d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: "acme", Path: "catalog-info.yaml"})
			want := int32(2)
			if tc.remembered {
				want = 1
			}
			if got := n.Load(); got != want {
				t.Errorf("two FindFiles made %d searches; want %d", got, want)
			}
			if d.SearchAvailable() == tc.remembered {
				t.Errorf("SearchAvailable() = %v; want %v", d.SearchAvailable(), !tc.remembered)
			}
		})
	}
}

// TestFindFilesSearchCursor: a cursor that is not a start index is
// refused before any request; a later page that fails is an error, not a
// fallback.
func TestFindFilesSearchCursor(t *testing.T) {
	d, hc, n := cannedDriver(t, 503, jsonType, `{"errors":[{"message":"down"}]}`)
	for _, cur := range []string{"x", "-1", "http://evil/"} {
		_, err := d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: "acme", Path: "catalog-info.yaml", Cursor: cur})
		if got := d.ErrorInfo(err).Code; got != errcode.InvalidArgument {
			t.Errorf("cursor %q: %v (code %v); want InvalidArgument", cur, err, got)
		}
	}
	if n.Load() != 0 {
		t.Errorf("bad cursors made %d requests; want 0", n.Load())
	}
	_, err := d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: "acme", Path: "catalog-info.yaml", Cursor: "100"})
	if got := d.ErrorInfo(err).Code; got != errcode.Unavailable {
		t.Errorf("failing second page: %v (code %v); want Unavailable", err, got)
	}
	if !d.SearchAvailable() {
		t.Error("a failing second page turned search off")
	}
}

// FuzzFindFilesSearchAnswer: any answer gives an error or only exact
// hits, never a panic.
func FuzzFindFilesSearchAnswer(f *testing.F) {
	f.Add(200, `{"code":{"isLastPage":false,"nextStart":100,"values":[{"repository":{"slug":"a","project":{"key":"ACME"}},"file":"catalog-info.yaml"}]}}`)
	f.Add(200, `{"code":{"isLastPage":false,"nextStart":-5,"values":null}}`)
	f.Add(200, `{"code":null}`)
	f.Add(503, `{"errors":[{"message":"x"}]}`)
	f.Add(200, `[`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 200 || status > 599 || status == 304 {
			return
		}
		d, hc, _ := cannedDriver(t, status, jsonType, body)
		page, err := d.FindFiles(t.Context(), hc, &driver.FindFilesRequest{Owner: "acme", Path: "catalog-info.yaml"})
		if err != nil {
			return
		}
		for _, r := range page.Results {
			if r.Repository.Owner != "ACME" || r.Repository.Name == "" {
				t.Errorf("hit outside the project: %+v", r.Repository)
			}
		}
		if page.Next != "" && page.Next <= "0" {
			t.Errorf("Next = %q does not move forward", page.Next)
		}
	})
}
