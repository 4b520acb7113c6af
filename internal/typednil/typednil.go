// Package typednil tells a nil interface from one holding a nil pointer,
// for scmkit's options: a field documented "nil means none" must mean
// none also when it holds a nil *T (redisstore.FromConfig's answer
// without Redis, passed on as it is), not a value whose methods
// dereference nil.
package typednil

import "reflect"

// Is reports whether v is nil or holds a nil pointer, map, slice,
// channel or function.
func Is(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
