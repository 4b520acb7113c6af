package permission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/scm/catalog"
)

// countingLoader serves catalog entities by ref and counts each ref
// loaded.
type countingLoader struct {
	mu       sync.Mutex
	entities map[string]*catalog.Entity
	loads    map[string]int
	calls    int
}

func newLoader(n int) *countingLoader {
	l := &countingLoader{entities: map[string]*catalog.Entity{}, loads: map[string]int{}}
	for i := range n {
		owner := "team-a"
		if i%2 == 1 {
			owner = "team-b"
		}
		ref := fmt.Sprintf("component:default/svc-%d", i)
		l.entities[ref] = &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: fmt.Sprintf("svc-%d", i)},
			Spec: map[string]any{"owner": owner}}
	}
	return l
}

func (l *countingLoader) LoadResources(_ context.Context, refs []string) (map[string]any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	out := map[string]any{}
	for _, r := range refs {
		l.loads[r]++
		if e, ok := l.entities[r]; ok {
			out[r] = e
		}
	}
	return out, nil
}

// ownerPolicy allows catalog.entity.create to alice only and makes every
// catalog-entity permission conditional on ownership, counting its calls.
type ownerPolicy struct {
	mu    sync.Mutex
	calls int
}

func (p *ownerPolicy) Decide(_ context.Context, q Query, u *identity.User) (Decision, error) {
	p.mu.Lock()
	p.calls++
	p.mu.Unlock()
	switch {
	case u == nil:
		return Decision{Result: Deny, Reason: Reason{Policy: "test", Summary: "anonymous"}}, nil
	case q.Permission.ResourceType == CatalogEntityResourceType:
		return Decision{Result: Conditional, PluginID: "catalog", ResourceType: CatalogEntityResourceType,
			Conditions: Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": toAny(u.OwnershipEntityRefs)}),
			Reason:     Reason{Policy: "test", Summary: "owner only"}}, nil
	case q.Permission.Name == CatalogEntityCreate && u.EntityRef == "user:default/alice":
		return Decision{Result: Allow, Reason: Reason{Policy: "test", Summary: "alice"}}, nil
	}
	return Decision{Result: Deny, Reason: Reason{Policy: "test", Summary: "default"}}, nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

var alice = &identity.User{EntityRef: "user:default/alice", OwnershipEntityRefs: []string{"user:default/alice", "group:default/team-a"}}

func TestAuthorizeBatchLoadsEachResourceOnce(t *testing.T) {
	loader := newLoader(20)
	pol := &ownerPolicy{}
	a := NewAuthorizer(pol, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}})
	var items []Item
	perms := []string{CatalogEntityRead, CatalogEntityDelete, CatalogEntityRefresh, CatalogEntityRead, CatalogEntityDelete}
	for i := range 100 {
		items = append(items, Item{ID: fmt.Sprint(i), Permission: MustKnown(perms[i%len(perms)]),
			ResourceRef: fmt.Sprintf("component:default/svc-%d", i%20)})
	}
	out, err := a.Authorize(context.Background(), identity.Principal{User: alice}, items)
	if err != nil {
		t.Fatal(err)
	}
	if loader.calls != 1 || len(loader.loads) != 20 {
		t.Errorf("loader called %d times for %d refs, want 1 call for 20", loader.calls, len(loader.loads))
	}
	for ref, n := range loader.loads {
		if n != 1 {
			t.Errorf("%s loaded %d times", ref, n)
		}
	}
	if pol.calls != 3 {
		t.Errorf("policy asked %d times, want 3 (one per distinct permission)", pol.calls)
	}
	for i, ans := range out {
		want := Deny
		if (i%20)%2 == 0 {
			want = Allow
		}
		if ans.ID != items[i].ID || ans.Result != want {
			t.Errorf("item %d: %+v, want %s", i, ans, want)
		}
		if ans.Reason.Summary == "" {
			t.Errorf("item %d has no reason", i)
		}
	}
}

func TestAuthorizeCases(t *testing.T) {
	loader := newLoader(2)
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}})
	ctx := context.Background()
	read := MustKnown(CatalogEntityRead)
	create := MustKnown(CatalogEntityCreate)
	tests := []struct {
		name string
		who  identity.Principal
		item Item
		want Result
	}{
		{"basic allowed", identity.Principal{User: alice}, Item{ID: "1", Permission: create}, Allow},
		{"basic denied", identity.Principal{User: &identity.User{EntityRef: "user:default/bob"}}, Item{ID: "1", Permission: create}, Deny},
		{"anonymous", identity.Principal{}, Item{ID: "1", Permission: create}, Deny},
		{"service", identity.Principal{Service: "plugin:catalog"}, Item{ID: "1", Permission: create}, Allow},
		{"service on behalf of a user", identity.Principal{Service: "plugin:scaffolder", User: &identity.User{EntityRef: "user:default/bob"}}, Item{ID: "1", Permission: create}, Deny},
		{"owned resource", identity.Principal{User: alice}, Item{ID: "1", Permission: read, ResourceRef: "component:default/svc-0"}, Allow},
		{"not owned", identity.Principal{User: alice}, Item{ID: "1", Permission: read, ResourceRef: "component:default/svc-1"}, Deny},
		{"missing resource", identity.Principal{User: alice}, Item{ID: "1", Permission: read, ResourceRef: "component:default/ghost"}, Deny},
		{"no ref: conditional", identity.Principal{User: alice}, Item{ID: "1", Permission: read}, Conditional},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, why, err := a.Allowed(ctx, tt.who, tt.item.Permission, tt.item.ResourceRef)
			if err != nil {
				t.Fatal(err)
			}
			out, err := a.Authorize(ctx, tt.who, []Item{tt.item})
			if err != nil {
				t.Fatal(err)
			}
			if out[0].Result != tt.want || ok != (tt.want == Allow) {
				t.Errorf("got %s (Allowed %v), want %s; reason %s", out[0].Result, ok, tt.want, why)
			}
			if tt.want == Conditional && (out[0].Conditions == nil || out[0].PluginID != "catalog") {
				t.Errorf("conditional answer without conditions: %+v", out[0])
			}
		})
	}
}

func TestAuthorizeDisabled(t *testing.T) {
	a := NewAuthorizer(Static(Decision{Result: Deny}), &AuthorizerOptions{Disabled: true})
	out, err := a.Authorize(context.Background(), identity.Principal{}, []Item{{ID: "x", Permission: MustKnown(CatalogEntityCreate)}})
	if err != nil || out[0].Result != Allow {
		t.Fatalf("got %+v, %v", out, err)
	}
}

func TestAuthorizeBadInput(t *testing.T) {
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{MaxItems: 3})
	create := MustKnown(CatalogEntityCreate)
	tests := []struct {
		name  string
		items []Item
	}{
		{"empty", nil},
		{"too many", []Item{{ID: "1", Permission: create}, {ID: "2", Permission: create}, {ID: "3", Permission: create}, {ID: "4", Permission: create}}},
		{"no id", []Item{{Permission: create}}},
		{"repeated id", []Item{{ID: "1", Permission: create}, {ID: "1", Permission: create}}},
		{"bad permission", []Item{{ID: "1", Permission: Permission{Type: "x", Name: "y"}}}},
		{"ref on basic", []Item{{ID: "1", Permission: create, ResourceRef: "component:default/a"}}},
	}
	for _, tt := range tests {
		_, err := a.Authorize(context.Background(), identity.Principal{User: alice}, tt.items)
		if errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: err = %v, want InvalidArgument", tt.name, err)
		}
	}
}

func TestAuthorizeRefusesBadConditionalDecisions(t *testing.T) {
	cond := Rule(CatalogEntityResourceType, IsEntityOwner, map[string]any{"claims": []any{"x"}})
	tests := []struct {
		name string
		p    Permission
		d    Decision
	}{
		{"conditional on basic", MustKnown(CatalogEntityCreate), Decision{Result: Conditional, PluginID: "catalog", ResourceType: CatalogEntityResourceType, Conditions: cond}},
		{"other resource type", MustKnown(ScaffolderActionExecute), Decision{Result: Conditional, PluginID: "catalog", ResourceType: CatalogEntityResourceType, Conditions: cond}},
		{"leaf of other type", MustKnown(ScaffolderActionExecute), Decision{Result: Conditional, PluginID: "scaffolder", ResourceType: ScaffolderActionResourceType, Conditions: cond}},
		{"too deep", MustKnown(CatalogEntityRead), Decision{Result: Conditional, PluginID: "catalog", ResourceType: CatalogEntityResourceType, Conditions: nest(13)}},
		{"no conditions", MustKnown(CatalogEntityRead), Decision{Result: Conditional, PluginID: "catalog", ResourceType: CatalogEntityResourceType}},
		// Backstage's PermissionClient refuses a CONDITIONAL answer without
		// pluginId (its response schema requires it).
		{"no plugin id", MustKnown(CatalogEntityRead), Decision{Result: Conditional, ResourceType: CatalogEntityResourceType, Conditions: cond}},
		{"unknown result", MustKnown(CatalogEntityRead), Decision{Result: "MAYBE"}},
	}
	for _, tt := range tests {
		a := NewAuthorizer(Static(tt.d), nil)
		_, err := a.Authorize(context.Background(), identity.Principal{User: alice}, []Item{{ID: "1", Permission: tt.p}})
		if errcode.CodeOf(err) != errcode.Unknown {
			t.Errorf("%s: err = %v, want Unknown", tt.name, err)
		}
	}
}

func TestAuthorizeFailsClosed(t *testing.T) {
	// A policy error denies; a missing loader denies; a loader error fails
	// the batch.
	failing := PolicyFunc(func(context.Context, Query, *identity.User) (Decision, error) {
		return Decision{Result: Allow}, errors.New("backend down")
	})
	a := NewAuthorizer(failing, nil)
	out, err := a.Authorize(context.Background(), identity.Principal{User: alice}, []Item{{ID: "1", Permission: MustKnown(CatalogEntityCreate)}})
	if err != nil || out[0].Result != Deny {
		t.Errorf("policy error: %+v, %v", out, err)
	}
	a = NewAuthorizer(&ownerPolicy{}, nil)
	out, err = a.Authorize(context.Background(), identity.Principal{User: alice}, []Item{{ID: "1", Permission: MustKnown(CatalogEntityRead), ResourceRef: "component:default/svc-0"}})
	if err != nil || out[0].Result != Deny {
		t.Errorf("no loader: %+v, %v", out, err)
	}
	broken := LoaderFunc(func(context.Context, []string) (map[string]any, error) { return nil, errors.New("catalog down") })
	a = NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: broken}})
	_, err = a.Authorize(context.Background(), identity.Principal{User: alice}, []Item{{ID: "1", Permission: MustKnown(CatalogEntityRead), ResourceRef: "component:default/svc-0"}})
	if errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("loader error: %v, want Unavailable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewAuthorizer(&ownerPolicy{}, nil).Authorize(ctx, identity.Principal{User: alice}, []Item{{ID: "1", Permission: MustKnown(CatalogEntityCreate)}}); errcode.CodeOf(err) != errcode.Canceled {
		t.Errorf("cancelled: %v", err)
	}
}

func TestHandler(t *testing.T) {
	loader := newLoader(2)
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}})
	// "alice" is alice's own token (from the frontend), "obo" the catalog
	// acting on her behalf.
	who := func(r *http.Request) (identity.Principal, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer alice":
			return identity.Principal{User: alice}, nil
		case "Bearer obo":
			return identity.Principal{User: alice, Service: "plugin:catalog"}, nil
		}
		return identity.Principal{}, errors.New("no")
	}
	srv := httptest.NewServer(Handler(a, who))
	defer srv.Close()
	post := func(body, auth, ct string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp, buf.Bytes()
	}
	body := `{"items":[
		{"id":"a1","permission":{"type":"basic","name":"catalog.entity.create","attributes":{"action":"create"}}},
		{"id":"a2","permission":{"type":"resource","name":"catalog.entity.read","attributes":{"action":"read"},"resourceType":"catalog-entity"},"resourceRef":"component:default/svc-0"},
		{"id":"a3","permission":{"type":"resource","name":"catalog.entity.read","attributes":{"action":"read"},"resourceType":"catalog-entity"}}
	]}`
	resp, got := post(body, "Bearer obo", "application/json")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
	want := `{"items":[{"id":"a1","result":"ALLOW"},{"id":"a2","result":"ALLOW"},{"id":"a3","result":"CONDITIONAL","pluginId":"catalog","resourceType":"catalog-entity","conditions":{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/alice","group:default/team-a"]}}}]}`
	if strings.TrimSpace(string(got)) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	tests := []struct {
		name, body, auth, ct string
		status               int
	}{
		{"no auth", body, "", "application/json", 401},
		{"bad json", `{"items":[`, "Bearer alice", "application/json", 400},
		{"trailing", `{"items":[]} {}`, "Bearer alice", "application/json", 400},
		{"no items", `{}`, "Bearer alice", "application/json", 400},
		{"null items", `{"items":null}`, "Bearer alice", "application/json", 400},
		// Backstage refuses a resource permission without a ref from a
		// user's own token: a CONDITIONAL answer would show her the
		// policy's conditions.
		{"resource permission without a ref, from the user herself", body, "Bearer alice", "application/json", 400},
		{"wrong type", body, "Bearer alice", "text/plain", 415},
		{"huge", `{"items":[` + strings.Repeat(" ", 2<<20) + `]}`, "Bearer alice", "application/json", 413},
	}
	for _, tt := range tests {
		resp, got := post(tt.body, tt.auth, tt.ct)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, resp.StatusCode, tt.status, got)
		}
		var e struct {
			Error    struct{ Name, Message string }
			Response struct{ StatusCode int }
		}
		if err := json.Unmarshal(got, &e); err != nil || e.Error.Name == "" || e.Response.StatusCode != tt.status {
			t.Errorf("%s: error body %s", tt.name, got)
		}
		// Backstage's body parser names a body over its limit so.
		if tt.status == 413 && e.Error.Name != "PayloadTooLargeError" {
			t.Errorf("%s: error named %q", tt.name, e.Error.Name)
		}
	}
	// An empty batch is answered with an empty one, as Backstage does: a
	// plugin authorizing each entity of an empty list sends one.
	if resp, got := post(`{"items":[]}`, "Bearer alice", "application/json"); resp.StatusCode != 200 || strings.TrimSpace(string(got)) != `{"items":[]}` {
		t.Errorf("empty batch: %d %s", resp.StatusCode, got)
	}
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

func TestAuthorizeLogs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := NewAuthorizer(&ownerPolicy{}, &AuthorizerOptions{Logger: logger})
	if _, err := a.Authorize(context.Background(), identity.Principal{User: alice}, []Item{{ID: "1", Permission: MustKnown(CatalogEntityCreate)}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"principal=user:default/alice", "permission=catalog.entity.create", "result=ALLOW", "reason="} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %q", buf.String(), want)
		}
	}
	// No logger, no log: the default Authorizer writes nothing anywhere.
	if NewAuthorizer(&ownerPolicy{}, nil).opts.Logger != nil {
		t.Error("a logger by default")
	}
}
