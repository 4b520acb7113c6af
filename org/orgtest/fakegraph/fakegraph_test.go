package fakegraph

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
)

func token(t *testing.T, s *Server) string {
	t.Helper()
	resp, err := http.PostForm(s.URL()+"/"+s.TenantID()+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()},
		"scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	for _, k := range []string{"token_type", "expires_in", "ext_expires_in", "access_token"} {
		if _, ok := body[k]; !ok {
			t.Errorf("token answer lacks %s", k)
		}
	}
	return body["access_token"].(string)
}

func get(t *testing.T, s *Server, tok, rawURL string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v: %s", rawURL, err, b)
	}
	return resp.StatusCode, m
}

func doc(t *testing.T, name string) map[string]any {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func keys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// sameShape checks that got has the documented object's keys (for each
// key in want, the same JSON type), recursing into the first elements of
// arrays.
func sameShape(t *testing.T, where string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, want an object", where, got)
			return
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s: no %q (got keys %v)", where, k, keys(g))
				continue
			}
			sameShape(t, where+"."+k, wv, gv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: got %T, want an array", where, got)
			return
		}
		if len(w) > 0 && len(g) > 0 {
			sameShape(t, where+"[0]", w[0], g[0])
		}
	case string:
		if _, ok := got.(string); !ok && got != nil {
			t.Errorf("%s: got %T, want a string", where, got)
		}
	}
}

func TestDocumentedShapes(t *testing.T) {
	s := New(&Options{})
	defer s.Close()
	u1 := s.PutUser(User{DisplayName: "displayName-value", Mail: "mail-value", UserPrincipalName: "upn", GivenName: "g", Surname: "s", JobTitle: "j"})
	u2 := s.PutUser(User{DisplayName: "x", Mail: "x@y"})
	g := s.PutGroup(Group{DisplayName: "TestGroup1", Description: "Employees in test group 1", Members: []string{u1, u2}})
	s.PutGroup(Group{DisplayName: "TestGroup2", Description: "Employees in test group 2"})
	tok := token(t, s)

	st, got := get(t, s, tok, s.Target()+"/groups/delta?$select=displayName,description,members", "Prefer", "odata.maxpagesize=1")
	want := doc(t, "groups-delta-initial.json")
	if st != 200 {
		t.Fatalf("status %d", st)
	}
	sameShape(t, "groups delta", want, got)
	next := got["@odata.nextLink"].(string)
	if !strings.Contains(next, "$skiptoken=") {
		t.Errorf("nextLink %q has no $skiptoken", next)
	}
	// Follow to the deltaLink, then change membership and read the change.
	var delta string
	for next != "" {
		_, page := get(t, s, tok, next)
		next, _ = page["@odata.nextLink"].(string)
		delta, _ = page["@odata.deltaLink"].(string)
	}
	_, none := get(t, s, tok, delta)
	sameShape(t, "no change", doc(t, "groups-delta-nochange.json"), none)
	if v := none["value"].([]any); len(v) != 0 {
		t.Errorf("unchanged delta has %d items", len(v))
	}
	s.DeleteUser(u1)
	u3 := s.PutUser(User{DisplayName: "new", Mail: "n@y"})
	if err := s.AddMember(g, u3); err != nil {
		t.Fatal(err)
	}
	_, changes := get(t, s, tok, delta)
	sameShape(t, "changes", doc(t, "groups-delta-changes.json"), changes)
	md := changes["value"].([]any)[0].(map[string]any)["members@delta"].([]any)
	if len(md) != 2 || md[0].(map[string]any)["@removed"] == nil || md[1].(map[string]any)["id"] != u3 {
		t.Errorf("members@delta = %v", md)
	}

	_, users := get(t, s, tok, s.Target()+"/users/delta", "Prefer", "odata.maxpagesize=1")
	wantUsers := doc(t, "users-delta.json")
	// The documented example lists more default properties than the fake
	// models (phones, office); compare the ones it has.
	item := wantUsers["value"].([]any)[0].(map[string]any)
	for _, k := range []string{"businessPhones", "mobilePhone", "officeLocation", "preferredLanguage"} {
		delete(item, k)
	}
	sameShape(t, "users delta", wantUsers, users)

	st, e := get(t, s, tok, s.Target()+"/nope")
	if st != 404 {
		t.Errorf("status %d", st)
	}
	sameShape(t, "error", doc(t, "error.json"), e)
}

func TestAdvancedQueriesNeedConsistencyLevel(t *testing.T) {
	s := New(nil)
	defer s.Close()
	s.PutUser(User{DisplayName: "a", Mail: "a@x", UserType: "Guest"})
	s.PutUser(User{DisplayName: "b", Mail: "b@x"})
	s.PutGroup(Group{DisplayName: "Team A"})
	tok := token(t, s)
	tests := []struct {
		url         string
		consistency bool
		status, n   int
	}{
		{"/users?$filter=" + url.QueryEscape("userType eq 'Guest'"), false, 200, 1},
		{"/users?$filter=" + url.QueryEscape("userType ne 'Guest'"), false, 400, 0},
		{"/users?$filter=" + url.QueryEscape("userType ne 'Guest'") + "&$count=true", true, 200, 1},
		{"/users?$filter=" + url.QueryEscape("endswith(mail,'@x')"), false, 400, 0},
		{"/users?$filter=" + url.QueryEscape("not(startswith(displayName,'a'))"), true, 200, 1},
		{"/groups?$search=" + url.QueryEscape(`"displayName:team"`), false, 400, 0},
		{"/groups?$search=" + url.QueryEscape(`"displayName:team"`), true, 200, 1},
		{"/users?$top=1000", false, 400, 0},
		{"/users?$filter=" + url.QueryEscape("displayName eq 'unterminated"), false, 400, 0},
	}
	for _, tt := range tests {
		var hdr []string
		if tt.consistency {
			hdr = []string{"ConsistencyLevel", "eventual"}
		}
		st, body := get(t, s, tok, s.Target()+tt.url, hdr...)
		if st != tt.status {
			t.Errorf("%s: status %d, want %d (%v)", tt.url, st, tt.status, body)
			continue
		}
		if st == 200 && len(body["value"].([]any)) != tt.n {
			t.Errorf("%s: %d results, want %d", tt.url, len(body["value"].([]any)), tt.n)
		}
	}
}

func TestTokenErrors(t *testing.T) {
	s := New(nil)
	defer s.Close()
	for _, tt := range []struct {
		form   url.Values
		status int
		code   string
	}{
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID()}, "client_secret": {"bad"}, "scope": {"https://graph.microsoft.com/.default"}}, 401, "invalid_client"},
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {"other"}, "client_secret": {"x"}, "scope": {"https://graph.microsoft.com/.default"}}, 400, "unauthorized_client"},
		{url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
		{url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()}, "scope": {"User.Read"}}, 400, "invalid_scope"},
	} {
		resp, err := http.PostForm(s.URL()+"/"+s.TenantID()+"/oauth2/v2.0/token", tt.form)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || body["error"] != tt.code || !strings.HasPrefix(body["error_description"].(string), "AADSTS") {
			t.Errorf("%v: %d %v", tt.form, resp.StatusCode, body)
		}
	}
	if st, _ := get(t, s, "not-a-token", s.Target()+"/users"); st != 401 {
		t.Errorf("bad token: %d", st)
	}
}

func FuzzFilter(f *testing.F) {
	for _, s := range []string{"a eq 'b'", "not(startswith(x,'y')) and z ne null", "(a eq true) or b eq 'it''s'", "endswith(mail,'@x')"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, _, err := parseFilter(s)
		if err != nil {
			return
		}
		e.eval(map[string]any{"a": "b", "x": true})
	})
}

// TestFaultsAndStates: the kit's faults answer with Graph's statuses,
// codes and Retry-After, on Graph's requests only; revoked permissions
// answer 403 and expired delta tokens 410.
func TestFaultsAndStates(t *testing.T) {
	s := New(nil)
	defer s.Close()
	s.PutUser(User{DisplayName: "Jane", Mail: "jane@contoso.com"})
	tok := token(t, s)
	errCode := func(m map[string]any) string {
		e, _ := m["error"].(map[string]any)
		c, _ := e["code"].(string)
		return c
	}
	for _, tt := range []struct {
		name   string
		setup  func()
		status int
		code   string
	}{
		{"429", func() { s.Inject(fake.Fault{Kind: fake.FaultTooManyRequests, Times: 1}) }, 429, "TooManyRequests"},
		{"503", func() { s.Inject(fake.Fault{Kind: fake.FaultServerError, Status: 503, Times: 1}) }, 503, "serviceNotAvailable"},
		{"500", func() { s.Inject(fake.Fault{Kind: fake.FaultServerError, Times: 1}) }, 500, "generalException"},
		{"401", func() { s.Inject(fake.Fault{Kind: fake.FaultUnauthorized, Times: 1}) }, 401, "InvalidAuthenticationToken"},
		{"other path", func() { s.Inject(fake.Fault{Kind: fake.FaultServerError, Times: 1, Path: "/v1.0/groups"}) }, 200, ""},
		{"permissions revoked", func() { s.SetPermissions("GroupMember.Read.All") }, 403, "Authorization_RequestDenied"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.ClearFaults()
			s.SetPermissions("User.Read.All", "GroupMember.Read.All")
			tt.setup()
			st, body := get(t, s, tok, s.Target()+"/users")
			if st != tt.status || errCode(body) != tt.code {
				t.Errorf("got %d %q, want %d %q", st, errCode(body), tt.status, tt.code)
			}
		})
	}
	s.ClearFaults()
	s.SetPermissions("User.Read.All", "GroupMember.Read.All")
	_, page := get(t, s, tok, s.Target()+"/users/delta")
	link, _ := page["@odata.deltaLink"].(string)
	if st, _ := get(t, s, tok, link); st != 200 || link == "" {
		t.Fatalf("delta link %q: %d", link, st)
	}
	s.ExpireDeltaTokens()
	if st, body := get(t, s, tok, link); st != 410 || errCode(body) != "syncStateNotFound" {
		t.Errorf("expired delta token: %d %q, want 410 syncStateNotFound", st, errCode(body))
	}
	if st := s.Stats(); st.Token != 1 || st.Graph != 9 || len(s.RequestsTo("login")) != 1 {
		t.Errorf("stats %+v, %d token requests logged", st, len(s.RequestsTo("login")))
	}
}
