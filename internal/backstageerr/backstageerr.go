// Package backstageerr writes Backstage's error body, the one shape a
// Backstage client reads an error's name and message from.
package backstageerr

import (
	"encoding/json"
	"net/http"
)

// Body is Backstage's error body,
// {"error":{"name","message"},"response":{"statusCode"}}: a Backstage
// client (ResponseError.fromResponse) reads the error's name and message
// only from a body that has both error and response, and reports any
// other as a generic Error quoting the raw text. The optional request
// field is left out (its URL may carry a query string).
type Body struct {
	Error struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
	Response struct {
		StatusCode int `json:"statusCode"`
	} `json:"response"`
}

// New returns the body of an error name with message msg answered with
// status.
func New(status int, name, msg string) Body {
	var b Body
	b.Error.Name, b.Error.Message, b.Response.StatusCode = name, msg, status
	return b
}

// Write answers status with the body of an error name with message msg,
// as application/json.
func Write(w http.ResponseWriter, status int, name, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(New(status, name, msg))
}
