// Package schedfloor carries, in a context, a lower floor for org.Run's
// schedule than the one it enforces (MinFrequency), so that the module's
// own tests can run a fleet through many periods in a second. It is
// internal: embedders cannot lower the floor, and nothing outside tests
// calls With.
package schedfloor

import (
	"context"
	"time"
)

// MinFrequency is the shortest Schedule.Frequency (and RunOptions
// MinBackoff) org.Run and org.Schedule accept.
const MinFrequency = time.Second

type key struct{}

// With returns ctx carrying floor, which org.Run uses instead of
// MinFrequency. For tests only.
func With(ctx context.Context, floor time.Duration) context.Context {
	return context.WithValue(ctx, key{}, floor)
}

// Of returns the floor ctx carries, or MinFrequency.
func Of(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(key{}).(time.Duration); ok && d > 0 {
		return d
	}
	return MinFrequency
}
