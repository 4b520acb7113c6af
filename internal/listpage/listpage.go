// Package listpage holds the rule by which a cached last page of a REST
// listing (GitHub's, GitLab's: offset pages of at most 100 items) may be
// revalidated with If-None-Match instead of read in full.
//
// A last page that is full can stay the same while the listing grows: the
// new item starts a page of its own, and only the last page's paging
// headers (Link rel="next"), which a 304 Not Modified need not send, would
// show it. A last page with room left cannot: a new item (or one shifted
// in from an earlier page by an insertion before it) joins it, since it
// has room, and an item removed anywhere before or on it takes an item out
// of it (the pages before it shift one item each), so its body and ETag
// change. Such a page is revalidated like the others; a 304 to it is as
// good as reading it again.
package listpage

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// MaxSize is the most items GitHub and GitLab put in a listing page,
// whatever per_page asks for (both document a maximum of 100).
const MaxSize = 100

// Size is how many items a page holds when asked for with u and answered
// with header h (nil when there is none to read): min(per_page,
// X-Per-Page, MaxSize). per_page comes from u's query; without a positive
// one the page size is not known and ok is false. X-Per-Page is read
// where the provider sends it (GitLab).
func Size(u *url.URL, h http.Header) (n int, ok bool) {
	if u == nil {
		return 0, false
	}
	per, err := strconv.Atoi(u.Query().Get("per_page"))
	if err != nil || per <= 0 {
		return 0, false
	}
	if v, err := strconv.Atoi(h.Get("X-Per-Page")); err == nil && v > 0 {
		per = min(per, v)
	}
	return min(per, MaxSize), true
}

// RoomLeft reports whether a last page of n items, asked for with u and
// answered with header h, has room left: fewer items than [Size]. Such a
// page may be revalidated (see the package documentation); a page whose
// size is not known has no room left.
func RoomLeft(u *url.URL, h http.Header, n int) bool {
	size, ok := Size(u, h)
	return ok && n >= 0 && n < size
}

// Items counts the items of a listing page's body: the elements of a JSON
// array, or of the only array among a JSON object's members (GitHub's
// {"total_count": n, "installations": [...]}). ok is false for a body of
// another shape.
func Items(body []byte) (n int, ok bool) {
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err == nil {
		return len(items), true
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return 0, false
	}
	arrays := 0
	for _, v := range obj {
		if len(v) == 0 || v[0] != '[' {
			continue
		}
		if err := json.Unmarshal(v, &items); err != nil {
			return 0, false
		}
		n, arrays = len(items), arrays+1
	}
	return n, arrays == 1
}
