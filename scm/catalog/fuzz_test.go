package catalog_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"

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
			// What is accepted writes back as YAML that parses to the
			// same entities.
			var out bytes.Buffer
			enc := yaml.NewEncoder(&out)
			for _, e := range got {
				if err := enc.Encode(e); err != nil {
					t.Fatalf("encode %+v: %v", e, err)
				}
			}
			enc.Close()
			again, err := catalog.Parse(out.Bytes())
			if err != nil {
				t.Fatalf("the accepted entities, written back, do not parse: %v\n%s", err, out.String())
			}
			if diff := cmp.Diff(got, again, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("round trip (-first +second):\n%s", diff)
			}
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
