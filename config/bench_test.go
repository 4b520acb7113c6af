package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkLoad loads the whole Backstage config of testdata (two GitHub
// Apps whose RSA keys are parsed, every provider, unsupported sections).
func BenchmarkLoad(b *testing.B) {
	opts := &Options{Lookup: lookupMap(testEnv), ReadFile: readFileWithKey(b)}
	full := filepath.Join(testdata, "app-config.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(b.Context(), opts, full); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyntaxErrorLine measures the search for the line of a syntax
// error near the end of a 1,000-line document.
func BenchmarkSyntaxErrorLine(b *testing.B) {
	var doc strings.Builder
	doc.WriteString("integrations:\n  github:\n")
	for i := 0; i < 330; i++ {
		doc.WriteString("    - host: h.example.com\n      token: x\n      apiBaseUrl: https://h.example.com/api/v3\n")
	}
	doc.WriteString("     bad: indentation\n")
	data := []byte(doc.String())
	b.ReportAllocs()
	for b.Loop() {
		_, err := LoadBytes(b.Context(), nil, data)
		if fe := problemsOf(err); len(fe) != 1 || !strings.HasPrefix(fe[0], "document 1:993: ") {
			b.Fatalf("problems = %q", fe)
		}
	}
}

func problemsOf(err error) []string {
	var out []string
	for _, e := range flatten(err) {
		out = append(out, e.Error())
	}
	return out
}
