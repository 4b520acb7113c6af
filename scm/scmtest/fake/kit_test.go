package fake_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

func TestKitFaultsAndLog(t *testing.T) {
	type stats struct{ api int }
	k, c := fake.NewKit[stats](func(w http.ResponseWriter, r *http.Request, f fake.Fault) bool {
		if f.Kind != fake.FaultNotFound {
			return false
		}
		http.Error(w, "gone", http.StatusNotFound)
		return true
	}, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.Record(r, "api", "GET /x/{y}", func(s *stats) { s.api++ })
		c.Serve(w, r, "api", "api", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	}))
	defer srv.Close()
	get := func(p string) int {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	k.Inject(fake.Fault{Kind: fake.FaultNotFound, Times: 1, Path: "/x/a%2Fb"})
	k.Inject(fake.Fault{Kind: fake.FaultNotFound, Host: "download"})
	k.Inject(fake.Fault{Kind: fake.FaultUnauthorized}) // not produced: passes
	if got := get("/x/c"); got != 200 {
		t.Errorf("unfiltered path: %d; want 200", got)
	}
	if got := get("/x/a%2Fb"); got != 404 {
		t.Errorf("escaped path filter: %d; want 404", got)
	}
	if got := get("/x/a%2Fb"); got != 200 {
		t.Errorf("after Times: %d; want 200", got)
	}
	k.ClearFaults()
	reqs := k.Requests()
	if len(reqs) != 3 || reqs[1].Path != "/x/a%2Fb" || reqs[1].Route != "GET /x/{y}" || reqs[1].Host != "api" {
		t.Errorf("requests = %+v", reqs)
	}
	if s, routes, _ := c.Log().Stats(); s.api != 3 || routes["GET /x/{y}"] != 3 {
		t.Errorf("stats = %+v %v", s, routes)
	}
	if got := k.RequestsTo("api"); len(got) != 3 {
		t.Errorf("RequestsTo(api) = %d requests; want 3", len(got))
	}
	if got := k.RequestsTo("download"); len(got) != 0 {
		t.Errorf("RequestsTo(download) = %+v; want none", got)
	}
	k.ResetStats()
	if len(k.Requests()) != 0 {
		t.Error("ResetStats left requests")
	}
	if fake.FaultLostAnswer.String() != "FaultLostAnswer" {
		t.Error(fake.FaultLostAnswer.String())
	}
}
