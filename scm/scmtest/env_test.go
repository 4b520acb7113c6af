package scmtest

import (
	"encoding/base64"
	"testing"
)

func TestShowsSecret(t *testing.T) {
	const secret = "s3cr3t-t0ken-value"
	basic := base64.StdEncoding.EncodeToString([]byte("bot:" + secret))
	for _, tc := range []struct {
		name, text string
		secrets    []string
		want       bool
	}{
		{"as it is", "401: bad token " + secret + " given", []string{"other", secret}, true},
		{"Basic header", "echoed Authorization: Basic " + basic, []string{secret}, true},
		{"raw URL base64", "q=" + base64.RawURLEncoding.EncodeToString([]byte("x:"+secret+"?")), []string{secret}, true},
		{"absent", "401 Unauthorized: Basic " + base64.StdEncoding.EncodeToString([]byte("bot:other")), []string{secret}, false},
		{"empty secrets ignored", "anything at all", []string{""}, false},
		{"no secrets", secret, nil, false},
	} {
		s, ok := ShowsSecret(tc.text, tc.secrets)
		if ok != tc.want || (ok && s != secret) {
			t.Errorf("%s: ShowsSecret = %q, %v; want %v", tc.name, s, ok, tc.want)
		}
	}
}
