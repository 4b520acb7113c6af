package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/ldapauth"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/identity"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
)

// The nil *Store that FromConfig returns without Redis, passed on as it
// is (Shared: store), fails every call with Unavailable and never panics:
// before, Load, Save, Delete and the file and page caches dereferenced
// it, in a goroutine of the credential cache, where the embedder could
// not recover.
func TestNilStoreIsUnavailable(t *testing.T) {
	var s *redisstore.Store
	ctx := t.Context()
	unavailable := func(name string, err error) {
		t.Helper()
		if errcode.CodeOf(err) != errcode.Unavailable {
			t.Errorf("%s on a nil Store = %v; want Unavailable", name, err)
		}
	}
	_, _, err := s.Load(ctx, "k")
	unavailable("Load", err)
	_, err = s.Lease(ctx, "k", time.Second)
	unavailable("Lease", err)
	_, err = s.Save(ctx, "k", []byte("v"), time.Minute, 1, true)
	unavailable("Save", err)
	unavailable("Release", s.Release(ctx, "k", 1))
	unavailable("Delete", s.Delete(ctx, "k"))
	_, _, err = s.Files(0).GetFile(ctx, "k")
	unavailable("Files.GetFile", err)
	unavailable("Files.PutFile", s.Files(0).PutFile(ctx, "k", &scm.CachedFile{}))
	_, _, err = s.Pages(0).GetPage(ctx, "k")
	unavailable("Pages.GetPage", err)
	_, _, err = s.Budget().Take(ctx, "k", 1)
	unavailable("Budget.Take", err)
	_, err = s.IssuerKeys().ListKeys(ctx)
	unavailable("IssuerKeys.ListKeys", err)
	unavailable("IssuerKeys.AddKey", s.IssuerKeys().AddKey(ctx, identity.StoredKey{Key: identity.JWK{Kid: "k"}}))
	unavailable("IssuerKeys.RevokeKeys", s.IssuerKeys().RevokeKeys(ctx, []string{"k"}, time.Time{}))
	_, err = s.Sessions(nil).Get(ctx, "id")
	unavailable("Sessions.Get", err)
	_, _, err = s.LDAPAttempts().Begin(ctx, "k", "a", time.Now(), ldapauth.BackoffPolicy{Free: 1, Base: time.Second, Max: time.Minute})
	unavailable("LDAPAttempts.Begin", err)
	p := ldapauth.BackoffPolicy{Free: 1, Base: time.Second, Max: time.Minute}
	// Every other method: none panics (found by a review); those that
	// need Redis are Unavailable.
	for name, f := range map[string]func() error{
		"Budget.Record":      func() error { return s.Budget().Record(ctx, "k", 10, 5, time.Now()) },
		"Deliveries.Seen":    func() error { _, err := s.Deliveries().Seen(ctx, "id", time.Minute); return err },
		"Deliveries.SeenAny": func() error { _, err := s.Deliveries().SeenAny(ctx, []string{"a", "b"}, time.Minute); return err },
		"Deliveries.Forget":  func() error { return s.Deliveries().Forget(ctx, "id") },
		"Pages.PutPage":      func() error { return s.Pages(0).PutPage(ctx, "k", &scm.CachedPage{}) },
		"Sessions.CAS": func() error {
			_, err := s.Sessions(nil).CompareAndSwap(ctx, "k", 1, []byte("v"), time.Minute)
			return err
		},
		"Sessions.Delete":  func() error { return s.Sessions(nil).Delete(ctx, "k") },
		"Sessions.Acquire": func() error { _, err := s.Sessions(nil).Acquire(ctx, "n", time.Second); return err },
		"Sessions.Release": func() error { return s.Sessions(nil).Release(ctx, auth.Lease{}) },
		"Sessions.Put":     func() error { _, err := s.Sessions(nil).Put(ctx, "k", []byte("v"), time.Minute); return err },
		"Sessions.PutFenced": func() error {
			_, err := s.Sessions(nil).PutFenced(ctx, auth.Lease{}, "k", []byte("v"), time.Minute)
			return err
		},
		"LDAPAttempts.Fail":     func() error { return s.LDAPAttempts().Fail(ctx, "k", "a", time.Now(), p) },
		"LDAPAttempts.Finish":   func() error { return s.LDAPAttempts().Finish(ctx, "k", "a", true) },
		"IssuerKeys.RemoveKeys": func() error { return s.IssuerKeys().RemoveKeys(ctx, []string{"k"}) },
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s on a nil Store panics: %v", name, r)
				}
			}()
			unavailable(name, f())
		}()
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if got := fmt.Sprint(s) + fmt.Sprintf("%#v", s); got != "redisstore.Store(nil)(*redisstore.Store)(nil)" {
		t.Errorf("printed: %s", got)
	}
	if s.Client() != nil {
		t.Error("Client of a nil Store is not nil")
	}
	var _ auth.SessionStore = s.Sessions(nil)
}

// A credential cache given a nil *Store as its shared store shares
// nothing, and fetches as without one (before, its first call panicked).
func TestNilStoreAsSharedStore(t *testing.T) {
	var s *redisstore.Store
	fetches := 0
	src := credentials.SourceFunc(func(context.Context) (*credentials.Credential, error) {
		fetches++
		return &credentials.Credential{Kind: credentials.KindToken, Token: "t", Expiry: time.Now().Add(time.Hour)}, nil
	})
	c := credentials.Cached(src, &credentials.CacheOptions{Shared: s, SharedKey: "k"})
	for range 2 {
		if _, err := c.Credential(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if fetches != 1 {
		t.Errorf("%d fetches; want 1", fetches)
	}
}
