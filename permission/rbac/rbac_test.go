package rbac

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/permission"
)

// org: platform-team ⊂ engineering ⊂ company; team-a ⊂ engineering.
func testOrg() *Membership {
	return &Membership{
		Users: map[string][]string{
			"user:default/alice": {"group:default/platform-team"},
			"user:default/bob":   {"group:default/team-a"},
			"user:default/carol": {"group:default/team-a"},
			"user:default/dave":  nil,
			"user:default/erin":  {"group:default/Team-A"},
		},
		Parents: map[string][]string{
			"group:default/platform-team": {"group:default/engineering"},
			"group:default/team-a":        {"group:default/engineering"},
			"group:default/engineering":   {"group:default/company"},
		},
	}
}

func load(t testing.TB, m *Membership, opts *Options) *Policy {
	t.Helper()
	f, err := os.Open("testdata/policy.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := ParseCSV("policy.csv", f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New([]*File{pf}, m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func user(ref string) *identity.User {
	return &identity.User{EntityRef: ref, OwnershipEntityRefs: []string{ref}}
}

func perm(name string) permission.Permission { return permission.MustKnown(name) }

func TestDecide(t *testing.T) {
	p := load(t, testOrg(), nil)
	tests := []struct {
		name string
		user *identity.User
		perm permission.Permission
		want permission.Result
		rule string // the deciding line, if any
	}{
		{"member registers", user("user:default/alice"), perm(permission.CatalogEntityCreate), permission.Allow, "p, role:default/registrar, catalog.entity.create, create, allow"},
		{"member adds location", user("user:default/alice"), perm(permission.CatalogLocationCreate), permission.Allow, "p, role:default/registrar, catalog.location.create, create, allow"},
		{"non-member may not register", user("user:default/bob"), perm(permission.CatalogEntityCreate), permission.Deny, ""},
		{"unknown user", user("user:default/mallory"), perm(permission.CatalogEntityCreate), permission.Deny, ""},
		{"anonymous", nil, perm(permission.CatalogEntityCreate), permission.Deny, ""},
		{"inherited read", user("user:default/alice"), perm(permission.CatalogEntityRead), permission.Allow, "p, role:default/reader, catalog-entity, read, allow"},
		{"case-insensitive refs", user("User:Default/Bob"), perm(permission.CatalogEntityRead), permission.Allow, "p, role:default/reader, catalog-entity, read, allow"},
		{"deny wins", user("user:default/carol"), perm(permission.CatalogEntityDelete), permission.Deny, "p, role:default/auditor, catalog-entity, delete, deny"},
		{"allow without deny", user("user:default/dave"), perm(permission.CatalogEntityDelete), permission.Allow, "p, role:default/catalog-admin, catalog-entity, delete, allow"},
		{"name beats resource type", user("user:default/erin"), perm(permission.CatalogEntityRefresh), permission.Deny, "p, role:default/no-refresh, catalog.entity.refresh, update, deny"},
		{"use action", user("user:default/bob"), perm(permission.ScaffolderActionExecute), permission.Allow, "p, role:default/templater, scaffolder-action, use, allow"},
		{"other action", user("user:default/alice"), perm(permission.CatalogEntityRefresh), permission.Deny, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Decide(context.Background(), permission.Query{Permission: tt.perm}, tt.user)
			if err != nil {
				t.Fatal(err)
			}
			if d.Result != tt.want || d.Reason.Rule != tt.rule {
				t.Errorf("got %s by %q, want %s by %q (%s)", d.Result, d.Reason.Rule, tt.want, tt.rule, d.Reason)
			}
			if d.Reason.Summary == "" {
				t.Error("no summary")
			}
		})
	}
}

func TestExplainGroupPath(t *testing.T) {
	p := load(t, testOrg(), nil)
	d, _ := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityRead)}, user("user:default/alice"))
	want := permission.Reason{Policy: "rbac", Summary: d.Reason.Summary,
		Rule: "p, role:default/reader, catalog-entity, read, allow", Line: 7, Source: "policy.csv", Role: "role:default/reader",
		Path:    []string{"group:default/platform-team", "group:default/engineering"},
		Binding: "g, group:default/engineering, role:default/reader", BindingLine: 10}
	if diff := cmp.Diff(want, d.Reason); diff != "" {
		t.Errorf("reason (-want +got):\n%s", diff)
	}
	if s := d.Reason.String(); !strings.Contains(s, "policy.csv:7") || !strings.Contains(s, "group:default/platform-team → group:default/engineering") {
		t.Errorf("String() = %s", s)
	}
	// Bound directly: the binding line, no path.
	d, _ = p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityDelete)}, user("user:default/dave"))
	if d.Reason.Path != nil || d.Reason.BindingLine != 13 {
		t.Errorf("direct binding reason: %+v", d.Reason)
	}
	if got := p.Roles(user("user:default/carol")); !cmp.Equal(got, []string{"role:default/auditor", "role:default/catalog-admin", "role:default/reader", "role:default/templater"}) {
		t.Errorf("Roles(carol) = %v", got)
	}
}

func TestMaxDepth(t *testing.T) {
	// reader is bound to engineering, one level above alice's group.
	for _, tt := range []struct {
		depth *int
		want  permission.Result
	}{
		{nil, permission.Allow},
		{ptr(0), permission.Deny},
		{ptr(1), permission.Allow},
	} {
		p := load(t, testOrg(), &Options{MaxDepth: tt.depth})
		d, _ := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityRead)}, user("user:default/alice"))
		if d.Result != tt.want {
			t.Errorf("maxDepth %v: %s, want %s", tt.depth, d.Result, tt.want)
		}
		// Direct group bindings hold at every depth.
		d, _ = p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityCreate)}, user("user:default/alice"))
		if d.Result != permission.Allow {
			t.Errorf("maxDepth %v: direct group binding lost", tt.depth)
		}
	}
	if _, err := New(nil, nil, &Options{MaxDepth: ptr(-1)}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("negative maxDepth: %v", err)
	}
}

func ptr(i int) *int { return &i }

func TestSuperUsers(t *testing.T) {
	p := load(t, testOrg(), &Options{SuperUsers: []string{"user:default/bob", "group:default/engineering"}})
	q := permission.Query{Permission: perm(permission.CatalogEntityDelete)}
	if d, _ := p.Decide(context.Background(), q, user("user:default/bob")); d.Result != permission.Allow || d.Reason.Summary != "super user" {
		t.Errorf("bob: %+v", d)
	}
	// Super user groups count direct members only: alice is in a child
	// group of engineering.
	if d, _ := p.Decide(context.Background(), q, user("user:default/alice")); d.Result != permission.Deny {
		t.Errorf("alice: %+v", d)
	}
	if _, err := New(nil, nil, &Options{SuperUsers: []string{"not a ref!"}}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("bad super user: %v", err)
	}
}

func TestGroupCycle(t *testing.T) {
	m := testOrg()
	m.Parents["group:default/company"] = []string{"group:default/platform-team"}
	p := load(t, m, nil)
	if len(p.Cycles()) != 1 || len(p.Cycles()[0]) != 4 {
		t.Fatalf("cycles = %v", p.Cycles())
	}
	d, err := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityCreate)}, user("user:default/alice"))
	if err != nil || d.Result != permission.Deny || !strings.Contains(d.Reason.Summary, "cycle") || len(d.Reason.Path) != 4 {
		t.Errorf("alice in a cycle: %+v, %v", d, err)
	}
	// dave belongs to no group; the cycle does not concern him.
	d, _ = p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityDelete)}, user("user:default/dave"))
	if d.Result != permission.Allow {
		t.Errorf("dave: %+v", d)
	}
}

func TestUseOwnershipEntityRefs(t *testing.T) {
	// mallory is not in the org; her token says she is in platform-team.
	u := &identity.User{EntityRef: "user:default/mallory", OwnershipEntityRefs: []string{"user:default/mallory", "group:default/platform-team"}}
	q := permission.Query{Permission: perm(permission.CatalogEntityCreate)}
	if d, _ := load(t, testOrg(), nil).Decide(context.Background(), q, u); d.Result != permission.Deny {
		t.Errorf("ent trusted by default: %+v", d)
	}
	p := load(t, testOrg(), &Options{UseOwnershipEntityRefs: true})
	if d, _ := p.Decide(context.Background(), q, u); d.Result != permission.Allow {
		t.Errorf("ent not trusted with UseOwnershipEntityRefs: %+v", d)
	}
}

func loadConditional(t *testing.T) []ConditionalPolicy {
	f, err := os.Open("testdata/conditional.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cps, err := ParseConditional("conditional.yaml", f)
	if err != nil {
		t.Fatal(err)
	}
	return cps
}

func TestConditionalPolicies(t *testing.T) {
	csv := "g, group:default/team-a, role:default/owner\ng, user:default/bob, role:default/api-readers\n"
	pf, err := ParseCSV("c.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New([]*File{pf}, testOrg(), &Options{Conditional: loadConditional(t)})
	if err != nil {
		t.Fatal(err)
	}
	bob := &identity.User{EntityRef: "user:default/bob", OwnershipEntityRefs: []string{"user:default/bob", "group:default/team-a"}}
	d, err := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityRead)}, bob)
	if err != nil {
		t.Fatal(err)
	}
	if d.Result != permission.Conditional || d.PluginID != "catalog" || d.ResourceType != permission.CatalogEntityResourceType {
		t.Fatalf("got %+v", d)
	}
	got, _ := json.Marshal(d.Conditions)
	want := `{"anyOf":[{"anyOf":[{"rule":"IS_ENTITY_OWNER","resourceType":"catalog-entity","params":{"claims":["user:default/bob","group:default/team-a"]}},` +
		`{"rule":"HAS_ANNOTATION","resourceType":"catalog-entity","params":{"annotation":"acme.com/maintainer","value":"user:default/bob"}}]},` +
		`{"rule":"IS_ENTITY_KIND","resourceType":"catalog-entity","params":{"kinds":["API"]}}]}`
	if string(got) != want {
		t.Errorf("conditions\n got %s\nwant %s", got, want)
	}
	// Delete is mapped for owner only: one policy, not merged.
	d, _ = p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityDelete)}, bob)
	if d.Result != permission.Conditional || d.Conditions.AnyOf == nil || len(d.Conditions.AnyOf) != 2 {
		t.Errorf("delete: %+v", d)
	}
	// A basic permission is never conditional; alice holds neither role.
	d, _ = p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityCreate)}, bob)
	if d.Result != permission.Deny {
		t.Errorf("create: %+v", d)
	}
	d, _ = p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityRead)}, user("user:default/alice"))
	if d.Result != permission.Deny {
		t.Errorf("alice: %+v", d)
	}
	// The file's policies are not changed by substitution.
	if again := loadConditional(t); !cmp.Equal(again[0].Conditions, loadConditional(t)[0].Conditions) {
		t.Error("conditional policy mutated")
	}
}

func TestParseCSVCommentsAndQuotes(t *testing.T) {
	f, err := ParseCSV("p.csv", strings.NewReader("  # indented comment\n   \n\"p\", \"role:default/a\", catalog.entity.create, create, allow\n"))
	if err != nil || len(f.Lines) != 1 || f.Lines[0].Number != 3 || f.Lines[0].Object != "catalog.entity.create" {
		t.Fatalf("%+v, %v", f, err)
	}
}

// TestParseCSVBOMAndCRLF: a file saved by a Windows editor (byte order
// mark, CRLF line ends, trailing blanks) loads, with the right line
// numbers.
func TestParseCSVBOMAndCRLF(t *testing.T) {
	in := "\uFEFFp, role:default/a, catalog.entity.create, create, allow \r\n# c\r\ng, group:default/team-a, role:default/a\r\n"
	f, err := ParseCSV("p.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Lines) != 2 || f.Lines[0].Kind != "p" || f.Lines[0].Effect != "allow" || f.Lines[1].Number != 3 || f.Lines[1].Role != "role:default/a" {
		t.Errorf("lines %+v", f.Lines)
	}
}

func TestParseCSVErrors(t *testing.T) {
	tests := []struct {
		name  string
		csv   string
		lines []int
	}{
		{"wrong field count", "p, role:default/a, catalog.entity.create, create\n", []int{1}},
		{"bad role", "\n\np, admins, catalog.entity.create, create, allow\n", []int{3}},
		{"bad action", "p, role:default/a, catalog.entity.create, destroy, allow\n", []int{1}},
		{"bad effect", "p, role:default/a, catalog.entity.create, create, maybe\n", []int{1}},
		{"bad subject", "g, team-a, role:default/a\n", []int{1}},
		{"binding to non-role", "g, user:default/a, group:default/b\n", []int{1}},
		{"unknown kind", "x, role:default/a\n", []int{1}},
		{"bad object", "p, role:default/a, cat alog, create, allow\n", []int{1}},
		{"duplicate", "g, user:default/a, role:default/b\n# c\ng, user:default/a, role:default/b\n", []int{3}},
		{"several", "p, role:default/a, x, create, allow\nq\ng, user:default/a, role:default/b\ng, x\n", []int{2, 4}},
		{"quoting", "p, role:default/a, \"x\"y, create, allow\n", []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseCSV("p.csv", strings.NewReader(tt.csv))
			if f != nil || errcode.CodeOf(err) != errcode.InvalidArgument {
				t.Fatalf("got %v, %v", f, err)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("no SyntaxError in %v", err)
			}
			var lines []int
			for _, p := range se.Problems {
				lines = append(lines, p.Line)
			}
			if !cmp.Equal(lines, tt.lines) {
				t.Errorf("lines %v, want %v: %v", lines, tt.lines, err)
			}
			if !strings.Contains(err.Error(), "p.csv:") {
				t.Errorf("error does not name the file and line: %v", err)
			}
		})
	}
	if _, err := ParseCSV("big.csv", strings.NewReader(strings.Repeat("#", MaxFileSize+1))); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("oversized file: %v", err)
	}
}

func TestParseConditionalErrors(t *testing.T) {
	ok := "result: CONDITIONAL\nroleEntityRef: role:default/a\npluginId: catalog\nresourceType: catalog-entity\npermissionMapping: [read]\n"
	cond := "conditions: {rule: IS_ENTITY_OWNER, resourceType: catalog-entity, params: {claims: [$currentUser]}}\n"
	deep := "conditions: " + strings.Repeat("{not: ", 12) + "{rule: HAS_LABEL, resourceType: catalog-entity, params: {label: x}}" + strings.Repeat("}", 12) + "\n"
	tests := []struct{ name, doc string }{
		{"not conditional", strings.Replace(ok, "CONDITIONAL", "ALLOW", 1) + cond},
		{"bad role", strings.Replace(ok, "role:default/a", "group:default/a", 1) + cond},
		{"no mapping", strings.Replace(ok, "[read]", "[]", 1) + cond},
		{"bad action", strings.Replace(ok, "[read]", "[destroy]", 1) + cond},
		{"no conditions", ok},
		{"other resource type", ok + strings.Replace(cond, "resourceType: catalog-entity", "resourceType: scaffolder-action", 1)},
		{"too deep", ok + deep},
		{"unknown key", ok + cond + "extra: 1\n"},
		{"yaml syntax", ok + cond + "  : [\n"},
		{"second doc bad", ok + cond + "---\n" + ok},
	}
	for _, tt := range tests {
		if _, err := ParseConditional("c.yaml", strings.NewReader(tt.doc)); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", tt.name, err)
		}
	}
	if cps, err := ParseConditional("c.yaml", strings.NewReader(ok+cond)); err != nil || len(cps) != 1 {
		t.Errorf("valid: %v, %v", cps, err)
	}
	many := strings.Repeat(ok+cond+"---\n", 257)
	if _, err := ParseConditional("c.yaml", strings.NewReader(many)); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("257 documents: %v", err)
	}
}

func TestLoadFromConfig(t *testing.T) {
	csv, _ := os.ReadFile("testdata/policy.csv")
	cond, _ := os.ReadFile("testdata/conditional.yaml")
	fsys := fstest.MapFS{"rbac/policy.csv": {Data: csv}, "rbac/conditional.yaml": {Data: cond}, "bad.csv": {Data: []byte("p, x\n")}}
	var c Config
	if err := json.Unmarshal([]byte(`{"enabled":true,"rbac":{"policies-csv-file":"rbac/policy.csv","conditionalPoliciesFile":"rbac/conditional.yaml","maxDepth":0,"admin":{"superUsers":[{"name":"user:default/bob"}]}}}`), &c); err != nil {
		t.Fatal(err)
	}
	p, err := Load(fsys, &c, testOrg())
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityRead)}, user("user:default/alice")); d.Result != permission.Deny {
		t.Errorf("maxDepth 0 not applied: %+v", d)
	}
	if d, _ := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityDelete)}, user("user:default/bob")); d.Result != permission.Allow {
		t.Errorf("super user not applied: %+v", d)
	}
	for _, bad := range []string{`{"rbac":{"policies-csv-file":"missing.csv"}}`, `{"rbac":{"policies-csv-file":"bad.csv"}}`, `{"rbac":{"conditionalPoliciesFile":"missing.yaml"}}`} {
		var c Config
		_ = json.Unmarshal([]byte(bad), &c)
		if p, err := Load(fsys, &c, testOrg()); p != nil || errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: %v, %v", bad, p, err)
		}
	}
}

func TestAuthorizerWithRBAC(t *testing.T) {
	p := load(t, testOrg(), nil)
	a := permission.NewAuthorizer(p, nil)
	for _, tt := range []struct {
		who  string
		want bool
	}{{"user:default/alice", true}, {"user:default/bob", false}} {
		ok, why, err := a.Allowed(context.Background(), identity.Principal{User: user(tt.who)}, perm(permission.CatalogEntityCreate), "")
		if err != nil || ok != tt.want {
			t.Errorf("%s: %v (%s), %v", tt.who, ok, why, err)
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	csv, _ := os.ReadFile("testdata/policy.csv")
	f.Add(string(csv))
	f.Add("p, role:default/a, x, create, allow\n")
	f.Add("g, \"user:default/a\", role:default/b\n")
	f.Fuzz(func(t *testing.T, s string) {
		pf, err := ParseCSV("f.csv", strings.NewReader(s))
		if err != nil {
			if pf != nil {
				t.Fatal("file and error")
			}
			return
		}
		for _, l := range pf.Lines {
			if l.Number < 1 || !strings.HasPrefix(l.Role, "role:") {
				t.Fatalf("bad line %+v", l)
			}
		}
		if _, err := New([]*File{pf}, nil, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestFromSnapshot(t *testing.T) {
	s := &org.Snapshot{
		Users: []org.User{
			{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{"platform-team"}}},
			{Metadata: org.Metadata{Name: "bob"}},
		},
		Groups: []org.Group{
			{Metadata: org.Metadata{Name: "platform-team"}, Spec: org.GroupSpec{Type: "team", Parent: "engineering", Members: []string{"alice"}}},
			{Metadata: org.Metadata{Name: "engineering"}, Spec: org.GroupSpec{Type: "team", Children: []string{"team-a"}}},
			{Metadata: org.Metadata{Name: "team-a"}, Spec: org.GroupSpec{Type: "team", Members: []string{"user:default/Bob"}}},
		},
	}
	m := FromSnapshot(s)
	want := &Membership{
		Users:   map[string][]string{"user:default/alice": {"group:default/platform-team"}, "user:default/bob": {"group:default/team-a"}},
		Parents: map[string][]string{"group:default/platform-team": {"group:default/engineering"}, "group:default/team-a": {"group:default/engineering"}},
	}
	if diff := cmp.Diff(want, m, cmp.AllowUnexported(Membership{})); diff != "" {
		t.Error(diff)
	}
	p := load(t, m, nil)
	if d, _ := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityRead)}, user("user:default/bob")); d.Result != permission.Allow {
		t.Errorf("bob through team-a → engineering: %+v", d)
	}
}

func TestConfigFromAppConfig(t *testing.T) {
	csv, _ := os.ReadFile("testdata/policy.csv")
	doc := []byte(`
permission:
  enabled: true
  rbac:
    policies-csv-file: policy.csv
    maxDepth: 1
    admin:
      superUsers:
        - name: user:default/dave
`)
	cfg, err := config.LoadBytes(context.Background(), nil, doc)
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := cfg.Decode("permission", &c); err != nil {
		t.Fatal(err)
	}
	if !c.Enabled || *c.RBAC.MaxDepth != 1 || c.RBAC.Admin.SuperUsers[0].Name != "user:default/dave" {
		t.Fatalf("decoded %+v", c)
	}
	p, err := Load(fstest.MapFS{"policy.csv": {Data: csv}}, &c, testOrg())
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityCreate)}, user("user:default/dave")); d.Result != permission.Allow {
		t.Errorf("super user: %+v", d)
	}
}

func TestLiveReloadKeepsPolicyOnError(t *testing.T) {
	csv, _ := os.ReadFile("testdata/policy.csv")
	fsys := fstest.MapFS{"policy.csv": {Data: csv}}
	c := &Config{Enabled: true}
	c.RBAC.PoliciesCSVFile = "policy.csv"
	live := NewLive(nil)
	q := permission.Query{Permission: perm(permission.CatalogEntityCreate)}
	if _, err := live.Decide(context.Background(), q, user("user:default/alice")); errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("before load: %v", err)
	}
	if err := live.Reload(fsys, c, testOrg()); err != nil {
		t.Fatal(err)
	}
	decide := func() permission.Result {
		d, err := live.Decide(context.Background(), q, user("user:default/alice"))
		if err != nil {
			t.Fatal(err)
		}
		return d.Result
	}
	if decide() != permission.Allow {
		t.Fatal("alice not allowed")
	}
	// A bad edit: the first line is fine and would revoke alice's right,
	// the second is broken. Nothing of it is applied.
	fsys["policy.csv"] = &fstest.MapFile{Data: []byte("p, role:default/registrar, catalog.entity.create, create, deny\np, role:default/x, y, creat, allow\n")}
	if err := live.Reload(fsys, c, testOrg()); errcode.CodeOf(err) != errcode.InvalidArgument || !strings.Contains(err.Error(), "policy.csv:2") {
		t.Fatalf("bad reload: %v", err)
	}
	if decide() != permission.Allow {
		t.Error("a refused file changed the policy")
	}
	// A good edit applies.
	fsys["policy.csv"] = &fstest.MapFile{Data: []byte("p, role:default/registrar, catalog.entity.create, create, deny\ng, user:default/alice, role:default/registrar\n")}
	if err := live.Reload(fsys, c, testOrg()); err != nil {
		t.Fatal(err)
	}
	if decide() != permission.Deny {
		t.Error("reload not applied")
	}
}

// TestConditionalReasonNamesFile: a conditional decision's reason lost
// the CSV file of the binding line ("[g, … at :1]") where every other
// reason names it ("at c.csv:1").
func TestConditionalReasonNamesFile(t *testing.T) {
	pf, err := ParseCSV("c.csv", strings.NewReader("g, group:default/team-a, role:default/owner\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := New([]*File{pf}, testOrg(), &Options{Conditional: loadConditional(t)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.Decide(context.Background(), permission.Query{Permission: perm(permission.CatalogEntityDelete)}, user("user:default/bob"))
	if err != nil || d.Result != permission.Conditional {
		t.Fatalf("%+v, %v", d, err)
	}
	if s := d.Reason.String(); !strings.Contains(s, "[g, group:default/team-a, role:default/owner at c.csv:1]") {
		t.Errorf("reason %q does not name the binding's file", s)
	}
}
