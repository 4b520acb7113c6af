package scm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/scm/driver"
)

// credKey is what the client knows a call's credential by in the keys of
// answers it remembers for that credential only: a hash of its kind,
// source, username and token, or one value for every call that sends no
// credential (all of which the provider answers alike). Two credentials
// never share a key, and the key does not show the token.
func credKey(cred *credentials.Credential) string {
	if cred == nil || cred.Token == "" {
		return "anonymous"
	}
	return hashParts("scm credential v1", string(cred.Kind), cred.Source, cred.Username, cred.Token)
}

// notFoundKey names the remembered NotFound of the file r asks for, as
// answered to the credential known by who.
func notFoundKey(host string, r *driver.ReadFileRequest, who string) string {
	return hashParts("scm not found v1", host, r.Repo.Owner, r.Repo.Name, r.Ref, r.Path, who)
}

// rememberedNotFound returns the NotFound error for r when fc holds, under
// key, a NotFound remembered less than maxAge before now that answers r
// (one remembered for a read that took a directory for a missing file
// answers only such reads); nil otherwise, and when fc fails.
func rememberedNotFound(ctx context.Context, fc FileCache, key string, r *driver.ReadFileRequest, maxAge time.Duration, now time.Time) error {
	e, ok, err := fc.GetFile(ctx, key)
	if err != nil || !ok || e == nil || e.NotFoundAt.IsZero() || e.ETag != "" || (e.MaybeDir && !r.DirAsMissing) {
		return nil
	}
	// A clock of another replica may run a little ahead: an entry from
	// the future counts as fresh only within maxAge too.
	age := now.Sub(e.NotFoundAt)
	if age >= maxAge || age <= -maxAge {
		return nil
	}
	return &errcode.Error{Code: errcode.NotFound, Status: http.StatusNotFound,
		Msg: fmt.Sprintf("%s was not found %s ago; not asked again within ReadFileOptions.NotFoundMaxAge (%s)",
			r.Path, max(age, 0).Round(time.Millisecond), maxAge)}
}

// answeredNotFound reports whether err, from a driver's ReadFile, is the
// provider's answer that the file is not there (NotFound), not a failure
// to reach it.
func answeredNotFound(cl *call, err error) bool {
	if err == nil {
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return false
	}
	var e *errcode.Error
	if errors.As(err, &e) {
		return e.Code == errcode.NotFound
	}
	return cl.d.ErrorInfo(err).Code == errcode.NotFound
}
