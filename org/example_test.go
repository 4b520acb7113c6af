package org_test

import (
	"fmt"
	"log"
	"os"

	"github.com/scmkit/scmkit/org"
)

// Example builds a small organisation, asks the membership index who may
// act for a team, and writes the entities as a Backstage catalog file.
func Example() {
	snap := &org.Snapshot{
		Groups: []org.Group{
			{Metadata: org.Metadata{Name: "engineering"}, Spec: org.GroupSpec{Type: "department", Children: []string{"platform-team"}}},
			{Metadata: org.Metadata{Name: "platform-team"}, Spec: org.GroupSpec{Type: "team", Parent: "engineering", Members: []string{"alice"}}},
		},
		Users: []org.User{
			{Metadata: org.Metadata{Name: "alice"}, Spec: org.UserSpec{MemberOf: []string{"platform-team"}}},
			{Metadata: org.Metadata{Name: "bob"}},
		},
	}
	if err := snap.Validate(); err != nil {
		log.Fatal(err)
	}
	snap.Sort()
	idx := org.NewIndex(snap)

	team, err := org.ParseRef("platform-team", org.KindGroup, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(team)
	fmt.Println(idx.IsMember(org.UserRef("", "alice"), team), idx.IsMember(org.UserRef("", "bob"), team))
	fmt.Println(idx.GroupsOf(org.MustParseRef("user:default/Alice", "", "")))

	if err := snap.WriteYAML(os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// group:default/platform-team
	// true false
	// [group:default/engineering group:default/platform-team]
	// ---
	// apiVersion: backstage.io/v1alpha1
	// kind: Group
	// metadata:
	//   name: engineering
	// spec:
	//   type: department
	//   children:
	//     - platform-team
	// ---
	// apiVersion: backstage.io/v1alpha1
	// kind: Group
	// metadata:
	//   name: platform-team
	// spec:
	//   type: team
	//   parent: engineering
	//   children: []
	//   members:
	//     - alice
	// ---
	// apiVersion: backstage.io/v1alpha1
	// kind: User
	// metadata:
	//   name: alice
	// spec:
	//   memberOf:
	//     - platform-team
	// ---
	// apiVersion: backstage.io/v1alpha1
	// kind: User
	// metadata:
	//   name: bob
	// spec:
	//   memberOf: []
}

// ExampleNormalizeName shows Backstage's name normalisation, which makes
// refs from Microsoft Graph match those from other sources.
func ExampleNormalizeName() {
	fmt.Println(org.NormalizeName("Jane.Doe@Contoso.com"))
	fmt.Println(org.NormalizeName("Sales (EMEA)"))
	fmt.Println(org.ValidName(org.NormalizeName("  ")))
	// Output:
	// jane.doe_contoso.com
	// sales_emea
	// false
}

// A directory value that is not UTF-8 or holds control characters is made
// safe for Backstage's catalog; readers do this before they return.
func ExampleSnapshot_Clean() {
	snap := &org.Snapshot{Users: []org.User{{
		Metadata: org.Metadata{Name: "jose", Description: "line one\nline two\x00"},
		Spec:     org.UserSpec{Profile: org.Profile{DisplayName: "Jos\xe9 \x1b[2JP\xe9rez"}},
	}}}
	snap.Clean()
	fmt.Printf("%q\n%q\n", snap.Users[0].Spec.Profile.DisplayName, snap.Users[0].Metadata.Description)
	// Output:
	// "Jos� [2JP�rez"
	// "line one\nline two"
}

// Two org providers feed one catalog: the directory, listed first, keeps
// alice; the GitHub org's alice is left out, with a warning.
func ExampleMerge() {
	directory := &org.Snapshot{Users: []org.User{{Metadata: org.Metadata{Name: "alice"}}}}
	githubOrg := &org.Snapshot{Users: []org.User{{Metadata: org.Metadata{Name: "alice"}}, {Metadata: org.Metadata{Name: "bob"}}}}
	merged := org.Merge(directory, githubOrg)
	for _, u := range merged.Users {
		fmt.Println(u.Ref())
	}
	fmt.Println(merged.Warnings)
	// Output:
	// user:default/alice
	// user:default/bob
	// [user:default/alice: in snapshot 0 and snapshot 1 (as user:default/alice); kept from snapshot 0, left out of snapshot 1]
}
