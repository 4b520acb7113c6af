package p

// Pair is a pair. See [Pair.Swap], [Box.Get] and [Holder.Get].
type Pair[K comparable, V any] struct {
	k K
	v V
}

// Swap swaps.
func (p *Pair[K, V]) Swap() { p.k, p.v = *new(K), *new(V) }

// Box is a box.
type Box[T any] struct{ t T }

// Get gets.
func (b Box[T]) Get() T { return b.t }

// Holder embeds a generic type of this package.
type Holder struct{ Box[int] }
