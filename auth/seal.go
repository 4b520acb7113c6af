package auth

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/scmkit/scmkit/internal/sealed"
)

// keys are the keys derived from the session secret, one per purpose, so
// that a value sealed for one purpose cannot be opened as another; and
// those derived from the previous secrets (Options.PreviousSecrets), which
// only open and verify, so that the secret can be rotated without ending
// every session and sign-in in progress.
type keys struct {
	records *sealed.Ring // session records at rest
	state   *sealed.Ring // the state parameter and the flow cookie
	cookie  []byte       // HMAC key of the session cookie
	// oldCookies are the cookie HMAC keys of the previous secrets: a
	// session cookie signed under one is accepted and signed again under
	// cookie at the next refresh.
	oldCookies [][]byte
}

// minSecretLen is the shortest auth.session.secret accepted.
const minSecretLen = 16

// maxPreviousSecrets bounds Options.PreviousSecrets.
const maxPreviousSecrets = sealed.MaxPrevious

// derived are the keys of one secret.
type derived struct {
	records, state cipher.AEAD
	cookie         []byte
}

func derive(secret []byte) (*derived, error) {
	aead := func(purpose string) (cipher.AEAD, error) {
		k, err := hkdf.Key(sha256.New, secret, nil, "scmkit auth v1 "+purpose, 32)
		if err != nil {
			return nil, err
		}
		return sealed.NewAESGCM(k)
	}
	var d derived
	var err error
	if d.records, err = aead("session records"); err != nil {
		return nil, err
	}
	if d.state, err = aead("state"); err != nil {
		return nil, err
	}
	if d.cookie, err = hkdf.Key(sha256.New, secret, nil, "scmkit auth v1 session cookie", 32); err != nil {
		return nil, err
	}
	return &d, nil
}

// deriveKeys derives the keys of the current secret and of the previous
// ones. Its errors name the config path of the secret at fault, never a
// secret.
func deriveKeys(secret []byte, previous [][]byte) (*keys, error) {
	if len(secret) < minSecretLen {
		return nil, errors.New("auth.session.secret must be at least 16 characters (use 32 random bytes)")
	}
	if len(previous) > maxPreviousSecrets {
		return nil, fmt.Errorf("auth.session.previousSecrets (Options.PreviousSecrets) lists %d secrets, at most %d are kept: "+
			"drop the oldest (sessions and sign-ins sealed under it end)", len(previous), maxPreviousSecrets)
	}
	cur, err := derive(secret)
	if err != nil {
		return nil, err
	}
	var oldRecords, oldState []cipher.AEAD
	var oldCookies [][]byte
	for i, p := range previous {
		path := fmt.Sprintf("auth.session.previousSecrets[%d] (Options.PreviousSecrets[%d])", i, i)
		switch {
		case len(p) < minSecretLen:
			return nil, errors.New(path + " must be at least 16 characters, as auth.session.secret: list the secrets used before exactly as they were")
		case hmac.Equal(p, secret):
			return nil, errors.New(path + " is auth.session.secret itself: list only the secrets used before the current one")
		case slices.ContainsFunc(previous[:i], func(q []byte) bool { return hmac.Equal(p, q) }):
			return nil, errors.New(path + " is listed twice: list each previous secret once")
		}
		d, err := derive(p)
		if err != nil {
			return nil, err
		}
		oldRecords, oldState, oldCookies = append(oldRecords, d.records), append(oldState, d.state), append(oldCookies, d.cookie)
	}
	return &keys{
		records:    sealed.NewRing(cur.records, oldRecords...),
		state:      sealed.NewRing(cur.state, oldState...),
		cookie:     cur.cookie,
		oldCookies: oldCookies,
	}, nil
}

// seal encrypts and authenticates plain under the current key, bound to
// ad.
func seal(r *sealed.Ring, plain, ad []byte) []byte { return r.Append(nil, plain, ad) }

// open reverses seal, under the current key or a previous one; any change
// to the sealed bytes or ad fails.
func open(r *sealed.Ring, box, ad []byte) ([]byte, error) {
	plain, _, err := r.Open(box, ad)
	return plain, err
}

// mac returns HMAC-SHA256(key, msg).
func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
