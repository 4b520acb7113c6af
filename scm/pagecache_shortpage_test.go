package scm_test

import (
	"slices"
	"testing"
)

// An owner whose repositories fit in one page (most owners) is answered
// 304 on a refresh: the last page is revalidated when it has room left,
// since any change of the listing changes its body. Before, the last page
// was always read in full, so a one-page owner never got a 304 (on GitHub,
// a counted request on every refresh). A new repository still shows.
func TestPageCacheOnePageOwnerRevalidated(t *testing.T) {
	for _, mk := range listingFakes {
		f := mk(t, 50)
		t.Run(f.name, func(t *testing.T) {
			c := f.client(t, "token-a", newMemPages())
			first := names(t, c, f.owner)
			req1, nm1 := f.stats()
			second := names(t, c, f.owner)
			req2, nm2 := f.stats()
			if !slices.Equal(first, second) || len(second) != 50 {
				t.Fatalf("second run: %d repositories, same as the first: %v; want 50, true", len(second), slices.Equal(first, second))
			}
			if req2-req1 != 1 || nm2-nm1 != 1 {
				t.Errorf("refresh of a one-page owner: %d requests, %d answered 304; want 1, 1", req2-req1, nm2-nm1)
			}
			f.add(t, 9999)
			third := names(t, c, f.owner)
			req3, nm3 := f.stats()
			if len(third) != 51 || !slices.Contains(third, "acme/svc-9999") {
				t.Errorf("after a new repository: %d repositories, new one listed %v; want 51, true", len(third), slices.Contains(third, "acme/svc-9999"))
			}
			if req3-req2 != 1 || nm3-nm2 != 0 {
				t.Errorf("after a new repository: %d requests, %d answered 304; want 1, 0", req3-req2, nm3-nm2)
			}
		})
	}
}
