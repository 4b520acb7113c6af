package scm

import (
	"net/http"
	"strings"
	"testing"
)

// items returns a JSON array of n objects.
func items(n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(`{"id":1},`, n), ",") + "]"
}

// Which cached last pages are revalidated: those with fewer items than a
// page holds, counted in the body's array (or the one array of an object,
// as GitHub's installation listing answers), against min(per_page,
// X-Per-Page, 100). Anything else is read in full.
func TestShortLastPage(t *testing.T) {
	for _, tc := range []struct {
		name, query, perHeader, body string
		want                         bool
	}{
		{"short array", "per_page=100", "", items(50), true},
		{"empty listing", "per_page=100", "", "[]", true},
		{"full array", "per_page=100", "", items(100), false},
		{"no per_page", "", "", items(5), false},
		{"bad per_page", "per_page=x", "", items(5), false},
		{"per_page above the providers' 100", "per_page=500", "", items(100), false},
		{"X-Per-Page smaller than asked", "per_page=100", "20", items(20), false},
		{"X-Per-Page, short", "per_page=100", "20", items(19), true},
		{"installation object, short", "per_page=100", "", `{"total_count":3,"repositories":` + items(3) + `}`, true},
		{"installation object, full", "per_page=3", "", `{"total_count":7,"repositories":` + items(3) + `}`, false},
		{"object with two arrays", "per_page=100", "", `{"a":[],"b":[1]}`, false},
		{"object without array", "per_page=100", "", `{"message":"x"}`, false},
		{"not JSON", "per_page=100", "", "<html>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "https://api.example.com/orgs/acme/repos?"+tc.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := &CachedPage{ETag: `"e"`, Header: http.Header{}, Body: []byte(tc.body)}
			if tc.perHeader != "" {
				p.Header.Set("X-Per-Page", tc.perHeader)
			}
			if got := shortLastPage(req, p); got != tc.want {
				t.Errorf("shortLastPage = %v; want %v", got, tc.want)
			}
		})
	}
}
