package orgx

import (
	"context"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Rounds reads the further pages of the pending items (teams, groups) in
// rounds: each round sends one query per batch of up to perQuery items, at
// most limit queries at a time, and advances every pending item by one page.
// page returns the items of its batch that have more pages; key orders them
// for the next round, so that requests go out in a deterministic order.
// The first error ends the rounds.
func Rounds[T any](ctx context.Context, pending []T, perQuery, limit int, page func(ctx context.Context, batch []T) ([]T, error), key func(T) string) error {
	for len(pending) > 0 {
		var mu sync.Mutex
		var next []T
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(limit)
		for batch := range slices.Chunk(pending, perQuery) {
			g.Go(func() error {
				more, err := page(gctx, batch)
				mu.Lock()
				next = append(next, more...)
				mu.Unlock()
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		slices.SortFunc(next, func(a, b T) int { return strings.Compare(key(a), key(b)) })
		pending = next
	}
	return nil
}
