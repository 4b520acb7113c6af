package catalog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/scm/catalog"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		twoEntities,
		"",
		"---\n",
		"apiVersion: v1\nkind: C\nmetadata: {name: x}\n",
		"- a\n- b\n",
		"apiVersion: v1\nkind: [\n",
		"a: &a [*a]\n",
		"apiVersion: v1\nkind: C\nmetadata:\n  name: x\n  labels: {a: 1}\n  links: [{url: u}]\n",
		"%YAML 1.2\n---\n!!map {apiVersion: v1}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := catalog.Parse(data)
		for _, e := range got {
			if strings.TrimSpace(e.APIVersion) == "" || strings.TrimSpace(e.Kind) == "" || strings.TrimSpace(e.Metadata.Name) == "" {
				t.Fatalf("Parse returned an entity without apiVersion, kind or metadata.name: %+v", e)
			}
		}
		if err == nil {
			return
		}
		var pe *catalog.ParseError
		if !errors.As(err, &pe) || len(pe.Problems) == 0 {
			t.Fatalf("Parse error %v carries no problem", err)
		}
		for _, p := range pe.Problems {
			if p.Document < 1 || p.Line < 0 || p.Msg == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}
