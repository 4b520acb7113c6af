package gitlaborg_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// endlessGraphQL makes every GraphQL connection in GitLab's answers
// promise one more page forever, under the same cursor.
var endlessGraphQL = readertest.Rewrite{Path: "/graphql", Edit: readertest.EndlessGraphQL("eyJpZCI6IjEifQ")}

// endlessUsers makes every REST page of users name page 2 as the next.
var endlessUsers = readertest.Rewrite{Path: "/users", Edit: func(resp *http.Response, b []byte) []byte {
	resp.Header.Set("X-Next-Page", "2")
	return b
}}

func TestRepeatedCursorEndsTheRead(t *testing.T) {
	for _, tt := range []struct {
		name    string
		endless readertest.Rewrite
	}{{"graphql", endlessGraphQL}, {"rest users", endlessUsers}} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, nil)
			seed(t, w.fake)
			for i := range 150 {
				w.fake.AddOrgUser(fakegitlab.Member{Username: fmt.Sprintf("user%d", i)})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var n atomic.Int64
			snap, err := w.reader(t, gitlaborg.Config{Group: "acme"}, func(o *gitlaborg.Options) {
				o.Transport = countingRT{tt.endless, &n}
			}).Read(ctx)
			if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "repeated a page cursor") {
				t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the repeated cursor", snap != nil, err)
			}
			if n.Load() > 5 {
				t.Errorf("requests = %d, want at most 5", n.Load())
			}
		})
	}
}

type countingRT struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (c countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(req)
}

// pageIgnored answers every REST page of users with the first page and
// one more page to come, as a server that ignores the page asked for
// would: every next page is new, the listing never ends.
func pageIgnored() readertest.Rewrite {
	var first []byte
	return readertest.Rewrite{Path: "/users", Edit: func(resp *http.Response, b []byte) []byte {
		if first == nil {
			first = b
		}
		page, _ := strconv.Atoi(resp.Request.URL.Query().Get("page"))
		resp.Header.Set("X-Next-Page", strconv.Itoa(max(page, 1)+1))
		return first
	}}
}

// TestPageWithNothingNewEndsTheRead: a page of users that brings no user
// not listed before, with more pages promised, ends the read with an
// error instead of a listing that never ends.
func TestPageWithNothingNewEndsTheRead(t *testing.T) {
	w := newWorld(t, nil)
	seed(t, w.fake)
	for i := range 150 {
		w.fake.AddOrgUser(fakegitlab.Member{Username: fmt.Sprintf("user%d", i)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n atomic.Int64
	snap, err := w.reader(t, gitlaborg.Config{Group: "acme"}, func(o *gitlaborg.Options) {
		o.Transport = countingRT{pageIgnored(), &n}
	}).Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "users") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the users", snap != nil, err)
	}
	if n.Load() > 5 {
		t.Errorf("requests = %d, want at most 5", n.Load())
	}
}

// sameSubgroupNewCursor answers every GraphQL query with the group acme
// whose one subgroup comes with one more page under a cursor never given
// before, as a server that ignores the cursor asked for would.
func sameSubgroupNewCursor() readertest.Rewrite {
	var n atomic.Int64
	const none = `"groupMembers":{"pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[]}`
	return readertest.Rewrite{Path: "/graphql", Edit: func(resp *http.Response, _ []byte) []byte {
		resp.StatusCode = http.StatusOK
		return fmt.Appendf(nil, `{"data":{"group":{"id":"gid://gitlab/Group/1","fullPath":"acme","name":"acme","parent":null,`+none+`,`+
			`"descendantGroups":{"pageInfo":{"hasNextPage":true,"endCursor":"c%d"},"nodes":[`+
			`{"id":"gid://gitlab/Group/2","fullPath":"acme/web","name":"web","parent":{"fullPath":"acme"},`+none+`}]}}}}`, n.Add(1))
	}}
}

// TestSubgroupPageWithNothingNewEndsTheRead: a page of subgroups with no
// group not read before, and more promised, ends the read with an error
// instead of a listing that never ends under ever-new cursors.
func TestSubgroupPageWithNothingNewEndsTheRead(t *testing.T) {
	w := newWorld(t, nil)
	seed(t, w.fake)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n atomic.Int64
	snap, err := w.reader(t, gitlaborg.Config{Group: "acme", RestrictUsersToGroup: true}, func(o *gitlaborg.Options) {
		o.Transport = countingRT{sameSubgroupNewCursor(), &n}
	}).Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "subgroups of acme") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the subgroups", snap != nil, err)
	}
	if n.Load() > 3 {
		t.Errorf("requests = %d, want at most 3", n.Load())
	}
}
