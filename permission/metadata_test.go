package permission

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm/catalog"
)

// treeOf is an entity's metadata as the catalog stores it, a JSON tree:
// the reference HAS_METADATA was defined on before it read the typed
// fields in place.
func treeOf(e *catalog.Entity) map[string]any {
	m := e.Metadata
	t := map[string]any{"name": m.Name}
	put := func(k, v string) {
		if v != "" {
			t[k] = v
		}
	}
	put("namespace", m.Namespace)
	put("title", m.Title)
	put("description", m.Description)
	if m.Labels != nil {
		l := map[string]any{}
		for k, v := range m.Labels {
			l[k] = v
		}
		t["labels"] = l
	}
	if m.Annotations != nil {
		a := map[string]any{}
		for k, v := range m.Annotations {
			a[k] = v
		}
		t["annotations"] = a
	}
	if m.Tags != nil {
		tags := make([]any, len(m.Tags))
		for i, v := range m.Tags {
			tags[i] = v
		}
		t["tags"] = tags
	}
	if m.Links != nil {
		links := make([]any, len(m.Links))
		for i, l := range m.Links {
			links[i] = map[string]any{"url": l.URL, "title": l.Title, "icon": l.Icon, "type": l.Type}
		}
		t["links"] = links
	}
	return t
}

// treeHasMetadata is createPropertyRule on treeOf: lodash get, then an
// array contains the value (or is not empty), another value equals it
// (or is truthy).
func treeHasMetadata(e *catalog.Entity, key string, want any, hasWant bool) bool {
	v := get(treeOf(e), strings.Split(key, "."))
	if list, ok := v.([]any); ok {
		if hasWant {
			return slices.ContainsFunc(list, func(x any) bool { return strictEqual(x, want) })
		}
		return len(list) > 0
	}
	if hasWant {
		return strictEqual(v, want)
	}
	return truthy(v)
}

// TestHasMetadataMatchesTree checks that HAS_METADATA, which reads the
// entity's typed fields, decides as the rule on the metadata tree does,
// for every key path (labels, annotations, tags and links alone and
// deeper, scalar fields, unknown keys) on entities with those fields
// missing, empty and set.
func TestHasMetadataMatchesTree(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	strs := []string{"", "a", "A", "x", "0", "1", "true", "false", "url", "title", "team-a", "k.v"}
	str := func() string { return strs[r.IntN(len(strs))] }
	strMap := func() map[string]string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return map[string]string{}
		}
		m := map[string]string{}
		for range 1 + r.IntN(3) {
			m[str()] = str()
		}
		return m
	}
	parts := []string{"labels", "annotations", "tags", "links", "name", "namespace", "title", "description",
		"url", "0", "a", "x", "", "uid", "length"}
	wants := []any{"", "a", "x", "1", "true", "url", 0.0, 1.0, 2, int64(1), true, false}
	rules := CatalogRules()
	def, _ := rules.Lookup(CatalogEntityResourceType, HasMetadata)
	matches := 0
	for i := range 100000 {
		e := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{
			Name: str(), Namespace: str(), Title: str(), Description: str(),
			Labels: strMap(), Annotations: strMap(),
		}}
		switch r.IntN(3) {
		case 1:
			e.Metadata.Tags = []string{}
		case 2:
			for range 1 + r.IntN(3) {
				e.Metadata.Tags = append(e.Metadata.Tags, str())
			}
		}
		switch r.IntN(3) {
		case 1:
			e.Metadata.Links = []catalog.Link{}
		case 2:
			for range 1 + r.IntN(2) {
				e.Metadata.Links = append(e.Metadata.Links, catalog.Link{URL: str(), Title: str()})
			}
		}
		key := parts[r.IntN(len(parts))]
		for r.IntN(3) == 0 {
			key += "." + parts[r.IntN(len(parts))]
		}
		params := map[string]any{"key": key}
		want, hasWant := any(nil), r.IntN(2) == 0
		if hasWant {
			want = wants[r.IntN(len(wants))]
			params["value"] = want
		}
		exp := treeHasMetadata(e, key, want, hasWant)
		if exp {
			matches++
		}
		for _, res := range []any{e, *e} {
			got, err := rules.Evaluate(Rule(CatalogEntityResourceType, HasMetadata, params), res)
			if err != nil || got != exp {
				t.Fatalf("case %d: key %q value %#v (given %v) on %+v: got %v, %v; the tree gives %v", i, key, want, hasWant, e.Metadata, got, err, exp)
			}
		}
		got, err := def.Apply(e, params)
		if err != nil || got != exp {
			t.Fatalf("case %d: Apply: key %q value %#v on %+v: got %v, %v; the tree gives %v", i, key, want, e.Metadata, got, err, exp)
		}
	}
	// The cases must hold both answers, else the comparison proves little.
	if matches < 10000 || matches > 90000 {
		t.Fatalf("%d of 100000 cases match: the generator is lopsided", matches)
	}
}

// TestHasMetadataCostPerEntity: HAS_METADATA on keys the metadata tree
// held as objects or arrays (labels, annotations, tags, links, unknown
// keys) does not copy the entity's labels and annotations per ref and
// condition: a batch of 1,000 refs × 248 such conditions on entities
// with 50 labels and annotations allocates nothing per application.
func TestHasMetadataCostPerEntity(t *testing.T) {
	e := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "x",
		Labels: map[string]string{}, Annotations: map[string]string{}, Tags: []string{"go"},
		Links: []catalog.Link{{URL: "https://example.com"}}}}
	for j := range 40 {
		e.Metadata.Annotations[fmt.Sprintf("backstage.io/annotation-%d", j)] = "value"
	}
	for j := range 10 {
		e.Metadata.Labels[fmt.Sprintf("label-%d", j)] = "v"
	}
	for _, key := range []string{"tags", "links", "labels", "annotations", "unknown", "tags.0", "links.url"} {
		c := Rule(CatalogEntityResourceType, HasMetadata, map[string]any{"key": key, "value": "nope"})
		m, err := CatalogRules().compile(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if ok, err := m.evaluate(e); ok || err != nil {
				t.Fatalf("key %s: %v, %v", key, ok, err)
			}
		})
		if allocs != 0 {
			t.Errorf("key %s: %v allocations per entity, want 0", key, allocs)
		}
	}
}

// BenchmarkHasMetadataWholeKeys is the batch of the review's finding: one
// item of 1,000 refs whose conditions are 248 HAS_METADATA leaves on
// tags, links, labels, annotations and an unknown key, on entities with
// 40 annotations and 10 labels. No leaf matches, so every leaf is
// applied to every ref (248,000 applications per op).
func BenchmarkHasMetadataWholeKeys(b *testing.B) {
	ents := map[string]any{}
	refs := make([]string, 1000)
	for i := range refs {
		refs[i] = fmt.Sprintf("component:default/c%d", i)
		e := &catalog.Entity{Kind: "Component", Metadata: catalog.Metadata{Name: "x", Labels: map[string]string{},
			Annotations: map[string]string{}, Tags: []string{"go"}, Links: []catalog.Link{{URL: "https://example.com"}}}}
		for j := range 40 {
			e.Metadata.Annotations[fmt.Sprintf("backstage.io/annotation-%d", j)] = "value"
		}
		for j := range 10 {
			e.Metadata.Labels[fmt.Sprintf("label-%d", j)] = "v"
		}
		ents[refs[i]] = e
	}
	loader := LoaderFunc(func(_ context.Context, refs []string) (map[string]any, error) {
		out := make(map[string]any, len(refs))
		for _, r := range refs {
			out[r] = ents[r]
		}
		return out, nil
	})
	a := NewAuthorizer(applyOnly, &AuthorizerOptions{Loaders: map[string]ResourceLoader{CatalogEntityResourceType: loader}})
	keys := []string{"tags", "links", "labels", "annotations", "unknown"}
	var inner []*Criteria
	for i := range 62 {
		inner = append(inner, Rule(CatalogEntityResourceType, HasMetadata, map[string]any{"key": keys[i%len(keys)], "value": "nope"}))
	}
	var outer []*Criteria
	for range 4 {
		outer = append(outer, AnyOf(inner...))
	}
	items := []ApplyItem{{ID: "1", ResourceRefs: refs, ResourceType: CatalogEntityResourceType, Conditions: AnyOf(outer...)}}
	b.ReportAllocs()
	for b.Loop() {
		res, err := a.ApplyConditions(context.Background(), items)
		if err != nil {
			b.Fatal(err)
		}
		if len(res[0].Results) != len(refs) || res[0].Results[0] != Deny {
			b.Fatalf("results %v", res[0])
		}
	}
}
