package gql

import (
	"encoding/base64"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestPage(t *testing.T) {
	items := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	c := func(i int) string { return base64.StdEncoding.EncodeToString([]byte("c:" + strconv.Itoa(i) + ";")) }
	for _, tt := range []struct {
		name       string
		def        int
		items      []int
		args       map[string]any
		want       []int
		next, prev bool
	}{
		{"first", 0, items, map[string]any{"first": int64(3)}, []int{0, 1, 2}, true, false},
		{"first and after", 0, items, map[string]any{"first": int64(3), "after": c(2)}, []int{3, 4, 5}, true, true},
		{"after the end", 0, items, map[string]any{"first": int64(5), "after": c(7)}, []int{8, 9}, false, true},
		{"last", 0, items, map[string]any{"last": int64(2)}, []int{8, 9}, false, true},
		{"last and before", 0, items, map[string]any{"last": int64(2), "before": c(5)}, []int{3, 4}, true, true},
		{"first larger than the rest, then last", 0, items, map[string]any{"first": int64(20), "last": int64(1)}, []int{9}, false, true},
		{"a cursor of another shape is ignored", 0, items, map[string]any{"first": int64(2), "after": base64.StdEncoding.EncodeToString([]byte("c:4"))}, []int{0, 1}, true, false},
		{"a negative cursor starts from the first item", 0, items, map[string]any{"first": int64(2), "after": c(-5)}, []int{0, 1}, true, false},
		{"a cursor that is not base64 is ignored", 0, items, map[string]any{"first": int64(2), "after": "c:4;"}, []int{0, 1}, true, false},
		{"default page size", 4, items, map[string]any{"after": c(0)}, []int{1, 2, 3, 4}, true, true},
		{"no default: the whole list", 0, items, nil, items, false, false},
		{"empty", 4, nil, map[string]any{"first": int64(3)}, []int{}, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn := Page(Paging{Cursor: "c:%d;", Default: tt.def}, tt.items, tt.args, func(i int) any { return i * 10 })
			var nodes []int
			for _, n := range conn["nodes"].([]any) {
				nodes = append(nodes, n.(int)/10)
			}
			if !cmp.Equal(nodes, tt.want, cmpopts.EquateEmpty()) {
				t.Errorf("nodes = %v; want %v", nodes, tt.want)
			}
			info := conn["pageInfo"].(map[string]any)
			var start, end any
			if len(tt.want) > 0 {
				start, end = c(tt.want[0]), c(tt.want[len(tt.want)-1])
			}
			want := map[string]any{"hasNextPage": tt.next, "hasPreviousPage": tt.prev, "startCursor": start, "endCursor": end}
			if diff := cmp.Diff(want, info); diff != "" {
				t.Errorf("pageInfo (-want +got):\n%s", diff)
			}
			if conn["totalCount"] != len(tt.items) || conn["count"] != len(tt.items) {
				t.Errorf("totalCount, count = %v, %v; want %d", conn["totalCount"], conn["count"], len(tt.items))
			}
			edges, _ := conn["edges"].(Resolver)(&Field{})
			for i, e := range edges.([]any) {
				if e := e.(map[string]any); e["node"] != tt.want[i]*10 || e["cursor"] != c(tt.want[i]) {
					t.Errorf("edge %d = %v; want node %d, cursor %s", i, e, tt.want[i]*10, c(tt.want[i]))
				}
			}
			if n := len(edges.([]any)); n != len(tt.want) {
				t.Errorf("%d edges; want %d", n, len(tt.want))
			}
		})
	}
}
