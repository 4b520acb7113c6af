package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
)

// FuzzSignature: the signature header is the one thing that lets a body
// in. For every provider, verify accepts a header exactly when it is the
// HMAC-SHA256 of the body under the hook's secret (GitHub, Bitbucket) or
// the secret itself (GitLab); a refusal is Unauthorized, names no secret,
// and Parse refuses the event before reading it.
func FuzzSignature(f *testing.F) {
	f.Add(uint8(0), []byte(`{"zen":"x"}`), "", true)
	f.Add(uint8(0), []byte(`{}`), "sha256=00", false)
	f.Add(uint8(1), []byte(`{}`), secret, false)
	f.Add(uint8(1), []byte(`{}`), secret+" ", false)
	f.Add(uint8(2), []byte("x"), "sha1=abc", false)
	f.Add(uint8(2), []byte("x"), strings.ToUpper(sign([]byte("x"), secret)), false)
	hosts := []string{"github.com", "gitlab.example.com", "bitbucket.example.com"}
	headers := []string{"X-Hub-Signature-256", "X-Gitlab-Token", "X-Hub-Signature"}
	receivers := make([]*Receiver, len(hosts))
	for i, h := range hosts {
		receivers[i] = newReceiver(f, h, nil)
	}
	m := hmac.New(sha256.New, []byte(secret))
	f.Fuzz(func(t *testing.T, which uint8, body []byte, sig string, right bool) {
		i := int(which) % len(hosts)
		r := receivers[i]
		if right {
			if i == 1 {
				sig = secret
			} else {
				sig = sign(body, secret)
			}
		}
		h := http.Header{}
		h.Set(headers[i], sig)

		var want bool
		if i == 1 {
			want = sig == secret
		} else {
			m.Reset()
			m.Write(body)
			hexSig, ok := strings.CutPrefix(sig, "sha256=")
			got, err := hex.DecodeString(hexSig)
			want = ok && err == nil && hmac.Equal(got, m.Sum(nil))
		}
		_, err := r.verify(h, body)
		if (err == nil) != want {
			t.Fatalf("%s: verify(%s: %q) = %v; want accepted %v", hosts[i], headers[i], sig, err, want)
		}
		if err == nil {
			return
		}
		if errcode.CodeOf(err) != errcode.Unauthorized {
			t.Fatalf("refusal %v is not Unauthorized", err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("refusal %q shows the secret", err)
		}
		if int64(len(body)) > r.max {
			return
		}
		h.Set("X-Github-Event", "push")
		h.Set("X-Github-Delivery", "d")
		h.Set("X-Gitlab-Event", "Push Hook")
		h.Set("X-Event-Key", "repo:refs_changed")
		if ev, err := r.Parse(t.Context(), h, body); errcode.CodeOf(err) != errcode.Unauthorized || ev != nil {
			t.Fatalf("Parse with a wrong signature = %+v, %v; want Unauthorized", ev, err)
		}
	})
}
