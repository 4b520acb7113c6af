package fakebitbucketserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

func TestParseSearchQuery(t *testing.T) {
	for _, tc := range []struct {
		q       string
		want    *searchQuery
		wantErr bool
	}{
		{q: `project:ACME ext:yaml "catalog-info"`, want: &searchQuery{project: "ACME", ext: "yaml", terms: []string{"catalog-info"}}},
		{q: `Foo  repo:ACME/svc bar`, want: &searchQuery{repo: "ACME/svc", terms: []string{"foo", "bar"}}},
		{q: `"two words"`, want: &searchQuery{terms: []string{"two words"}}},
		{q: `project:ACME`, wantErr: true},
		{q: `"open`, wantErr: true},
		{q: `lang:go x`, wantErr: true},
		{q: ``, wantErr: true},
	} {
		got, err := parseSearchQuery(tc.q)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseSearchQuery(%q) error %v; want error %v", tc.q, err, tc.wantErr)
			continue
		}
		if err == nil && (got.project != tc.want.project || got.repo != tc.want.repo || got.ext != tc.want.ext ||
			!slices.Equal(got.terms, tc.want.terms)) {
			t.Errorf("parseSearchQuery(%q) = %+v; want %+v", tc.q, got, tc.want)
		}
	}
}

func FuzzParseSearchQuery(f *testing.F) {
	for _, s := range []string{`project:ACME ext:yaml "catalog-info"`, `"a" "b`, `x:`, `:`, `""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got, err := parseSearchQuery(q)
		if err == nil && len(got.terms) == 0 {
			t.Errorf("parseSearchQuery(%q) accepted a query without terms", q)
		}
	})
}

// TestSearchEndpoint: the endpoint indexes default branches only, pages,
// refuses queries of modifiers only, and answers as configured when
// search is not available.
func TestSearchEndpoint(t *testing.T) {
	s := New(&Options{ContextPath: "/bb", Tokens: []string{"tok"}})
	defer s.Close()
	for _, name := range []string{"a", "b", "c"} {
		if _, err := s.AddRepo(Repo{Project: "ACME", Name: name, Files: []fake.File{{Path: "catalog-info.yaml", Content: []byte("x")}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Commit("ACME", "a", "feature", Commit{Message: "m", Files: []fake.File{{Path: "other/catalog-info.yaml"}}}); err != nil {
		t.Fatal(err)
	}
	post := func(body string, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/rest/search/latest/search", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m) //nolint:errcheck // some answers are not JSON
		return resp.StatusCode, m
	}
	q := `{"query":"project:acme ext:yaml \"catalog-info\"","entities":{"code":{"start":0,"limit":2}}}`
	st, m := post(q, "tok")
	code, _ := m["code"].(map[string]any)
	if st != 200 || code == nil || code["count"] != float64(3) || code["isLastPage"] != false || code["nextStart"] != float64(2) {
		t.Fatalf("first page: %d %v", st, m)
	}
	st, m = post(`{"query":"project:acme ext:yaml \"catalog-info\"","entities":{"code":{"start":2,"limit":2}}}`, "tok")
	code, _ = m["code"].(map[string]any)
	if vals, _ := code["values"].([]any); st != 200 || code["isLastPage"] != true || len(vals) != 1 {
		t.Fatalf("last page: %d %v", st, m)
	}
	if st, _ := post(`{"query":"project:ACME","entities":{"code":{}}}`, "tok"); st != 400 {
		t.Errorf("modifiers only: %d; want 400", st)
	}
	if st, _ := post(q, "bad"); st != 401 {
		t.Errorf("bad token: %d; want 401", st)
	}
	s.SetSearch(SearchNotInstalled)
	if st, _ := post(q, "tok"); st != 404 {
		t.Errorf("SearchNotInstalled: %d; want 404", st)
	}
	s.SetSearch(SearchUnavailable)
	if st, m := post(q, "tok"); st != 503 || m["errors"] == nil {
		t.Errorf("SearchUnavailable: %d %v; want 503 with errors", st, m)
	}
	if got := s.Stats().Routes["POST /rest/search/latest/search"]; got != 6 {
		t.Errorf("Routes[search] = %d; want 6", got)
	}
}
