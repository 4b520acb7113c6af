package identity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/backstageerr"
	"github.com/scmkit/scmkit/internal/httpx"
)

// UserInfo is what an [Issuer] records of a user at each token it issues
// and serves at Backstage's user info endpoint ([Issuer.UserInfoHandler]):
// her entity ref, her ownership refs (the ent claim, which a token issued
// with IssuerOptions.OmitOwnershipClaim does not carry), the expiry of the
// last token issued to her, and the resolver's extra claims.
//
// Its JSON is Backstage's user info: {"claims": {"sub", "ent", "exp", and
// the extra claims}}.
type UserInfo struct {
	User
	// ExpiresAt is the exp of the last token issued to the user; a store
	// forgets the record after it.
	ExpiresAt time.Time
	// Extra are the token's extra claims (from the sign-in resolver).
	Extra map[string]any
}

// MarshalJSON writes Backstage's user info: {"claims": {"sub", "ent",
// "exp", extras}}.
func (u UserInfo) MarshalJSON() ([]byte, error) {
	claims := make(map[string]any, len(u.Extra)+3)
	maps.Copy(claims, u.Extra)
	claims["sub"], claims["ent"], claims["exp"] = u.EntityRef, u.OwnershipEntityRefs, u.ExpiresAt.Unix()
	if u.OwnershipEntityRefs == nil {
		claims["ent"] = []string{}
	}
	return json.Marshal(struct {
		Claims map[string]any `json:"claims"`
	}{claims})
}

// UnmarshalJSON reads Backstage's user info. sub must be an entity ref,
// ent a list of entity refs, exp a number of seconds; anything else is an
// error.
func (u *UserInfo) UnmarshalJSON(b []byte) error {
	var v struct {
		Claims map[string]json.RawMessage `json:"claims"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	var out UserInfo
	if err := json.Unmarshal(v.Claims["sub"], &out.EntityRef); err != nil || !isEntityRef(out.EntityRef) {
		return errcode.New(errcode.InvalidArgument, "identity.UserInfo", "user info without an entity ref as sub")
	}
	if raw, ok := v.Claims["ent"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &out.OwnershipEntityRefs); err != nil || slices.ContainsFunc(out.OwnershipEntityRefs, func(r string) bool { return !isEntityRef(r) }) {
			return errcode.New(errcode.InvalidArgument, "identity.UserInfo", "user info whose ent is not a list of entity refs")
		}
	}
	var exp float64
	if err := json.Unmarshal(v.Claims["exp"], &exp); err != nil || exp <= 0 || exp > 1<<40 {
		return errcode.New(errcode.InvalidArgument, "identity.UserInfo", "user info without a valid exp")
	}
	out.ExpiresAt = time.Unix(int64(exp), 0)
	for name, raw := range v.Claims {
		if name == "sub" || name == "ent" || name == "exp" {
			continue
		}
		var x any
		if err := json.Unmarshal(raw, &x); err != nil {
			return err
		}
		if out.Extra == nil {
			out.Extra = make(map[string]any)
		}
		out.Extra[name] = x
	}
	*u = out
	return nil
}

// UserInfoStore is where an [Issuer] records user info at each token it
// issues, for its [Issuer.UserInfoHandler]. The replicas of a fleet share
// one (redisstore's Store.UserInfo), as they share their keys: a token
// issued by one replica has its user info asked of any. Implementations
// must be safe for concurrent use.
type UserInfoStore interface {
	// PutUserInfo records info, replacing the user's previous record,
	// until info.ExpiresAt.
	PutUserInfo(ctx context.Context, info UserInfo) error
	// UserInfo returns the record of the user entityRef; NotFound when
	// there is none, or it has expired.
	UserInfo(ctx context.Context, entityRef string) (*UserInfo, error)
}

// MemoryUserInfoStore is a [UserInfoStore] in memory, for a single
// replica (an Issuer with OmitOwnershipClaim and no UserInfo store makes
// one of its own). Expired records are dropped as new ones are put. The
// zero value is ready to use; it is safe for concurrent use.
type MemoryUserInfoStore struct {
	mu    sync.Mutex
	m     map[string]UserInfo
	puts  int
	clock func() time.Time // nil: time.Now
}

func (s *MemoryUserInfoStore) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

// PutUserInfo implements [UserInfoStore].
func (s *MemoryUserInfoStore) PutUserInfo(ctx context.Context, info UserInfo) error {
	const op = "identity.MemoryUserInfoStore.PutUserInfo"
	if err := errcode.FromContext(ctx, op); err != nil {
		return err
	}
	if !isEntityRef(info.EntityRef) {
		return errcode.Newf(errcode.InvalidArgument, op, "%q is not an entity ref", info.EntityRef)
	}
	info.OwnershipEntityRefs = slices.Clone(info.OwnershipEntityRefs)
	info.Extra = maps.Clone(info.Extra)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]UserInfo)
	}
	if s.puts++; s.puts%1024 == 0 {
		maps.DeleteFunc(s.m, func(_ string, u UserInfo) bool { return !now.Before(u.ExpiresAt) })
	}
	s.m[info.EntityRef] = info
	return nil
}

// UserInfo implements [UserInfoStore].
func (s *MemoryUserInfoStore) UserInfo(ctx context.Context, entityRef string) (*UserInfo, error) {
	const op = "identity.MemoryUserInfoStore.UserInfo"
	if err := errcode.FromContext(ctx, op); err != nil {
		return nil, err
	}
	now := s.now()
	s.mu.Lock()
	u, ok := s.m[entityRef]
	s.mu.Unlock()
	if !ok || !now.Before(u.ExpiresAt) {
		return nil, errcode.New(errcode.NotFound, op, "no user info for "+entityRef)
	}
	u.OwnershipEntityRefs = slices.Clone(u.OwnershipEntityRefs)
	u.Extra = maps.Clone(u.Extra)
	return &u, nil
}

// bearer matches an Authorization header as Backstage's user info
// endpoint reads it.
var bearer = regexp.MustCompile(`(?i)^Bearer[ ]+(\S+)$`)

// UserInfoHandler serves Backstage's user info endpoint (GET
// /api/auth/v1/userinfo: mount it at "/v1/userinfo" below the auth
// backend's base URL): a request whose Authorization header carries a
// user token this Issuer's fleet issued (a full or a limited one, as
// Backstage's allowLimitedAccess) gets the user's [UserInfo] as JSON, the
// ownership refs a token issued with OmitOwnershipClaim leaves out: from
// the UserInfo store for a token without ent (a limited one, or one from
// an Issuer with OmitOwnershipClaim), from the token itself for one that
// carries ent.
//
// It verifies the token with the fleet's published keys (the Issuer's
// JWKS, read in process), refusing at once a key this Issuer knows to be
// revoked ([Issuer.Revoke]), and answers as Backstage's: 401 with an
// AuthenticationError body without a token or with one that does not
// verify, 404 "User info not found" when the store has no record of the
// user (an Issuer without a UserInfo store records none), 503 when the
// store fails. A token is verified cryptographically once (the verifier
// caches it); each answer for a token without ent reads the store once.
func (is *Issuer) UserInfoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			userInfoError(w, http.StatusMethodNotAllowed, "MethodNotAllowedError", "Method not allowed")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		m := bearer.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil {
			userInfoError(w, http.StatusUnauthorized, "AuthenticationError", "No token provided")
			return
		}
		v, err := is.selfVerifier()
		if err != nil {
			userInfoError(w, http.StatusServiceUnavailable, "ServiceUnavailableError", "The user info is not available")
			return
		}
		c, err := v.Verify(r.Context(), m[1])
		if err != nil {
			if errcode.CodeOf(err) == errcode.Unavailable {
				userInfoError(w, http.StatusServiceUnavailable, "ServiceUnavailableError", "The keys to verify the token are not available")
				return
			}
			userInfoError(w, http.StatusUnauthorized, "AuthenticationError", "Invalid token")
			return
		}
		if is.isRevoked(c.kid, is.now()) {
			// Revoked here, or read as revoked from the store: refused at
			// once, while the verifier's JWKS may list the key for a while.
			userInfoError(w, http.StatusUnauthorized, "AuthenticationError", "Invalid token")
			return
		}
		if c.Ent != nil {
			// A token that carries ent says it itself: its user info is
			// that, not a record a failed write may have left older.
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(UserInfo{User: *c.User(), ExpiresAt: c.ExpiresAt, Extra: c.Extra})
			return
		}
		if is.userInfo == nil {
			userInfoError(w, http.StatusNotFound, "NotFoundError", "User info not found")
			return
		}
		info, err := is.userInfo.UserInfo(r.Context(), c.Subject)
		switch {
		case errcode.CodeOf(err) == errcode.NotFound:
			userInfoError(w, http.StatusNotFound, "NotFoundError", "User info not found")
			return
		case err != nil:
			if ok, leftOut := is.infoLog.Allow(is.now()); ok && is.log != nil {
				is.log.Warn("identity: the user info store failed; the user info endpoint answers 503", slog.String("error", err.Error()), slog.Int("left_out", leftOut))
			}
			userInfoError(w, http.StatusServiceUnavailable, "ServiceUnavailableError", "The user info is not available")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(info)
	})
}

// userInfoError writes Backstage's error body.
func userInfoError(w http.ResponseWriter, status int, name, msg string) {
	backstageerr.Write(w, status, name, msg)
}

// selfVerifier returns the Verifier of this Issuer's fleet's tokens that
// UserInfoHandler uses: it reads the keys from the Issuer's JWKSHandler in
// process, not over the network.
func (is *Issuer) selfVerifier() (*Verifier, error) {
	is.selfOnce.Do(func() {
		is.self, is.selfErr = NewVerifier(&VerifierOptions{
			JWKSURL:       "http://issuer.invalid/.well-known/jwks.json",
			HTTPClient:    &http.Client{Transport: inProcess{is.JWKSHandler()}},
			Algorithms:    is.algorithms(),
			Issuer:        is.iss,
			AcceptLimited: true,
			Now:           is.now,
		})
	})
	return is.self, is.selfErr
}

// algorithms are the algorithms of the keys an Issuer's JWKS may list:
// every one it signs with, since it serves the keys of replicas of another
// algorithm (a fleet changing auth.identityTokenAlgorithm) and static keys
// of several. Each key verifies only its own curve's (fitsKey, and the
// JWK's alg).
func (is *Issuer) algorithms() []string { return []string{"ES256", "ES384", "ES512"} }

// inProcess is an http.RoundTripper that serves every request with h.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := newRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.response(r), nil
}

// recorder is the http.ResponseWriter of an in-process round trip.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: make(http.Header)} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (r *recorder) response(req *http.Request) *http.Response {
	r.WriteHeader(http.StatusOK)
	return &http.Response{StatusCode: r.status, Status: http.StatusText(r.status), Header: r.header,
		Body: io.NopCloser(&r.body), ContentLength: int64(r.body.Len()), Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}

// maxUserInfo caps a user info answer (a user in thousands of groups).
const maxUserInfo = 4 << 20

// maxOwned bounds Verifier.owned, the user info answers not yet in the
// verified-token cache (an answer stays there only until the verification
// that asked for it remembers its claims).
const maxOwned = 256

// settled drops token's user info answer once its claims are remembered
// (or not to be: no cache).
func (v *Verifier) settled(token string) {
	sum := sha256.Sum256([]byte(token))
	v.cmu.Lock()
	delete(v.owned, sum)
	v.cmu.Unlock()
}

// ownership returns the ownership refs of the user sub from the user info
// endpoint, asked with token: concurrent verifications of one token share
// one request.
func (v *Verifier) ownership(ctx context.Context, token, sub string) ([]string, error) {
	const op = "identity.Verify"
	sum := sha256.Sum256([]byte(token))
	ch := v.group.DoChan("userinfo:"+string(sum[:]), func() (any, error) {
		// A verification that missed the cache just before another's
		// answer was remembered finds it here (in owned until the other
		// remembers its claims, then in verified), not asking again.
		v.cmu.Lock()
		refs, ok := v.owned[sum]
		if c, verified := v.verified[sum]; verified && !ok {
			refs, ok = c.Ent, true
		}
		v.cmu.Unlock()
		if ok {
			return refs, nil
		}
		// The request outlives a caller that gives up: the others may
		// still wait for it. It is bounded by fetchTimeout.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.opts.UserInfoURL, nil)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "bad user info URL"}
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		// The user's token goes to UserInfoURL only: no redirect is
		// followed, whatever HTTPClient's policy (a redirect to plain
		// http on the same host would keep the Authorization header).
		hc := *v.hc
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := hc.Do(req)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "asking the user info endpoint", Err: errors.Unwrap(err)}
		}
		body, err := httpx.ReadBody(resp, maxUserInfo)
		if err != nil {
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "reading the user info", Err: err}
		}
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusUnauthorized, http.StatusNotFound:
			return nil, &errcode.Error{Code: errcode.Unauthorized, Op: op, Status: resp.StatusCode, Msg: "the user info endpoint has no user info for the token"}
		default:
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Status: resp.StatusCode, Msg: "asking the user info endpoint"}
		}
		var info UserInfo
		if err := json.Unmarshal(body, &info); err != nil {
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "the user info is not Backstage's {claims: {sub, ent, exp}}"}
		}
		if info.EntityRef != sub {
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Msg: "the user info endpoint answered for another user than the token's"}
		}
		v.cmu.Lock()
		if v.owned == nil || len(v.owned) >= maxOwned {
			v.owned = map[[32]byte][]string{}
		}
		v.owned[sum] = info.OwnershipEntityRefs
		v.cmu.Unlock()
		return info.OwnershipEntityRefs, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return slices.Clone(r.Val.([]string)), nil
	case <-ctx.Done():
		return nil, errcode.FromContext(ctx, op)
	}
}
