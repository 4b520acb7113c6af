package httpx

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/scmkit/scmkit/errcode"
)

// EscapePath escapes each segment of a slash-separated path (a file path,
// or a ref such as "feature/x"), keeping the slashes.
func EscapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// CallError returns the error of a failed round trip of method on path
// (escaped, without its query string) without the *url.Error wrapper,
// whose URL would repeat the query: an *errcode.Error (from [Transport],
// say) as it is, any other error wrapped as "METHOD path: err".
func CallError(method, path string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ce *errcode.Error
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("%s %s: %w", method, path, err)
}
