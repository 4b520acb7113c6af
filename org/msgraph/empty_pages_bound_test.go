package msgraph_test

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org/internal/orgx"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/org/msgraph"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
)

// someEmptyPages answers the first k pages of /users/delta empty, each
// with a nextLink never given before, and the rest as Graph does.
func someEmptyPages(k int64) readertest.Rewrite {
	var n atomic.Int64
	return readertest.Rewrite{Path: "/users/delta", Edit: func(resp *http.Response, b []byte) []byte {
		i := n.Add(1)
		if i > k {
			return b
		}
		u := *resp.Request.URL
		q := u.Query()
		q.Set("n", strconv.FormatInt(i, 10))
		u.RawQuery = q.Encode()
		return []byte(`{"value":[],"@odata.nextLink":` + strconv.Quote(u.String()) + `}`)
	}}
}

// TestEmptyPagesBoundIsExact: a run of orgx.MaxEmptyPages empty pages is
// followed to the users after it; one more empty page ends the read.
func TestEmptyPagesBoundIsExact(t *testing.T) {
	for _, tc := range []struct {
		k  int64
		ok bool
	}{{orgx.MaxEmptyPages, true}, {orgx.MaxEmptyPages + 1, false}} {
		f := fakegraph.New(nil)
		f.PutUser(fakegraph.User{DisplayName: "Jane", Mail: "jane@contoso.com"})
		snap, err := newReader(t, cfgFor(f), func(o *msgraph.Options) { o.Transport = someEmptyPages(tc.k) }).Read(context.Background())
		f.Close()
		if tc.ok && (err != nil || len(snap.Users) != 1) {
			t.Errorf("%d empty pages: %v; want Jane read", tc.k, err)
		}
		if !tc.ok && (snap != nil || errcode.CodeOf(err) != errcode.Unavailable) {
			t.Errorf("%d empty pages: snapshot %v, %v; want none and Unavailable", tc.k, snap != nil, err)
		}
	}
}
