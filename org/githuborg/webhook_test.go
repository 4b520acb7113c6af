package githuborg_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/webhook"
)

// TestChangeOf sets every field of webhook.OrgChange to a value of its
// own and checks that ChangeOf carries each to the field of the same
// name: a field added to OrgChange fails it until ChangeOf carries it (or
// the test says why not).
func TestChangeOf(t *testing.T) {
	if got := githuborg.ChangeOf(nil); got != (githuborg.Change{}) {
		t.Errorf("ChangeOf(nil) = %+v", got)
	}
	var oc webhook.OrgChange
	ov := reflect.ValueOf(&oc).Elem()
	for i := range ov.NumField() {
		f := ov.Field(i)
		if f.Kind() != reflect.String {
			t.Fatalf("OrgChange.%s is a %s: teach this test and ChangeOf about it", ov.Type().Field(i).Name, f.Kind())
		}
		f.SetString("value-of-" + ov.Type().Field(i).Name)
	}
	got := reflect.ValueOf(githuborg.ChangeOf(&oc))
	for i := range ov.NumField() {
		name := ov.Type().Field(i).Name
		cf := got.FieldByName(name)
		if !cf.IsValid() {
			t.Errorf("githuborg.Change has no field %s, which webhook.OrgChange has", name)
			continue
		}
		if cf.String() != ov.Field(i).String() {
			t.Errorf("ChangeOf: Change.%s = %q, want %q", name, cf.String(), ov.Field(i).String())
		}
	}
}

// ExampleChangeOf turns a verified organisation event into the change a
// Reader applies.
func ExampleChangeOf() {
	ev := &webhook.Event{Org: &webhook.OrgChange{Org: "acme", User: "alice", Action: "member_added"}}
	ch := githuborg.ChangeOf(ev.Org)
	fmt.Printf("%+v\n", ch)
	// Output:
	// {Org:acme User:alice Team: Action:member_added From:}
}
