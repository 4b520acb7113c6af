package typednil

import (
	"io"
	"testing"
)

type store struct{}

func (*store) Read([]byte) (int, error) { return 0, io.EOF }

func TestIs(t *testing.T) {
	var p *store
	var r io.Reader = p
	for _, tc := range []struct {
		name string
		v    any
		want bool
	}{
		{"nil", nil, true},
		{"nil pointer in an interface", r, true},
		{"nil map", map[string]int(nil), true},
		{"nil func", (func())(nil), true},
		{"pointer", &store{}, false},
		{"struct", store{}, false},
		{"int", 0, false},
		{"empty slice", []int{}, false},
	} {
		if got := Is(tc.v); got != tc.want {
			t.Errorf("Is(%s) = %v; want %v", tc.name, got, tc.want)
		}
	}
}
