package gql

import (
	"encoding/base64"
	"fmt"
)

// Paging is a provider's cursor pagination of connections, for [Page].
type Paging struct {
	// Cursor is the format of the text of the cursor of the item at
	// index i of the whole list, "%d" standing for i; the cursor is its
	// base64.
	Cursor string
	// Default is the page size when neither first nor last is given; 0
	// is the whole list.
	Default int
}

// Page is the connection of the page of items that args select (first
// and after, or last and before), node making each node: its nodes,
// edges (node and cursor), pageInfo, and the number of items as GitHub
// (totalCount) and GitLab (count) name it. A cursor p did not make (such
// as a real service's) is ignored: the page starts from the first item.
func Page[T any](p Paging, items []T, args map[string]any, node func(T) any) map[string]any {
	cursor := func(i int) string { return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, p.Cursor, i)) }
	lo, hi := 0, len(items)
	for _, name := range []string{"after", "before"} {
		c, _ := String(args, name)
		b, _ := base64.StdEncoding.DecodeString(c)
		var i int
		switch _, err := fmt.Sscanf(string(b), p.Cursor, &i); {
		case err != nil: // not one of p's cursors: ignored
		case name == "after":
			lo = min(max(i+1, 0), len(items))
		default:
			hi = max(lo, min(i, len(items)))
		}
	}
	first, hasFirst := Int(args, "first")
	last, hasLast := Int(args, "last")
	switch {
	case hasFirst && hi-lo > first:
		hi = lo + max(first, 0)
	case hasLast && hi-lo > last:
		lo = hi - max(last, 0)
	case !hasFirst && !hasLast && p.Default > 0 && hi-lo > p.Default:
		hi = lo + p.Default
	}
	nodes := make([]any, hi-lo)
	for i := range nodes {
		nodes[i] = node(items[lo+i])
	}
	info := map[string]any{"hasNextPage": hi < len(items), "hasPreviousPage": lo > 0, "startCursor": nil, "endCursor": nil}
	if hi > lo {
		info["startCursor"], info["endCursor"] = cursor(lo), cursor(hi-1)
	}
	edges := Resolver(func(*Field) (any, error) {
		edges := make([]any, len(nodes))
		for i, n := range nodes {
			edges[i] = map[string]any{"node": n, "cursor": cursor(lo + i)}
		}
		return edges, nil
	})
	return map[string]any{"nodes": nodes, "edges": edges, "pageInfo": info, "totalCount": len(items), "count": len(items)}
}
