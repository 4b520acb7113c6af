package orgx

import (
	"encoding/json"
	"slices"
	"testing"
)

type keyInner struct {
	Filter string `json:"filter"`
}

// keyList is one keyInner or a list of them, as ldaporg's users blocks.
type keyList []keyInner

func (l *keyList) UnmarshalJSON(b []byte) error {
	var one keyInner
	if json.Unmarshal(b, &one) == nil {
		*l = keyList{one}
		return nil
	}
	return json.Unmarshal(b, (*[]keyInner)(l))
}

type keyBlock struct {
	ID       string              `json:"id"`
	Orgs     []string            `json:"orgs"`
	Inner    keyInner            `json:"inner"`
	Users    keyList             `json:"users"`
	Set      map[string]any      `json:"set"`
	ByName   map[string]keyInner `json:"byName"`
	Warnings []string            `json:"-"`
}

// TestKeyWarnings: every kind of key KeyWarnings reports, with its path,
// and what it leaves alone (known keys, skipped ones, the free keys of a
// map of values, a "-" field's name).
func TestKeyWarnings(t *testing.T) {
	raw := json.RawMessage(`{
		"id": "x", "org": ["acme"], "orgs": ["acme"], "ORGS": ["b"], "Inner": {"filter": "a"},
		"inner": {"fliter": "a"}, "users": {"filtr": "a"}, "set": {"metadata.anything": 1},
		"byName": {"a": {"filter": "x", "zz": 1}}, "queryLimits": {"a": 1}, "schedule": {"frequency": "PT1H"},
		"Warnings": ["x"], "ou=people": null
	}`)
	got := KeyWarnings[keyBlock](raw, "p", map[string]string{"queryLimits": "not supported"}, "schedule")
	want := []string{
		"p.Inner: inner is set too; scmkit reads whichever of the two comes last, Backstage only inner: remove Inner",
		"p.ORGS: orgs is set too; scmkit reads whichever of the two comes last, Backstage only orgs: remove ORGS",
		"p.Warnings: not a key scmkit reads here; ignored (a typo?)",
		"p.byName.a.zz: not a key scmkit reads here; ignored (a typo?)",
		"p.inner.fliter: not a key scmkit reads here; ignored (a typo for filter?)",
		"p.org: not a key scmkit reads here; ignored (a typo for orgs?)",
		"p.ou=people: not a key scmkit reads here; ignored (a typo?)",
		"p.queryLimits: not supported",
		"p.users.filtr: not a key scmkit reads here; ignored (a typo for filter?)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	list := KeyWarnings[keyBlock](json.RawMessage(`{"users": [{"filter": "a"}, {"scope": "sub"}]}`), "p", nil)
	if want := []string{"p.users[1].scope: not a key scmkit reads here; ignored (a typo?)"}; !slices.Equal(list, want) {
		t.Errorf("list: %q, want %q", list, want)
	}
}
