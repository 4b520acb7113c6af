package githuborg_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

func TestRepeatedCursorEndsTheRead(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}, PageSizes: githuborg.PageSizes{OrganizationMembers: 2, Teams: 2, TeamMembers: 1}},
		func(o *githuborg.Options) {
			o.Transport = readertest.Rewrite{Path: "/graphql", Edit: readertest.EndlessGraphQL("Y3Vyc29yOnYyOpHOAAAAAQ==")}
		}).Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "repeated a page cursor") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the repeated cursor", snap != nil, err)
	}
	if n := w.fake.Stats().API; n > 3 {
		t.Errorf("requests = %d, want at most 3 (the repeat seen on the second page)", n)
	}
}

// renameTeam rewrites one slug into another in GraphQL answers, so that
// the server sends the same team twice.
func renameTeam(from, to string) readertest.Rewrite {
	return readertest.Rewrite{Path: "/graphql", Edit: func(_ *http.Response, b []byte) []byte {
		return bytes.ReplaceAll(b, []byte(`"slug":"`+from+`"`), []byte(`"slug":"`+to+`"`))
	}}
}

// TestTeamsBackstageWouldRejectAreSkipped: a team slug longer than
// Backstage's 63 characters, or a team sent twice, is left out with a
// warning (and no ref points at it) instead of failing the whole read.
func TestTeamsBackstageWouldRejectAreSkipped(t *testing.T) {
	long := strings.Repeat("very-long-team-name-", 4) + "x" // 81 characters
	t.Run("long slug", func(t *testing.T) {
		w := newWorld(t)
		seedAcme(t, w.fake)
		must(t, w.fake.AddTeam("acme", fakegithub.Team{Slug: long, Name: "Long", Parent: "engineering", Members: []string{"dave"}}))
		must(t, w.fake.AddTeam("acme", fakegithub.Team{Slug: "deep", Name: "Deep", Parent: long, Members: []string{"dave"}}))
		snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, nil).Read(context.Background())
		must(t, err)
		if snap.Group(org.GroupRef("", long)) != nil || len(snap.Groups) != 5 {
			t.Errorf("groups = %d, the long-named team kept: %v", len(snap.Groups), snap.Group(org.GroupRef("", long)) != nil)
		}
		if d := snap.Group(org.GroupRef("", "deep")); d == nil || d.Spec.Parent != "" {
			t.Errorf("deep = %+v, want it kept without a parent", d)
		}
		if e := snap.Group(org.GroupRef("", "engineering")); slices.Contains(e.Spec.Children, long) {
			t.Errorf("engineering's children name the skipped team: %v", e.Spec.Children)
		}
		if dave := snap.User(org.UserRef("", "dave")); !slices.Equal(dave.Spec.MemberOf, []string{"deep"}) {
			t.Errorf("dave.memberOf = %v, want [deep]", dave.Spec.MemberOf)
		}
		if !slices.ContainsFunc(snap.Warnings, func(w string) bool { return strings.Contains(w, long) }) {
			t.Errorf("no warning names the skipped team: %q", snap.Warnings)
		}
	})
	t.Run("team sent twice", func(t *testing.T) {
		w := newWorld(t)
		seedAcme(t, w.fake)
		snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, func(o *githuborg.Options) {
			o.Transport = renameTeam("web", "sre")
		}).Read(context.Background())
		must(t, err)
		if len(snap.Groups) != 3 || !slices.ContainsFunc(snap.Warnings, func(w string) bool { return strings.Contains(w, `second team "sre"`) }) {
			t.Errorf("groups = %d, warnings = %q", len(snap.Groups), snap.Warnings)
		}
	})
}

// TestTeamMemberNotReadAsUser: a team member the organisation's member
// list did not name (one who joined between the two listings, or a
// server that says so) is left out of the team's spec.members with a
// warning naming them, so that no ref points at a user the snapshot does
// not hold, as in the other readers.
func TestTeamMemberNotReadAsUser(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	rename := readertest.Rewrite{Path: "/graphql", Edit: func(_ *http.Response, b []byte) []byte {
		// Team member nodes carry only a login; organisation members more.
		return bytes.ReplaceAll(b, []byte(`{"login":"carol"}`), []byte(`{"login":"zed"}`))
	}}
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, func(o *githuborg.Options) { o.Transport = rename }).Read(context.Background())
	must(t, err)
	if snap.User(org.UserRef("", "carol")) == nil {
		t.Fatal("the rewrite touched the organisation's members")
	}
	eng := snap.Group(org.GroupRef("", "engineering"))
	if eng == nil || len(eng.Spec.Members) != 0 {
		t.Errorf("engineering = %+v, want it without members", eng)
	}
	if !slices.ContainsFunc(snap.Warnings, func(w string) bool { return strings.Contains(w, `"zed"`) && strings.Contains(w, "engineering") }) {
		t.Errorf("no warning names the member left out: %q", snap.Warnings)
	}
}

// TestHostileProfileValues: a member's name with a NUL, an escape
// sequence and a byte that is not UTF-8 (GitHub sends JSON, where the
// first two can be escaped), and a team description of a megabyte, reach
// the snapshot cleaned: no control character, valid UTF-8, cut to
// org.MaxTextBytes.
func TestHostileProfileValues(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	hostile := readertest.Rewrite{Path: "/graphql", Edit: func(_ *http.Response, b []byte) []byte {
		b = bytes.ReplaceAll(b, []byte(`"Jane Doe"`), []byte(`"Jane\u0000\u001b[2JDoe\u0085"`))
		return bytes.ReplaceAll(b, []byte(`"All engineers"`), []byte(`"`+strings.Repeat("x", 1<<20)+`"`))
	}}
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, func(o *githuborg.Options) { o.Transport = hostile }).Read(context.Background())
	must(t, err)
	if got := snap.User(org.UserRef("", "jane")).Spec.Profile.DisplayName; got != "Jane[2JDoe" {
		t.Errorf("display name = %q, want the control characters removed", got)
	}
	if got := snap.Group(org.GroupRef("", "engineering")).Metadata.Description; len(got) != org.MaxTextBytes {
		t.Errorf("description of %d bytes, want it cut to %d", len(got), org.MaxTextBytes)
	}
}

// samePageNewCursor answers every GraphQL query with the same one member
// and one more page under a cursor never given before, as a server that
// ignores the cursor asked for would: the cursors never repeat, the
// listing never ends.
func samePageNewCursor() readertest.Rewrite {
	var n atomic.Int64
	return readertest.Rewrite{Path: "/graphql", Edit: func(resp *http.Response, _ []byte) []byte {
		resp.StatusCode = http.StatusOK
		return fmt.Appendf(nil, `{"data":{"organization":{"membersWithRole":{"pageInfo":{"hasNextPage":true,"endCursor":"c%d"},`+
			`"nodes":[{"login":"jane","id":"U_1","name":null,"email":"","avatarUrl":""}]},`+
			`"teams":{"pageInfo":{"hasNextPage":false,"endCursor":null},"nodes":[]}}}}`, n.Add(1))
	}}
}

// TestPageWithNothingNewEndsTheRead: a page of members that brings no
// member not read before, with more promised, ends the read with an error
// instead of a listing that never ends.
func TestPageWithNothingNewEndsTheRead(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, func(o *githuborg.Options) { o.Transport = samePageNewCursor() }).Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "members") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the members", snap != nil, err)
	}
	if n := w.fake.Stats().API; n > 3 {
		t.Errorf("requests = %d, want at most 3", n)
	}
}

// TestGraphQLRateLimitedSaysWhen: GitHub answers a GraphQL query over its
// primary limit with 200 and an error of type RATE_LIMITED, its headers
// saying when the limit resets: the error is RateLimited with that time
// as RetryAt, so that a scheduler knows when to read again.
func TestGraphQLRateLimitedSaysWhen(t *testing.T) {
	w := newWorld(t)
	seedAcme(t, w.fake)
	reset := time.Now().Add(10 * time.Minute).Truncate(time.Second)
	limited := readertest.Rewrite{Path: "/graphql", Edit: func(resp *http.Response, _ []byte) []byte {
		resp.StatusCode = http.StatusOK
		resp.Header.Set("X-RateLimit-Limit", "5000")
		resp.Header.Set("X-RateLimit-Remaining", "0")
		resp.Header.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		return []byte(`{"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}`)
	}}
	_, err := w.reader(t, githuborg.Config{Orgs: []string{"acme"}}, func(o *githuborg.Options) { o.Transport = limited }).Read(context.Background())
	var e *errcode.Error
	if !errors.As(err, &e) || e.Code != errcode.RateLimited || !e.RetryAt.Equal(reset) {
		t.Fatalf("err = %v (RetryAt %v), want RateLimited with RetryAt %v", err, e.RetryAt, reset)
	}
}
