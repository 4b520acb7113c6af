package scm_test

import "testing"

// A listing whose last page is exactly full: a new repository makes a new
// page, but the full page's body (and so its body-derived ETag) does not
// change; only its paging headers (Link rel="next", X-Next-Page,
// X-Total-Pages) do. The 304 replays the cached paging headers, which say
// there is no next page, and the new repository is never listed.
func TestPageCacheNewPageBehindFullLastPage(t *testing.T) {
	for _, mk := range listingFakes {
		f := mk(t, 100)
		t.Run(f.name, func(t *testing.T) {
			pc := newMemPages()
			c := f.client(t, "token-a", pc)
			if n := len(names(t, c, f.owner)); n != 100 {
				t.Fatalf("first run: %d", n)
			}
			f.add(t, 9999)
			got := names(t, c, f.owner)
			nocache := names(t, f.client(t, "token-a", nil), f.owner)
			if len(got) != 101 {
				t.Errorf("with the page cache: %d repositories after adding one; want 101 (without cache: %d)", len(got), len(nocache))
			}
		})
	}
}
