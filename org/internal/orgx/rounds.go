package orgx

import (
	"context"
	"iter"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Each calls fn for every item, at most limit calls at a time, and returns
// the first error; the context the other calls were given then ends.
func Each[T any](ctx context.Context, limit int, items iter.Seq[T], fn func(context.Context, T) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for it := range items {
		g.Go(func() error { return fn(gctx, it) })
	}
	return g.Wait()
}

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
		err := Each(ctx, limit, slices.Chunk(pending, perQuery), func(ctx context.Context, batch []T) error {
			more, err := page(ctx, batch)
			mu.Lock()
			next = append(next, more...)
			mu.Unlock()
			return err
		})
		if err != nil {
			return err
		}
		slices.SortFunc(next, func(a, b T) int { return strings.Compare(key(a), key(b)) })
		pending = next
	}
	return nil
}
