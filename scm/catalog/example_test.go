package catalog_test

import (
	"errors"
	"fmt"

	"github.com/scmkit/scmkit/scm/catalog"
)

func ExampleParse() {
	entities, err := catalog.Parse([]byte(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: petstore
spec:
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  title: no name
`))
	for _, e := range entities {
		fmt.Println(e.Kind, e.Metadata.Name, e.Spec["owner"])
	}
	var pe *catalog.ParseError
	if errors.As(err, &pe) {
		for _, p := range pe.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// Component petstore team-a
	// document 2 (line 10): metadata.name: required, must be a non-empty string
}
