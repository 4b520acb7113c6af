package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/internal/backstageerr"
)

// Response is the body Backstage's auth routes answer with (the popup's
// message and /refresh), so that a Backstage frontend can talk to a
// Handler.
type Response struct {
	Profile      Profile      `json:"profile"`
	ProviderInfo ProviderBody `json:"providerInfo"`
	// BackstageIdentity is filled by [Options.BackstageIdentity] when set.
	BackstageIdentity *BackstageIdentity `json:"backstageIdentity,omitempty"`
}

// Profile is the profile part of a [Response].
type Profile struct {
	Email       string `json:"email,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Picture     string `json:"picture,omitempty"`
}

// ProviderBody is the providerInfo part of a [Response]. The tokens are
// included only with [Options.ExposeProviderTokens].
type ProviderBody struct {
	AccessToken      string `json:"accessToken,omitempty"`
	IDToken          string `json:"idToken,omitempty"`
	Scope            string `json:"scope"`
	ExpiresInSeconds int64  `json:"expiresInSeconds,omitempty"`
}

// BackstageIdentity is Backstage's identity part of a [Response]: a
// Backstage token for the user and her ownership references.
type BackstageIdentity struct {
	Token            string           `json:"token"`
	ExpiresInSeconds int64            `json:"expiresInSeconds,omitempty"`
	Identity         BackstageUserRef `json:"identity"`
}

// BackstageUserRef is the identity inside a [BackstageIdentity].
type BackstageUserRef struct {
	Type                string   `json:"type"`
	UserEntityRef       string   `json:"userEntityRef"`
	OwnershipEntityRefs []string `json:"ownershipEntityRefs"`
}

// httpError is an answer to a refused request.
type httpError struct {
	status int
	name   string
	msg    string
	// retryAt, when set, is sent as Retry-After: the handler will not ask
	// the provider again before then.
	retryAt time.Time
}

// statePayload is sealed into the state parameter.
type statePayload struct {
	Provider string `json:"p"`
	Env      string `json:"e"`
	Origin   string `json:"o,omitempty"`
	Redirect string `json:"r,omitempty"`
	Flow     string `json:"f,omitempty"`
	Bind     []byte `json:"b"` // SHA-256 of the flow cookie's nonce
	Exp      int64  `json:"x"`
}

// flowSecrets are sealed into the flow cookie: what only this browser
// holds.
type flowSecrets struct {
	Nonce    []byte `json:"n"`
	Verifier string `json:"v"`
	OIDC     string `json:"o"`
	Exp      int64  `json:"x"`
}

var b64 = base64.RawURLEncoding

func (h *Handler) sealJSON(v any, ad string) string {
	b, _ := json.Marshal(v)
	return b64.EncodeToString(seal(h.keys.state, b, []byte(ad)))
}

func (h *Handler) openJSON(s, ad string, v any) bool {
	raw, err := b64.DecodeString(s)
	if err != nil || len(raw) > 8192 {
		return false
	}
	plain, err := open(h.keys.state, raw, []byte(ad))
	return err == nil && json.Unmarshal(plain, v) == nil
}

func (h *Handler) env(r *http.Request) (string, *httpError) {
	env := r.URL.Query().Get("env")
	if env == "" {
		env = h.o.Environment
	}
	if env == "" {
		return "", &httpError{status: http.StatusBadRequest, name: "InputError", msg: "Must specify 'env' query to indicate environment"}
	}
	return env, nil
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request, id string) {
	env, herr := h.env(r)
	if herr == nil {
		var p Provider
		p, herr = h.provider(id, env)
		if herr == nil {
			rp, ok := p.(RedirectProvider)
			if !ok {
				herr = &httpError{status: http.StatusBadRequest, name: "InputError", msg: "Provider '" + id + "' signs in with a username and password (POST " + h.basePath + "/" + id + "/login), not a redirect"}
			} else {
				herr = h.startRedirect(w, r, id, env, rp)
			}
		}
	}
	if herr != nil {
		h.fail(w, r, true, herr)
	}
}

// Bounds of what /start seals into the state, so that a sign-in too large
// for the state's cap (openJSON's 8 KiB) is refused at /start, not at the
// callback after the user went through the provider.
const (
	maxRedirectURLLen = 2048
	maxScopeLen       = 1024
	maxStateLen       = 8192
)

func (h *Handler) startRedirect(w http.ResponseWriter, r *http.Request, id, env string, rp RedirectProvider) *httpError {
	q := r.URL.Query()
	if len(q.Get("redirectUrl")) > maxRedirectURLLen || len(q.Get("scope")) > maxScopeLen {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "redirectUrl (at most 2048 bytes) or scope (at most 1024 bytes) is too long"}
	}
	flow := q.Get("flow")
	if flow != "" && flow != "popup" && flow != "redirect" {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "flow must be 'popup' or 'redirect'"}
	}
	org := q.Get("origin")
	if org != "" {
		u, err := url.Parse(org)
		if err != nil || u.Host == "" || origin(u) != strings.ToLower(strings.TrimSuffix(org, "/")) || !h.originAllowed(org) {
			return &httpError{status: http.StatusBadRequest, name: "NotAllowedError", msg: "Origin '" + clip(org) + "' is not allowed"}
		}
	}
	redirect := q.Get("redirectUrl")
	if redirect != "" || flow == "redirect" {
		t, ok := h.redirectTarget(redirect)
		if !ok {
			return &httpError{status: http.StatusBadRequest, name: "NotAllowedError", msg: "Redirect target '" + clip(redirect) + "' is not on an allowed origin"}
		}
		redirect = t
	}
	var scopes []string
	if s := q.Get("scope"); s != "" {
		scopes = strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '|' })
	}
	now := h.now()
	exp := now.Add(flowLifetime).Unix()
	sec := flowSecrets{Nonce: randomBytes(32), Verifier: b64.EncodeToString(randomBytes(32)), OIDC: b64.EncodeToString(randomBytes(24)), Exp: exp}
	bind := sha256.Sum256(sec.Nonce)
	state := h.sealJSON(statePayload{Provider: id, Env: env, Origin: org, Redirect: redirect, Flow: flow, Bind: bind[:], Exp: exp}, "state:"+id)
	if b64.DecodedLen(len(state)) > maxStateLen {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "The sign-in request is too large (origin and redirectUrl)"}
	}
	challenge := sha256.Sum256([]byte(sec.Verifier))
	// An OIDC provider fetches its discovery document here: bounded like
	// every other call to a provider.
	actx, cancel := context.WithTimeout(r.Context(), h.o.ProviderTimeout)
	defer cancel()
	authURL, err := rp.AuthCodeURL(actx, AuthRequest{State: state, RedirectURI: h.callbackFor(id, env), CodeChallenge: b64.EncodeToString(challenge[:]), Nonce: sec.OIDC, Scopes: scopes})
	if err != nil {
		return providerError(err, "Starting the sign-in with '"+id+"' failed")
	}
	h.setCookie(w, "flow-"+id, h.sealJSON(sec, "flow:"+id), flowLifetime)
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

func (h *Handler) callback(w http.ResponseWriter, r *http.Request, id string) {
	var popupTo string
	herr := h.completeCallback(w, r, id, &popupTo)
	switch {
	case herr == nil:
	case popupTo != "":
		// A popup whose state is verified: its opener (the app, at the
		// origin sealed in the state) is told, as Backstage does, instead
		// of waiting for a message that never comes.
		h.popup(w, herr.status, "Sign-in failed: "+herr.msg, popupTo,
			map[string]any{"type": "authorization_response", "error": map[string]string{"name": herr.name, "message": herr.msg}})
	default:
		h.fail(w, r, true, herr)
	}
}

// completeCallback finishes a sign-in; once the callback's state is
// verified and names the popup flow, it sets *popupTo to the origin the
// popup's answer goes to.
func (h *Handler) completeCallback(w http.ResponseWriter, r *http.Request, id string, popupTo *string) *httpError {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "The callback's parameters cannot be read"}
	}
	stateParam := r.Form.Get("state")
	if stateParam == "" {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "The callback has no state: start the sign-in again"}
	}
	var sp statePayload
	if !h.openJSON(stateParam, "state:"+id, &sp) || sp.Provider != id {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "The callback's state is invalid (altered, or not issued by this server for this provider): start the sign-in again"}
	}
	now := h.now()
	if now.Unix() > sp.Exp {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "The sign-in took too long: start it again"}
	}
	c, err := r.Cookie(h.cookieName("flow-" + id))
	if err != nil {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "The sign-in cookie is missing: the sign-in was started in another browser, has expired, was already completed, or cookies are blocked"}
	}
	var sec flowSecrets
	bind := sha256.Sum256(sec.Nonce)
	if h.openJSON(c.Value, "flow:"+id, &sec) {
		bind = sha256.Sum256(sec.Nonce)
	}
	if len(sec.Nonce) == 0 || subtle.ConstantTimeCompare(bind[:], sp.Bind) != 1 {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "The callback's state belongs to another sign-in (another browser or tab): start the sign-in again"}
	}
	// One use: from here on the flow is spent, whatever happens.
	h.setCookie(w, "flow-"+id, "", -1)
	if sp.Flow != "redirect" {
		*popupTo = sp.Origin
		if *popupTo == "" {
			*popupTo = origin(h.appURL)
		}
	}
	p, herr := h.provider(id, sp.Env)
	if herr != nil {
		return herr
	}
	rp, ok := p.(RedirectProvider)
	if !ok {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "Provider '" + id + "' does not sign in by redirect"}
	}
	if e := r.Form.Get("error"); e != "" {
		// RFC 9207 §2.4: an error answer's iss is checked too.
		if ic, ok := rp.(issuerChecker); ok {
			ctx, cancel := context.WithTimeout(r.Context(), h.o.ProviderTimeout)
			err := ic.checkIssuer(ctx, r.Form.Get("iss"))
			cancel()
			if err != nil {
				return providerError(err, "Signing in with '"+id+"' failed")
			}
		}
		msg := "The provider did not sign you in: " + clip(e)
		if d := r.Form.Get("error_description"); d != "" {
			msg += " (" + clip(d) + ")"
		}
		status := http.StatusBadRequest
		if e == "access_denied" {
			status = http.StatusForbidden
		}
		h.log(r.Context(), "auth: sign-in refused by the provider", slog.String("provider", id), slog.String("error", clip(e)))
		return &httpError{status: status, name: "AuthenticationError", msg: msg}
	}
	code := r.Form.Get("code")
	if code == "" {
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: "The callback has no authorization code"}
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.o.ProviderTimeout)
	defer cancel()
	res, err := rp.Exchange(ctx, Callback{Code: code, Issuer: r.Form.Get("iss"), RedirectURI: h.callbackFor(id, sp.Env), CodeVerifier: sec.Verifier, Nonce: sec.OIDC})
	if err != nil {
		h.log(r.Context(), "auth: sign-in failed", slog.String("provider", id), slog.String("error", err.Error()))
		return providerError(err, "Signing in with '"+id+"' failed")
	}
	s, herr := h.establish(w, r, id, sp.Env, rp, res)
	if herr != nil {
		return herr
	}
	body, herr := h.firstResponse(w, r, s)
	if herr != nil {
		return herr
	}
	if sp.Flow == "redirect" {
		target, ok := h.redirectTarget(sp.Redirect)
		if !ok {
			return &httpError{status: http.StatusBadRequest, name: "NotAllowedError", msg: "Redirect target is not on an allowed origin"}
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}
	h.popup(w, http.StatusOK, "Signing in…", *popupTo, map[string]any{"type": "authorization_response", "response": body})
	return nil
}

// establish stores a new session for res and sets the session cookie,
// ending the browser's previous session if any, as logout does: the
// previous session is deleted (a refresh of it in flight on another
// replica would otherwise write it back, and its cookie live on), and
// its provider tokens are revoked when that cannot touch the new
// session's (replacedRevocable), after the new session is stored.
func (h *Handler) establish(w http.ResponseWriter, r *http.Request, id, env string, p Provider, res *SignIn) (*Session, *httpError) {
	if res == nil || res.Identity.Subject == "" {
		return nil, &httpError{status: http.StatusBadGateway, name: "AuthenticationError", msg: "The provider did not say who signed in"}
	}
	now := h.now()
	life := h.durationFor(id, env)
	s := &Session{Identity: res.Identity, Env: env, Host: p.Info().Host, Tokens: res.Tokens, Created: now, Expires: now.Add(life), issued: now}
	s.Identity.Provider = id
	var old *Session
	if oldKey, ok := h.sessionKey(r); ok {
		// Not the request's context, as at logout: a browser that stops
		// waiting must not keep the previous session alive.
		var err error
		if old, err = h.endForLogout(context.WithoutCancel(r.Context()), oldKey); err != nil {
			h.log(r.Context(), "auth: ending the browser's previous session failed", slog.String("error", err.Error()))
		}
	}
	if old != nil && replacedRevocable(old, s, p) {
		// Deleted: its tokens are revoked also when the new session
		// then cannot be stored (nothing holds them any more).
		defer h.revoke(context.WithoutCancel(r.Context()), old)
	}
	cookie, key := h.newSessionCookie()
	data, ttl, err := h.sealSession(s, key)
	if err == nil {
		s.Version, err = h.store.Put(r.Context(), key, data, ttl)
	}
	if err != nil {
		h.log(r.Context(), "auth: storing a session failed", slog.String("error", err.Error()))
		return nil, &httpError{status: http.StatusServiceUnavailable, name: "Error", msg: "The session could not be stored; try again"}
	}
	s.h, s.key = h, key
	h.setCookie(w, "session", cookie, life)
	h.log(r.Context(), "auth: signed in", slog.String("user", s.Identity.String()), slog.String("env", env))
	return s, nil
}

// tokenRevoker is implemented by providers whose revocation ends only
// the token it is given, never the grant or the provider's session it
// belongs to: GitHub (DELETE /applications/{client_id}/token deletes one
// token) and GitLab (POST /oauth/revoke revokes one token).
type tokenRevoker interface{ revokesOnlyTheToken() }

// replacedRevocable reports whether the tokens of old, a session ended
// because its browser signed in again as next with provider p, are to be
// revoked: always when next is another provider's or another user's
// session (the tokens belong to another grant); for the same user of the
// same provider only when p revokes single tokens. Many OpenID providers
// revoke the whole grant or session a token belongs to (RFC 7009 §2.1
// allows it: Google revokes the grant, Keycloak ends the client's
// session), which the same user's new sign-in shares: revoking the old
// refresh token would end the new session too. Tokens the new session
// also holds (a provider that hands out the same token again) are never
// revoked.
func replacedRevocable(old, next *Session, p Provider) bool {
	a, b := old.Tokens, next.Tokens
	if (a.AccessToken != "" && a.AccessToken == b.AccessToken) || (a.RefreshToken != "" && a.RefreshToken == b.RefreshToken) {
		return false
	}
	if old.Identity.Provider != next.Identity.Provider || old.Env != next.Env || old.Identity.Subject != next.Identity.Subject {
		return true
	}
	_, ok := p.(tokenRevoker)
	return ok
}

// firstResponse is response for a session just established: when the
// response is refused (Options.BackstageIdentity turned the user away),
// the session is deleted and its cookie cleared, so a refused sign-in
// leaves no session behind.
func (h *Handler) firstResponse(w http.ResponseWriter, r *http.Request, s *Session) (*Response, *httpError) {
	body, herr := h.response(r.Context(), s)
	if herr != nil {
		if err := h.store.Delete(context.WithoutCancel(r.Context()), s.key); err != nil {
			h.log(r.Context(), "auth: deleting a refused session failed", slog.String("error", err.Error()))
		}
		h.forget(s.key)
		h.setCookie(w, "session", "", -1)
	}
	return body, herr
}

func (h *Handler) response(ctx context.Context, s *Session) (*Response, *httpError) {
	body := &Response{
		Profile:      Profile{Email: s.Identity.Email, DisplayName: s.Identity.DisplayName, Picture: s.Identity.Picture},
		ProviderInfo: ProviderBody{Scope: s.Tokens.Scope},
	}
	if !s.Tokens.Expiry.IsZero() {
		body.ProviderInfo.ExpiresInSeconds = max(int64(s.Tokens.Expiry.Sub(h.now())/time.Second), 0)
	}
	if h.o.ExposeProviderTokens {
		body.ProviderInfo.AccessToken, body.ProviderInfo.IDToken = s.Tokens.AccessToken, s.Tokens.IDToken
	}
	if h.o.BackstageIdentity != nil {
		bi, err := h.o.BackstageIdentity(ctx, s)
		if err != nil {
			// Only an *errcode.Error's own message: a wrapped error (the
			// catalog's, say) may quote a URL or a response.
			return nil, &httpError{status: http.StatusForbidden, name: "NotAllowedError", msg: "Sign-in refused: " + oneLine(publicMessage(err))}
		}
		body.BackstageIdentity = bi
	}
	return body, nil
}

// csrfOK reports whether r is a same-site request: never one the browser
// marks cross-site, and either with X-Requested-With: XMLHttpRequest
// (which a cross-origin page cannot send without a CORS preflight, which
// the Handler does not answer) or, when formOK, from an allowed Origin.
func (h *Handler) csrfOK(r *http.Request, formOK bool) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o != "" && o != "null" && !h.originAllowed(o) && !strings.EqualFold(o, origin(h.base)) {
		return false
	}
	if r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		return true
	}
	return formOK && o != "" && o != "null"
}

// csrfRefused is the answer to a request csrfOK refused: Backstage's
// message, and what the caller must send instead.
func csrfRefused(formOK bool) *httpError {
	msg := "Invalid X-Requested-With header: send X-Requested-With: XMLHttpRequest, from an allowed origin"
	if formOK {
		msg += ", or post the form from an allowed origin (with its Origin header)"
	}
	return &httpError{status: http.StatusUnauthorized, name: "AuthenticationError", msg: msg}
}

func (h *Handler) refresh(w http.ResponseWriter, r *http.Request, id string) {
	if !h.csrfOK(r, false) {
		h.fail(w, r, false, csrfRefused(false))
		return
	}
	key, ok := h.sessionKey(r)
	if !ok {
		h.fail(w, r, false, &httpError{status: http.StatusUnauthorized, name: "AuthenticationError", msg: "Missing session cookie"})
		return
	}
	s, err := h.load(r.Context(), key)
	if err == nil && s.Identity.Provider != id {
		err = errcode.New(errcode.Unauthorized, "auth.Refresh", "the session is not from provider '"+id+"'")
	}
	if err == nil {
		s, err = h.fresh(r.Context(), key, s)
	}
	if err != nil {
		h.fail(w, r, false, &httpError{status: http.StatusUnauthorized, name: "AuthenticationError", msg: "Refresh failed: " + oneLine(publicMessage(err))})
		return
	}
	body, herr := h.response(r.Context(), s)
	if herr != nil {
		h.fail(w, r, false, herr)
		return
	}
	h.renewCookie(w, r, s)
	if s.stale {
		h.reseal(r.Context(), key, s)
	}
	writeJSON(w, http.StatusOK, body)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, id string) {
	if !h.csrfOK(r, true) {
		h.fail(w, r, false, csrfRefused(true))
		return
	}
	if key, ok := h.sessionKey(r); ok {
		// Not the request's context: a browser that stops waiting (a tab
		// closed while the provider's revocation is slow) must not keep
		// the session. The session ends first (within logoutLeaseWait
		// when refreshes hold its lease); its tokens are revoked after,
		// which a slow provider only delays.
		ctx := context.WithoutCancel(r.Context())
		s, err := h.endForLogout(ctx, key)
		if s != nil {
			// Deleted: revoke what it held, also when the store then
			// failed (the retry would find nothing to revoke).
			h.revoke(ctx, s)
		}
		if err != nil {
			h.fail(w, r, false, &httpError{status: http.StatusServiceUnavailable, name: "Error", msg: "The session could not be ended; try again"})
			return
		}
	}
	h.setCookie(w, "session", "", -1)
	if t := r.URL.Query().Get("redirectUrl"); t != "" {
		if target, ok := h.redirectTarget(t); ok {
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		h.fail(w, r, false, &httpError{status: http.StatusBadRequest, name: "NotAllowedError", msg: "Redirect target is not on an allowed origin"})
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// endForLogout ends the session key and returns it as it was last
// stored, with the tokens to revoke, once it is deleted (nil if it was
// not). It first tries, briefly (logoutLeaseWait), to read and delete the
// session holding its refresh lease, so that no refresh on any replica
// rotates the tokens between the read and the delete: a refresh in
// flight that ends meanwhile is waited for, and its rotated tokens are
// the ones read. Refreshes that keep taking the lease (a provider that
// hangs, several tabs) do not keep the session alive: after that wait the
// session is deleted at once and then again once the lease is free, and
// what a refresh wrote back in between is returned.
func (h *Handler) endForLogout(ctx context.Context, key string) (*Session, error) {
	wctx, cancel := context.WithTimeout(ctx, logoutLeaseWait)
	lease, err := h.refreshLease(wctx, key)
	cancel()
	if err == nil {
		s, _ := h.load(ctx, key)
		err := h.store.Delete(ctx, key)
		_ = h.store.Release(context.WithoutCancel(ctx), lease)
		h.forget(key)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	s, _ := h.load(ctx, key)
	if err := h.store.Delete(ctx, key); err != nil {
		return nil, err
	}
	h.forget(key)
	lease, err = h.refreshLease(ctx, key)
	if err != nil {
		return s, err // deleted, but a refresh in flight may write it back: the caller retries
	}
	if latest, _ := h.load(ctx, key); latest != nil {
		s = latest
	}
	err = h.store.Delete(ctx, key)
	_ = h.store.Release(context.WithoutCancel(ctx), lease)
	h.forget(key)
	return s, err
}

// logoutLeaseWait bounds how long a logout waits for a refresh in flight
// before it deletes the session anyway.
const logoutLeaseWait = 2 * time.Second

// refreshLease takes the refresh lease of session key, waiting (up to
// the lease's own lifetime) for a refresh that holds it to finish.
func (h *Handler) refreshLease(ctx context.Context, key string) (Lease, error) {
	ctx, cancel := context.WithTimeout(ctx, h.o.ProviderTimeout+5*time.Second) // the lease's own lifetime
	defer cancel()
	wait := 10 * time.Millisecond
	for {
		lease, err := h.store.Acquire(ctx, "refresh:"+key, h.o.ProviderTimeout+5*time.Second)
		if err == nil || errcode.CodeOf(err) != errcode.Conflict {
			return lease, err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return lease, ctx.Err()
		}
		wait = min(wait*2, 200*time.Millisecond)
	}
}

// revoke asks the provider of s, a session that ended (a logout, or a new
// sign-in in its browser), if it can, to revoke its tokens.
func (h *Handler) revoke(ctx context.Context, s *Session) {
	p, herr := h.provider(s.Identity.Provider, s.Env)
	if herr != nil {
		return
	}
	rv, ok := p.(Revoker)
	if !ok {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, h.o.ProviderTimeout)
	defer cancel()
	if err := rv.Revoke(rctx, s.Tokens); err != nil && h.o.Logger != nil {
		// A Warn: the tokens may still be valid (a provider that is
		// down, or a client that is not the one that issued them).
		h.o.Logger.LogAttrs(ctx, slog.LevelWarn, "auth: revoking an ended session's tokens failed", slog.String("user", s.Identity.String()),
			slog.String("provider", s.Identity.Provider), slog.String("error", err.Error()))
	}
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request, id string) {
	if !h.csrfOK(r, true) {
		h.fail(w, r, false, csrfRefused(true))
		return
	}
	env, herr := h.env(r)
	var pp PasswordProvider
	if herr == nil {
		var p Provider
		if p, herr = h.provider(id, env); herr == nil {
			var ok bool
			if pp, ok = p.(PasswordProvider); !ok {
				herr = &httpError{status: http.StatusBadRequest, name: "InputError", msg: "Provider '" + id + "' signs in by redirect (GET " + h.basePath + "/" + id + "/start)"}
			}
		}
	}
	if herr != nil {
		h.fail(w, r, false, herr)
		return
	}
	var in struct {
		Username    string `json:"username"`
		Password    string `json:"password"`
		RedirectURL string `json:"redirectUrl"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	isJSON := false
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		isJSON = true
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			h.fail(w, r, false, &httpError{status: http.StatusBadRequest, name: "InputError", msg: "The body must be JSON with username and password"})
			return
		}
	} else if err := r.ParseForm(); err == nil {
		in.Username, in.Password, in.RedirectURL = r.PostForm.Get("username"), r.PostForm.Get("password"), r.PostForm.Get("redirectUrl")
	}
	if in.Username == "" || in.Password == "" {
		h.fail(w, r, false, &httpError{status: http.StatusBadRequest, name: "InputError", msg: "A username and a password are required"})
		return
	}
	target := ""
	if !isJSON && in.RedirectURL != "" {
		t, ok := h.redirectTarget(in.RedirectURL)
		if !ok {
			h.fail(w, r, false, &httpError{status: http.StatusBadRequest, name: "NotAllowedError", msg: "Redirect target is not on an allowed origin"})
			return
		}
		target = t
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.o.ProviderTimeout)
	defer cancel()
	if d, ok := h.device(r, id, env); ok {
		ctx = ContextWithDevice(ctx, d)
	}
	res, err := pp.Authenticate(ctx, in.Username, in.Password)
	if err != nil {
		h.log(r.Context(), "auth: password sign-in failed", slog.String("provider", id), slog.String("error", err.Error()))
		if errcode.CodeOf(err) == errcode.RateLimited {
			// The provider is backing off (a username or an address
			// after failed attempts): this client is to wait, not the
			// provider to recover.
			if at, ok := errcode.RetryAt(err); ok {
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(at.Sub(h.now()).Seconds())))))
			}
			h.fail(w, r, false, &httpError{status: http.StatusTooManyRequests, name: "Error", msg: "Signing in with '" + id + "' failed: " + oneLine(publicMessage(err))})
			return
		}
		h.fail(w, r, false, providerError(err, "Signing in with '"+id+"' failed"))
		return
	}
	s, herr := h.establish(w, r, id, env, pp, res)
	if herr != nil {
		h.fail(w, r, false, herr)
		return
	}
	h.setDevice(w, id, env, in.Username)
	body, herr := h.firstResponse(w, r, s)
	if herr != nil {
		h.fail(w, r, false, herr)
		return
	}
	if target != "" {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// deviceLifetime is how long a device cookie ([Device]) lasts.
const deviceLifetime = 180 * 24 * time.Hour

// deviceCookie is sealed into a device cookie.
type deviceCookie struct {
	User string `json:"u"`
	ID   string `json:"i"`
	Exp  int64  `json:"x"`
}

// deviceAD is what a device cookie is bound to: this Handler (its base
// URL), the provider id and the environment, so that a browser known to
// one directory is not taken as known to another that shares the secret
// or the provider id (staging and production, say).
func (h *Handler) deviceAD(id, env string) string {
	return "device\x00" + h.o.BaseURL + "\x00" + id + "\x00" + env
}

// device returns the Device of r's device cookie for provider id in
// environment env, if it has a valid one.
func (h *Handler) device(r *http.Request, id, env string) (Device, bool) {
	c, err := r.Cookie(h.cookieName("device-" + id + "-" + env))
	var dc deviceCookie
	if err != nil || !h.openJSON(c.Value, h.deviceAD(id, env), &dc) || dc.ID == "" || h.now().Unix() >= dc.Exp {
		return Device{}, false
	}
	return Device{Username: dc.User, ID: dc.ID}, true
}

// setDevice gives the browser a new device cookie for username's sign-in
// with provider id in environment env.
func (h *Handler) setDevice(w http.ResponseWriter, id, env, username string) {
	v := h.sealJSON(deviceCookie{User: username, ID: rand.Text(), Exp: h.now().Add(deviceLifetime).Unix()}, h.deviceAD(id, env))
	if len(v) > 3000 { // a username too long for a cookie: no device
		return
	}
	h.setCookie(w, "device-"+id+"-"+env, v, deviceLifetime)
}

// providerError turns a provider's error into an answer that names the
// problem without echoing anything secret.
func providerError(err error, what string) *httpError {
	msg := what + ": " + oneLine(publicMessage(err))
	switch errcode.CodeOf(err) {
	case errcode.Unauthorized, errcode.PermissionDenied:
		return &httpError{status: http.StatusUnauthorized, name: "AuthenticationError", msg: msg}
	case errcode.InvalidArgument:
		return &httpError{status: http.StatusBadRequest, name: "InputError", msg: msg}
	case errcode.DeadlineExceeded:
		return &httpError{status: http.StatusGatewayTimeout, name: "ServiceUnavailableError", msg: what + ": the provider did not answer in time"}
	case errcode.Canceled:
		return &httpError{status: 499, name: "Error", msg: what + ": the request was cancelled"}
	case errcode.Unavailable:
		if at, ok := errcode.RetryAt(err); ok {
			// The provider failed lately and is not asked again before
			// at (an OIDC discovery backing off, say): the client is to
			// come back then.
			return &httpError{status: http.StatusServiceUnavailable, name: "ServiceUnavailableError", msg: msg, retryAt: at}
		}
	}
	return &httpError{status: http.StatusBadGateway, name: "ServiceUnavailableError", msg: msg}
}

// publicMessage is the message of an *errcode.Error (never its wrapped
// provider error, which may quote a URL or a response), or a generic one.
func publicMessage(err error) string {
	var e *errcode.Error
	if errors.As(err, &e) {
		if e.Msg != "" {
			return e.Msg
		}
		return strings.ToLower(e.Code.String())
	}
	return "unexpected error"
}

func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return clip(s)
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers a refused request: an HTML page for the browser's flows
// (page), Backstage's JSON error shape otherwise.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, page bool, e *httpError) {
	if !e.retryAt.IsZero() {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(e.retryAt.Sub(h.now()).Seconds())))))
	}
	if page && !strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("X-Frame-Options", "DENY")
		// The page links back to the app: no Referer carrying the
		// callback's code and state.
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(e.status)
		_ = errorPage.Execute(w, map[string]any{"Status": e.status, "Title": http.StatusText(e.status), "Message": e.msg, "Retry": h.appURL.String()})
		return
	}
	writeJSON(w, e.status, backstageerr.New(e.status, e.name, e.msg))
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}h1{font-size:1.4em}</style></head>
<body><h1>Sign-in failed</h1><p id="message">{{.Message}}</p><p><small>{{.Status}} {{.Title}}</small></p>
<p><a href="{{.Retry}}">Back to the application</a></p></body></html>
`))

// popup answers the popup flow with status: a page showing text that
// posts message (Backstage's authorization_response, with a response or
// an error) to the opener at targetOrigin, as Backstage's does, under a
// CSP that allows exactly that script. Without an opener, the page says
// what happened.
func (h *Handler) popup(w http.ResponseWriter, status int, text, targetOrigin string, message map[string]any) {
	msg, _ := json.Marshal(message)
	to, _ := json.Marshal(targetOrigin)
	script := `(function(){var o=` + jsEscape(string(to)) + `;var m=JSON.parse(decodeURIComponent("` + uriEncode(msg) + `"));` +
		`if(window.opener){window.opener.postMessage({type:"config_info",targetOrigin:o},"*");window.opener.postMessage(m,o);setTimeout(function(){window.close()},100);}` +
		`else{document.getElementById("status").textContent=m.error?"Sign-in failed: "+m.error.message:"Signed in. You can close this window.";}})();`
	sum := sha256.Sum256([]byte(script))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	w.Header().Set("X-Frame-Options", "sameorigin")
	w.WriteHeader(status)
	io.WriteString(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in</title></head><body><p id="status">`+
		template.HTMLEscapeString(text)+`</p><script>`+script+`</script></body></html>`)
}

// uriEncode percent-encodes every byte but ASCII letters and digits, so
// the result is safe inside a JavaScript string inside a <script>.
func uriEncode(b []byte) string {
	const hexd = "0123456789ABCDEF"
	var sb strings.Builder
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			sb.WriteByte(c)
		} else {
			sb.WriteByte('%')
			sb.WriteByte(hexd[c>>4])
			sb.WriteByte(hexd[c&15])
		}
	}
	return sb.String()
}

// jsEscape makes a JSON string literal safe inside a <script>.
func jsEscape(s string) string {
	r := strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "\u2028", `\u2028`, "\u2029", `\u2029`)
	return r.Replace(s)
}
