package orgx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

var testErrs = Errs{Op: "test.Read", Provider: "github", Host: "example.test", Subject: "organisation acme"}

var wording = Wording{Unauthorized: "refused", PermissionDenied: "denied", RateLimited: "limited", NotFound: "missing",
	InvalidArgument: "bad request", Unavailable: "failed", GaveUp: "gave up", Unknown: "unexpected"}

func answer(status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body))}
}

// TestAnswer: every answer is classified as httpx.Classify says, worded
// as the reader words that code, with the body's message as the cause.
func TestAnswer(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		resp      *http.Response
		code      errcode.Code
		msg       string
		retryAt   time.Time
		wantCause string
	}{
		{"401", answer(401, nil, `{"message":"Bad credentials"}`), errcode.Unauthorized, "refused", time.Time{}, "Bad credentials"},
		{"403", answer(403, nil, `{"message":"Resource not accessible"}`), errcode.PermissionDenied, "denied", time.Time{}, "Resource not accessible"},
		{"403 with Retry-After", answer(403, http.Header{"Retry-After": {"30"}}, `{}`), errcode.RateLimited, "limited", now.Add(30 * time.Second), "Forbidden"},
		{"403 secondary limit", answer(403, nil, `{"message":"You have exceeded a secondary rate limit"}`), errcode.RateLimited, "limited", now.Add(time.Minute), "secondary rate limit"},
		{"429 with RateLimit-Reset", answer(429, http.Header{"Ratelimit-Reset": {fmt.Sprint(now.Add(time.Hour).Unix())}}, ``), errcode.RateLimited, "limited", now.Add(time.Hour), "Too Many Requests"},
		{"400", answer(400, nil, `{"message":"Problems parsing JSON"}`), errcode.InvalidArgument, "bad request", time.Time{}, "Problems parsing JSON"},
		{"404", answer(404, nil, `{"message":"Not Found"}`), errcode.NotFound, "missing", time.Time{}, "Not Found"},
		{"500", answer(500, nil, ``), errcode.Unavailable, "failed", time.Time{}, "Internal Server Error"},
		{"502", answer(502, nil, ``), errcode.Unavailable, "gave up", time.Time{}, "Bad Gateway"},
		{"409", answer(409, nil, ``), errcode.Conflict, "unexpected", time.Time{}, "Conflict"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := testErrs.Answer(tt.resp, now, wording, func(b []byte) string {
				var m struct{ Message string }
				_ = json.Unmarshal(b, &m)
				return m.Message
			})
			if e.Code != tt.code || e.Status != tt.resp.StatusCode || !e.RetryAt.Equal(tt.retryAt) {
				t.Errorf("got %v (RetryAt %v), want %v (RetryAt %v)", e, e.RetryAt, tt.code, tt.retryAt)
			}
			if e.Msg != "organisation acme: "+tt.msg || e.Err == nil || !strings.Contains(e.Err.Error(), tt.wantCause) {
				t.Errorf("message %q, cause %v; want %q and %q", e.Msg, e.Err, tt.msg, tt.wantCause)
			}
			if e.Op != "test.Read" || e.Provider != "github" || e.Host != "example.test" {
				t.Errorf("fields %+v", e)
			}
		})
	}
}

// TestTransport: a request without an answer is the context's code when
// the context ended, httpx's verdict (code and RetryAt) when it gave one,
// and Unavailable otherwise.
func TestTransport(t *testing.T) {
	retryAt := time.Unix(2e9, 0)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name    string
		ctx     context.Context
		err     error
		code    errcode.Code
		retryAt time.Time
	}{
		{"cancelled", cancelled, errors.New("context canceled"), errcode.Canceled, time.Time{}},
		{"httpx verdict", context.Background(), &errcode.Error{Code: errcode.RateLimited, RetryAt: retryAt, Msg: "wait"}, errcode.RateLimited, retryAt},
		{"broken connection", context.Background(), errors.New("connection reset"), errcode.Unavailable, time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := testErrs.Transport(tt.ctx, tt.err)
			var e *errcode.Error
			if !errors.As(err, &e) || e.Code != tt.code || !e.RetryAt.Equal(tt.retryAt) {
				t.Fatalf("got %v, want %v (RetryAt %v)", err, tt.code, tt.retryAt)
			}
			if strings.Count(err.Error(), "wait") > 1 {
				t.Errorf("the message says the wrapped one twice: %v", err)
			}
		})
	}
}

func TestRepeated(t *testing.T) {
	err := testErrs.Repeated("teams")
	if errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "organisation acme: teams: the server repeated a page cursor") {
		t.Errorf("got %v", err)
	}
}

type twoSizes struct{ a, b int }

func (s twoSizes) Halved() (twoSizes, bool) {
	return twoSizes{max(1, s.a/2), max(1, s.b/2)}, s.a > 1 || s.b > 1
}

func (s twoSizes) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("a", s.a), slog.Int("b", s.b))
}

// TestPagesDo: a Shrink error halves the sizes and sends again, until the
// sizes are all 1 or at most maxHalvings times; any other error ends at
// once; the smaller sizes stay for the next query.
func TestPagesDo(t *testing.T) {
	tooLarge := Shrink(errors.New("too large"))
	for _, tt := range []struct {
		name     string
		start    twoSizes
		failures int   // Shrink errors before a success
		other    error // returned on the first call instead
		sent     []twoSizes
		wantErr  bool
	}{
		{"no failure", twoSizes{100, 50}, 0, nil, []twoSizes{{100, 50}}, false},
		{"two halvings", twoSizes{100, 50}, 2, nil, []twoSizes{{100, 50}, {50, 25}, {25, 12}}, false},
		{"down to 1", twoSizes{4, 2}, 99, nil, []twoSizes{{4, 2}, {2, 1}, {1, 1}}, true},
		{"bounded", twoSizes{1000, 1000}, 99, nil, []twoSizes{{1000, 1000}, {500, 500}, {250, 250}, {125, 125}, {62, 62}, {31, 31}, {15, 15}, {7, 7}}, true},
		{"other error", twoSizes{100, 50}, 0, errors.New("denied"), []twoSizes{{100, 50}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPages(tt.start, slog.New(slog.NewTextHandler(io.Discard, nil)), "halving")
			var sent []twoSizes
			err := p.Do(context.Background(), func(s twoSizes) error {
				sent = append(sent, s)
				switch {
				case tt.other != nil:
					return tt.other
				case len(sent) <= tt.failures:
					return tooLarge
				}
				return nil
			})
			if (err != nil) != tt.wantErr || !slices.Equal(sent, tt.sent) {
				t.Errorf("sent %v, error %v; want %v (error %v)", sent, err, tt.sent, tt.wantErr)
			}
			if got := p.Current(); got != sent[len(sent)-1] {
				t.Errorf("Current = %v, want the last sizes sent %v", got, sent[len(sent)-1])
			}
		})
	}
}

// TestGraphQLPost: data is decoded; GraphQL errors, 502/504 and a request
// timing out are classified, the last two as Shrink.
func TestGraphQLPost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Query string `json:"query"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if r.Header.Get("User-Agent") != "scmkit" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "headers", http.StatusBadRequest)
			return
		}
		switch body.Query {
		case "ok":
			io.WriteString(w, `{"data":{"n":42}}`)
		case "errors":
			io.WriteString(w, `{"errors":[{"type":"NOT_FOUND","message":"nope"}]}`)
		case "gateway":
			w.WriteHeader(http.StatusGatewayTimeout)
		case "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}))
	defer srv.Close()
	g := &GraphQL{URL: srv.URL, Header: http.Header{"User-Agent": {"scmkit"}}, Timeout: 200 * time.Millisecond,
		API: API{Client: srv.Client(), MaxResponseBytes: 1 << 20, Errs: testErrs,
			HTTPError: func(resp *http.Response) error {
				return testErrs.Answer(resp, time.Now(), wording, func([]byte) string { return "" })
			}},
		QueryErrors: func(errs []QueryError, _ http.Header) error {
			return testErrs.Fail(errcode.NotFound, 200, errs[0].Type+" "+errs[0].Message, nil)
		}}
	for _, tt := range []struct {
		query  string
		code   errcode.Code
		shrink bool
	}{
		{"ok", 0, false},
		{"errors", errcode.NotFound, false},
		{"gateway", errcode.Unavailable, true},
		{"slow", errcode.DeadlineExceeded, true},
	} {
		t.Run(tt.query, func(t *testing.T) {
			var out struct{ N int }
			err := g.Post(context.Background(), tt.query, nil, &out)
			if tt.code == 0 {
				if err != nil || out.N != 42 {
					t.Fatalf("got %v, %+v", err, out)
				}
				return
			}
			if errcode.CodeOf(err) != tt.code || Shrinkable(err) != tt.shrink {
				t.Errorf("got %v (shrinkable %v), want %v (shrinkable %v)", err, Shrinkable(err), tt.code, tt.shrink)
			}
		})
	}
}

type mapDecoder map[string]string

func (d mapDecoder) Has(path string) bool { _, ok := d[path]; return ok }
func (d mapDecoder) Decode(path string, out any) error {
	return json.Unmarshal([]byte(d[path]), out)
}

type block struct {
	ID   string `json:"-"`
	Host string `json:"host"`
}

func TestDecode(t *testing.T) {
	d := mapDecoder{"one": `{"host":"a"}`, "list": `[{"host":"a"},{"host":"b"}]`, "map": `{"z":{"host":"a"},"b":{"host":"b"}}`, "bad": `[1]`}
	setID := func(b *block, id string) { b.ID = id }
	for _, tt := range []struct {
		name string
		got  func() ([]block, error)
		want []block
		err  bool
	}{
		{"list of one", func() ([]block, error) { return DecodeList[block](d, "one") }, []block{{Host: "a"}}, false},
		{"list", func() ([]block, error) { return DecodeList[block](d, "list") }, []block{{Host: "a"}, {Host: "b"}}, false},
		{"list missing", func() ([]block, error) { return DecodeList[block](d, "none") }, nil, false},
		{"list bad", func() ([]block, error) { return DecodeList[block](d, "bad") }, nil, true},
		{"map in id order", func() ([]block, error) { return DecodeMap(d, "map", setID) }, []block{{"b", "b"}, {"z", "a"}}, false},
		{"map missing", func() ([]block, error) { return DecodeMap(d, "none", setID) }, nil, false},
		{"map bad", func() ([]block, error) { return DecodeMap(d, "bad", setID) }, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
				t.Errorf("got %v, %v; want %v (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestEach: at most limit calls run at once, and the first error ends
// the others' context.
func TestEach(t *testing.T) {
	var running, peak atomic.Int32
	err := Each(context.Background(), 3, slices.Values(make([]int, 20)), func(ctx context.Context, _ int) error {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil || peak.Load() > 3 || peak.Load() < 1 {
		t.Errorf("error %v, peak %d (limit 3)", err, peak.Load())
	}
	boom := errors.New("boom")
	err = Each(context.Background(), 2, slices.Values([]int{1, 2}), func(ctx context.Context, i int) error {
		if i == 1 {
			return boom
		}
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want the first error", err)
	}
}

func TestCursors(t *testing.T) {
	var c Cursors
	for _, tt := range []struct {
		cursor string
		want   bool
	}{{"", false}, {"a", true}, {"b", true}, {"a", false}} {
		if got := c.Next(tt.cursor); got != tt.want {
			t.Errorf("Next(%q) = %v, want %v", tt.cursor, got, tt.want)
		}
	}
}

// TestPager: a page is followed when its cursor is new and it listed an
// item not listed before; Follow asks only for a new cursor; each page
// starts afresh.
func TestPager(t *testing.T) {
	var p Pager[string]
	for i, tt := range []struct {
		items  []string
		follow bool // Follow rather than Next
		cursor string
		want   bool
	}{
		{[]string{"a", "b"}, false, "c1", true},
		{[]string{"b", "c"}, false, "c2", true},  // c is new
		{[]string{"a", "c"}, false, "c3", false}, // nothing new
		{[]string{"d"}, false, "c1", false},      // a cursor given before
		{nil, true, "c4", true},                  // Follow: nothing new is fine
		{nil, false, "c5", false},                // Next: an empty page is nothing new
		{[]string{"e"}, false, "", false},        // no cursor
		{[]string{"f"}, true, "c4", false},       // Follow still refuses a cursor given before
		{[]string{"f", "g"}, false, "c6", true},  // g is new, though f was seen on a refused page
		{[]string{"g"}, false, "c7", false},      // the last page's news does not carry over
	} {
		for _, it := range tt.items {
			p.Saw(it)
		}
		next := p.Next
		if tt.follow {
			next = p.Follow
		}
		if got := next(tt.cursor); got != tt.want {
			t.Errorf("page %d %v, cursor %q: %v, want %v", i, tt.items, tt.cursor, got, tt.want)
		}
	}
	var q Pager[int64]
	if !q.Saw(1) || q.Saw(1) || !q.Saw(2) {
		t.Error("Saw does not report the keys not listed before")
	}
}

// TestNames: a name one holder claims is given, whatever its case; a name
// two holders claim goes to neither, with one warning naming both; a
// reserved name is kept by its reserver and refused to every claimant.
func TestNames(t *testing.T) {
	var warnings []string
	n := NewNames("user", &warnings)
	n.Reserve("Root", "tenant-1")
	n.Claim("jane_acme.example", "id-1", "id-1 (jane@acme.example)")
	n.Claim("joe", "id-3", "id-3")
	n.Claim("joe", "id-3", "id-3") // one holder twice: one claim
	n.Claim("Jane_Acme.example", "id-2", "id-2 (Jane@acme.example)")
	n.Claim("root", "id-4", "id-4")
	got := n.Settle()
	if want := map[string]bool{"id-3": true}; !maps.Equal(got, want) {
		t.Errorf("granted %v, want %v", got, want)
	}
	want := []string{
		`user name "jane_acme.example" is contested, so none of its claimants has it (any of them could be an impostor): id-1 (jane@acme.example), id-2 (Jane@acme.example)`,
		`user id-4: skipped: its name "root" is already user tenant-1's`,
	}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
}

func TestParseHTTP(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want string // "" when refused
	}{
		{"https://api.github.com/", "https://api.github.com"},
		{"http://127.0.0.1:8080/api/v4", "http://127.0.0.1:8080/api/v4"},
		{"ftp://example.com", ""},
		{"https://", ""},
		{"/api/v3", ""},
		{"https://exa mple.com", ""},
	} {
		u, ok := ParseHTTP(tt.raw)
		if got := ""; ok {
			got = u.String()
			if got != tt.want {
				t.Errorf("ParseHTTP(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		} else if tt.want != "" {
			t.Errorf("ParseHTTP(%q) refused, want %q", tt.raw, tt.want)
		}
	}
}

// TestMeterObserve: the meter reads rate-limit headers as httpx.QuotaOf
// does: GitHub's epoch reset, GitLab's epoch or delta-seconds reset, and
// nothing from an answer without them.
func TestMeterObserve(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		header http.Header
		rem    int
		reset  time.Time
	}{
		{"github", http.Header{"X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Remaining": {"4990"},
			"X-Ratelimit-Reset": {fmt.Sprint(now.Add(time.Hour).Unix())}}, 4990, now.Add(time.Hour)},
		{"gitlab epoch", http.Header{"Ratelimit-Limit": {"600"}, "Ratelimit-Remaining": {"7"},
			"Ratelimit-Reset": {fmt.Sprint(now.Add(time.Minute).Unix())}}, 7, now.Add(time.Minute)},
		{"gitlab delta seconds", http.Header{"Ratelimit-Limit": {"600"}, "Ratelimit-Remaining": {"0"},
			"Ratelimit-Reset": {"30"}}, 0, now.Add(30 * time.Second)},
		{"none", http.Header{}, -1, time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var m Meter
			m.Observe(&http.Response{StatusCode: 200, Header: tt.header}, now)
			rem, reset := m.RateLimit()
			if rem != tt.rem || !reset.Equal(tt.reset) {
				t.Errorf("RateLimit() = %d, %v; want %d, %v", rem, reset, tt.rem, tt.reset)
			}
		})
	}
}

func TestNextQuery(t *testing.T) {
	for _, tt := range []struct {
		link, want string
		ok         bool
	}{
		{`<https://api.github.com/app/installations?per_page=100&page=2>; rel="next", <https://api.github.com/app/installations?per_page=100&page=9>; rel="last"`, "per_page=100&page=2", true},
		{`<https://gitlab.example/api/v4/users?cursor=eyJpZCI6IjQyIn0%3D&pagination=keyset>; rel="next"`, "cursor=eyJpZCI6IjQyIn0%3D&pagination=keyset", true},
		{`<https://evil.example/x?page=3>; rel=next`, "page=3", true},
		{`<https://h/x?page=1>; rel="first", <https://h/x?page=3>; rel="prev next"`, "page=3", true},
		{`<https://h/x?page=1>; rel="prev"`, "", false},
		{`<https://h/x>; rel="next"`, "", false},
		{``, "", false},
		{`garbage`, "", false},
	} {
		got, ok := NextQuery(tt.link)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NextQuery(%q) = %q, %v; want %q, %v", tt.link, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzNextQuery(f *testing.F) {
	f.Add(`<https://h/x?page=2>; rel="next", <https://h/x?page=9>; rel="last"`)
	f.Add(`<https://h/x?a=1&b=%zz>; rel=next`)
	f.Add(`<>; rel="next"`)
	f.Fuzz(func(t *testing.T, link string) {
		q, ok := NextQuery(link)
		if ok != (q != "") || strings.ContainsAny(q, "#") {
			t.Fatalf("NextQuery(%q) = %q, %v", link, q, ok)
		}
		if !ok {
			return
		}
		// Readers send the query to their own path: appended to it, it
		// changes neither host nor path, and reads back as itself.
		const own = "https://gitlab.example.com/api/v4/groups/1/members"
		u, err := url.Parse(own + "?" + q)
		if err != nil || u.Host != "gitlab.example.com" || u.Path != "/api/v4/groups/1/members" || u.RawQuery != q || u.Fragment != "" {
			t.Fatalf("NextQuery(%q) = %q, which on our path gives %v (%v)", link, q, u, err)
		}
		if again, ok := NextQuery("<" + own + "?" + q + `>; rel="next"`); !ok || again != q {
			t.Fatalf("NextQuery(%q) = %q; on our path it reads back as %q, %v", link, q, again, ok)
		}
	})
}
