package msgraph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/org/msgraph"
	"github.com/scmkit/scmkit/org/orgtest/fakegraph"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

// selfLinks makes every @odata.nextLink point back at the page it came
// in: a server that would have the reader loop forever.
var selfLinks = readertest.Rewrite{Edit: func(resp *http.Response, b []byte) []byte {
	return nextLinkRe.ReplaceAll(b, []byte(`"@odata.nextLink":`+strconv.Quote(resp.Request.URL.String())))
}}

var nextLinkRe = regexp.MustCompile(`"@odata.nextLink":\s*"[^"]*"`)

func TestRepeatedNextLinkEndsTheRead(t *testing.T) {
	for _, mode := range []string{"delta", "queries"} {
		t.Run(mode, func(t *testing.T) {
			f := fakegraph.New(nil)
			defer f.Close()
			for i := range 1200 {
				f.PutUser(fakegraph.User{DisplayName: fmt.Sprint("u", i), Mail: fmt.Sprintf("u%d@contoso.com", i), AccountEnabled: true})
			}
			c := cfgFor(f)
			if mode == "queries" {
				c.User.Filter = "accountEnabled eq true"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			snap, err := newReader(t, c, func(o *msgraph.Options) { o.Transport = selfLinks }).Read(ctx)
			if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "repeated a page cursor") {
				t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the repeated link", snap != nil, err)
			}
			if n := len(f.Requests()); n > 6 {
				t.Errorf("requests = %d, want at most 6", n)
			}
		})
	}
}

// echoingAuthority answers every token request with an error whose
// description repeats the request: its form body raw and decoded.
type echoingAuthority struct{}

func (echoingAuthority) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	form, _ := url.ParseQuery(string(body))
	desc := "AADSTS7000215: Invalid client secret provided. Got: " + form.Get("client_secret") + " in " + string(body)
	b, _ := json.Marshal(map[string]string{"error": "invalid_client", "error_description": desc})
	return &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b)), Request: req}, nil
}

// TestTokenEndpointEchoingTheSecret: an authority that echoes the client
// secret in its error description does not put it in the error.
func TestTokenEndpointEchoingTheSecret(t *testing.T) {
	const secret = "Qx8Q~s3cr3t+val/ue=="
	c := msgraph.Config{ID: "default", Target: "https://graph.example", Authority: "https://login.example", TenantID: "contoso.onmicrosoft.com",
		ClientID: "app", ClientSecret: integrations.NewSecret(secret)}
	_, err := newReader(t, c, func(o *msgraph.Options) { o.Transport = echoingAuthority{} }).Read(context.Background())
	if errcode.CodeOf(err) != errcode.Unauthorized || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("err = %v, want Unauthorized naming AADSTS7000215", err)
	}
	for _, s := range []string{fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		for _, v := range []string{secret, url.QueryEscape(secret)} {
			if strings.Contains(s, v) {
				t.Errorf("the secret shows (%q): %s", v, s)
			}
		}
	}
}

// echoingGraph answers Graph requests (not the token endpoint) with a 403
// whose message repeats the request's Authorization header.
type echoingGraph struct {
	base http.RoundTripper
	sent *atomic.Value // the last Authorization header
}

func (t echoingGraph) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.URL.Path, "/oauth2/") {
		return t.base.RoundTrip(req)
	}
	t.sent.Store(req.Header.Get("Authorization"))
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "Authorization_RequestDenied",
		"message": "Insufficient privileges to complete the operation. You sent: " + req.Header.Get("Authorization")}})
	return &http.Response{StatusCode: http.StatusForbidden, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b)), Request: req}, nil
}

// TestGraphEchoingTheTokenKeepsItOut: Graph (or a proxy before it)
// echoing the bearer token in an error does not put it in the error, and
// the error still names the permission to grant.
func TestGraphEchoingTheTokenKeepsItOut(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	var sent atomic.Value
	_, err := newReader(t, cfgFor(f), func(o *msgraph.Options) { o.Transport = echoingGraph{http.DefaultTransport, &sent} }).Read(context.Background())
	if errcode.CodeOf(err) != errcode.PermissionDenied || !strings.Contains(err.Error(), "GroupMember.Read.All") {
		t.Fatalf("err = %v, want PermissionDenied naming the permission", err)
	}
	auth, _ := sent.Load().(string)
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || len(token) < 8 {
		t.Fatalf("Authorization sent = %q, want a bearer token", auth)
	}
	for _, s := range []string{fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, token) {
			t.Errorf("the token shows: %s", s)
		}
	}
}

// freshLinks makes every @odata.nextLink point back at the page it came
// in, under a query option never sent before: the links never repeat, the
// pages do, as from a server that ignores its skip token.
func freshLinks() readertest.Rewrite {
	var n atomic.Int64
	return readertest.Rewrite{Edit: func(resp *http.Response, b []byte) []byte {
		u := *resp.Request.URL
		q := u.Query()
		q.Set("n", strconv.FormatInt(n.Add(1), 10))
		u.RawQuery = q.Encode()
		return nextLinkRe.ReplaceAll(b, []byte(`"@odata.nextLink":`+strconv.Quote(u.String())))
	}}
}

// TestRepeatedPageEndsTheRead: a page whose objects were all read before,
// with one more page promised under a link never given before, ends the
// read with an error instead of a listing that never ends.
func TestRepeatedPageEndsTheRead(t *testing.T) {
	for _, mode := range []string{"delta", "queries"} {
		t.Run(mode, func(t *testing.T) {
			f := fakegraph.New(nil)
			defer f.Close()
			for i := range 1200 {
				f.PutUser(fakegraph.User{DisplayName: fmt.Sprint("u", i), Mail: fmt.Sprintf("u%d@contoso.com", i), AccountEnabled: true})
			}
			c := cfgFor(f)
			if mode == "queries" {
				c.User.Filter = "accountEnabled eq true"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			snap, err := newReader(t, c, func(o *msgraph.Options) { o.Transport = freshLinks() }).Read(ctx)
			if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "repeated a page") {
				t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the repeated page", snap != nil, err)
			}
			if n := len(f.Requests()); n > 6 {
				t.Errorf("requests = %d, want at most 6", n)
			}
		})
	}
}

// TestPhotoServiceFailing: a photo Graph keeps failing to serve (5xx
// after every retry, as its photo gateway does) is left out with a
// warning naming the user, and fetched again on the next read; the rest
// of the tenant is read. A refused photo (403) still ends the read: the
// application lacks a permission, for every user alike.
func TestPhotoServiceFailing(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	jane := f.PutUser(fakegraph.User{DisplayName: "Jane", Mail: "jane@contoso.com", Photo: []byte{0xff, 0xd8, 0xff}})
	bob := f.PutUser(fakegraph.User{DisplayName: "Bob", Mail: "bob@contoso.com", Photo: []byte{0xff, 0xd8, 0xfe}})
	c := cfgFor(f)
	yes := true
	c.User.LoadPhotos = &yes
	photoPath := strings.TrimSuffix(mustParse(t, f.Target()).Path, "/") + "/users/" + jane + "/photos"
	f.Inject(fake.Fault{Kind: fake.FaultServerError, Times: 100, Path: photoPath})
	r := newReader(t, c, nil)
	snap, err := r.Read(context.Background())
	if err != nil {
		t.Fatalf("Read = %v; want the tenant read without Jane's photo", err)
	}
	if p := snap.User(org.UserRef("", "jane_contoso.com")).Spec.Profile.Picture; p != "" {
		t.Errorf("jane's picture = %q, want none", p)
	}
	if p := snap.User(org.UserRef("", "bob_contoso.com")).Spec.Profile.Picture; p != "data:image/jpeg;base64,/9j+" {
		t.Errorf("bob's picture = %q", p)
	}
	if len(snap.Warnings) != 1 || !strings.Contains(snap.Warnings[0], jane) || !strings.Contains(snap.Warnings[0], "photo") {
		t.Errorf("warnings = %q, want one naming %s's photo", snap.Warnings, jane)
	}
	// Next read: the photo service works again, Jane's photo is fetched.
	f.ClearFaults()
	again, err := r.Read(context.Background())
	must(t, err)
	if p := again.User(org.UserRef("", "jane_contoso.com")).Spec.Profile.Picture; p != "data:image/jpeg;base64,/9j/" {
		t.Errorf("jane's picture on the next read = %q", p)
	}
	// A refusal is no photo service failing.
	f.Inject(fake.Fault{Kind: fake.FaultServerError, Status: http.StatusForbidden, Times: 100, Path: strings.TrimSuffix(photoPath, jane+"/photos") + bob})
	f.PutUser(fakegraph.User{ID: bob, DisplayName: "Bob", Mail: "bob@contoso.com", Photo: []byte{0xff}}) // changed: photo fetched again
	if _, err := r.Read(context.Background()); errcode.CodeOf(err) != errcode.PermissionDenied {
		t.Errorf("Read with photos refused = %v, want PermissionDenied", err)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// emptyPages answers every page of /users/delta empty, with a nextLink
// never given before.
func emptyPages() readertest.Rewrite {
	var n atomic.Int64
	return readertest.Rewrite{Path: "/users/delta", Edit: func(resp *http.Response, b []byte) []byte {
		u := *resp.Request.URL
		q := u.Query()
		q.Set("n", strconv.FormatInt(n.Add(1), 10))
		u.RawQuery = q.Encode()
		return []byte(`{"value":[],"@odata.nextLink":` + strconv.Quote(u.String()) + `}`)
	}}
}

// TestEndlessEmptyPagesEndTheRead: Graph may send empty pages with a
// nextLink; a run of them longer than orgx's bound ends the read with an
// error instead of a listing that never ends.
func TestEndlessEmptyPagesEndTheRead(t *testing.T) {
	f := fakegraph.New(nil)
	defer f.Close()
	f.PutUser(fakegraph.User{DisplayName: "Jane", Mail: "jane@contoso.com"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snap, err := newReader(t, cfgFor(f), func(o *msgraph.Options) { o.Transport = emptyPages() }).Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "repeated a page") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable", snap != nil, err)
	}
	if n := len(f.Requests()); n > 1005 {
		t.Errorf("requests = %d, want at most 1005", n)
	}
}
