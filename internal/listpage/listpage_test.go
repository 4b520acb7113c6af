package listpage

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// items returns a JSON array of n objects.
func items(n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(`{"id":1},`, n), ",") + "]"
}

// Which last pages have room left: those with fewer items than a page
// holds, counted in the body's array (or the one array of an object, as
// GitHub's installation listings answer), against min(per_page,
// X-Per-Page, 100). Anything else has none.
func TestRoomLeft(t *testing.T) {
	for _, tc := range []struct {
		name, query, perHeader, body string
		want                         bool
	}{
		{"short array", "per_page=100", "", items(50), true},
		{"empty listing", "per_page=100", "", "[]", true},
		{"full array", "per_page=100", "", items(100), false},
		{"no per_page", "", "", items(5), false},
		{"bad per_page", "per_page=x", "", items(5), false},
		{"zero per_page", "per_page=0", "", "[]", false},
		{"per_page above the providers' 100", "per_page=500", "", items(100), false},
		{"per_page above 100, short", "per_page=500", "", items(99), true},
		{"X-Per-Page smaller than asked", "per_page=100", "20", items(20), false},
		{"X-Per-Page, short", "per_page=100", "20", items(19), true},
		{"bad X-Per-Page", "per_page=30", "x", items(29), true},
		{"installation object, short", "per_page=100", "", `{"total_count":3,"repositories":` + items(3) + `}`, true},
		{"installation object, full", "per_page=3", "", `{"total_count":7,"repositories":` + items(3) + `}`, false},
		{"object with two arrays", "per_page=100", "", `{"a":[],"b":[1]}`, false},
		{"object without array", "per_page=100", "", `{"message":"x"}`, false},
		{"not JSON", "per_page=100", "", "<html>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse("https://api.example.com/orgs/acme/repos?" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			if tc.perHeader != "" {
				h.Set("X-Per-Page", tc.perHeader)
			}
			n, ok := Items([]byte(tc.body))
			if got := ok && RoomLeft(u, h, n); got != tc.want {
				t.Errorf("RoomLeft = %v (%d items, %v); want %v", got, n, ok, tc.want)
			}
		})
	}
}

// A nil URL or header, or a negative count, is handled, not a panic.
func TestSizeNil(t *testing.T) {
	if n, ok := Size(nil, nil); ok || n != 0 {
		t.Errorf("Size(nil, nil) = %d, %v; want 0, false", n, ok)
	}
	u, _ := url.Parse("https://api.example.com/app/installations?per_page=100")
	if n, ok := Size(u, nil); !ok || n != 100 {
		t.Errorf("Size(per_page=100, nil) = %d, %v; want 100, true", n, ok)
	}
	if RoomLeft(u, nil, -1) {
		t.Error("RoomLeft(-1 items) = true; want false")
	}
}
