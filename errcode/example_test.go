package errcode_test

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/scmkit/scmkit/errcode"
)

// Classify an error from any scmkit package by its code; read the details
// through errors.As.
func ExampleCodeOf() {
	err := fmt.Errorf("reading catalog-info.yaml: %w",
		&errcode.Error{Code: errcode.NotFound, Op: "ReadFile", Status: http.StatusNotFound, Msg: "no such file"})
	switch errcode.CodeOf(err) {
	case errcode.NotFound:
		fmt.Println("not there")
	case errcode.RateLimited:
		at, _ := errcode.RetryAt(err)
		fmt.Println("retry at", at)
	}
	var e *errcode.Error
	if errors.As(err, &e) {
		fmt.Println(e.Op, e.Status)
	}
	// Output:
	// not there
	// ReadFile 404
}
