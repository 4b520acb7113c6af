package identity

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/errcode"
)

// IssuerOptionsFromConfig returns the options of an [Issuer] as
// Backstage's auth backend reads them from app-config:
//
//   - Issuer: backend.baseUrl followed by "/api/auth", the auth backend's
//     external base URL (Backstage's discovery of the auth plugin);
//   - Lifetime: auth.backstageTokenExpiration, in Backstage's duration
//     forms ("1h", "30 minutes", "PT45M", or an object such as
//     {hours: 2}); NewIssuer clamps it to [MinLifetime, MaxLifetime] as
//     Backstage does;
//   - Algorithm: auth.identityTokenAlgorithm (ES256, ES384 or ES512);
//   - auth.keyStore.provider: memory, or database or firestore (Backstage's
//     stores shared by the replicas), which scmkit takes to mean the
//     shared store that base.KeyStore must then be (redisstore's
//     Store.IssuerKeys); static keys are not supported;
//   - OmitOwnershipClaim: auth.omitIdentityTokenOwnershipClaim. When it is
//     true and base.KeyStore is set (a fleet), base.UserInfo must be set
//     too (redisstore's Store.UserInfo): the replica a verifier asks for a
//     user's ownership refs may not be the one that issued her token.
//
// Unlike Backstage, whose key store is its database when auth.keyStore is
// absent, an absent provider leaves base.KeyStore as it is (nil: each
// replica's memory); give every replica of a fleet a shared store. An
// absent auth.omitIdentityTokenOwnershipClaim leaves base's
// OmitOwnershipClaim (false: tokens carry ent, Backstage's default before
// its auth backend 0.28, which made true the default).
//
// base (may be nil) supplies what the configuration does not (KeyStore,
// Now, Logger, …); a key set in cfg overrides base's field. An absent key
// leaves base's value, so an absent auth block gives base as it is, with
// Issuer from backend.baseUrl when base has none.
//
// Errors are InvalidArgument and name the config path: no issuer
// (backend.baseUrl absent or not an http(s) URL, and no base.Issuer), a
// duration not understood, an algorithm scmkit does not sign with, a key
// store it does not have. When cfg also has an UnsetVariables(path
// string) []string method, as *config.Config has, an error about an empty
// value names the environment variables it used that are not set.
func IssuerOptionsFromConfig(cfg Decoder, base *IssuerOptions) (*IssuerOptions, error) {
	const op = "identity.IssuerOptionsFromConfig"
	var o IssuerOptions
	if base != nil {
		o = *base
	}
	fail := func(path, msg string) error {
		if u, ok := cfg.(interface{ UnsetVariables(string) []string }); ok {
			if names := u.UnsetVariables(path); len(names) > 0 {
				msg += " (the environment does not set " + strings.Join(names, ", ") + ")"
			}
		}
		return errcode.New(errcode.InvalidArgument, op, path+": "+msg)
	}
	var baseURL string
	if err := cfg.Decode("backend.baseUrl", &baseURL); err != nil {
		return nil, err
	}
	if baseURL = strings.TrimRight(strings.TrimSpace(baseURL), "/"); baseURL != "" {
		if !strings.HasPrefix(baseURL, "https://") && !strings.HasPrefix(baseURL, "http://") {
			return nil, fail("backend.baseUrl", "must be the backend's http(s) base URL")
		}
		o.Issuer = baseURL + "/api/auth"
	} else if o.Issuer == "" {
		return nil, fail("backend.baseUrl", "is empty: the Issuer's iss is backend.baseUrl/api/auth")
	}
	var a struct {
		Expiration json.RawMessage `json:"backstageTokenExpiration"`
		Algorithm  *string         `json:"identityTokenAlgorithm"`
		OmitEnt    *bool           `json:"omitIdentityTokenOwnershipClaim"`
		KeyStore   struct {
			Provider *string `json:"provider"`
		} `json:"keyStore"`
	}
	if err := cfg.Decode("auth", &a); err != nil {
		return nil, err
	}
	if len(a.Expiration) > 0 && string(a.Expiration) != "null" {
		d, err := auth.ParseHumanDuration(a.Expiration)
		if err != nil {
			msg := err.Error()
			if e, ok := errors.AsType[*errcode.Error](err); ok {
				msg = e.Msg
			}
			return nil, fail("auth.backstageTokenExpiration", msg)
		}
		o.Lifetime = d
	}
	if a.Algorithm != nil {
		if _, ok := algorithm(strings.TrimSpace(*a.Algorithm)); !ok || strings.TrimSpace(*a.Algorithm) == "" {
			return nil, fail("auth.identityTokenAlgorithm", "scmkit signs with ES256, ES384 or ES512, not "+strconv.Quote(*a.Algorithm))
		}
		o.Algorithm = strings.TrimSpace(*a.Algorithm)
	}
	if p := a.KeyStore.Provider; p != nil {
		switch strings.ToLower(strings.TrimSpace(*p)) {
		case "memory":
		case "database", "firestore":
			if o.KeyStore == nil {
				return nil, fail("auth.keyStore.provider", strconv.Quote(*p)+" is a key store shared by the replicas: give IssuerOptions.KeyStore one (redisstore's Store.IssuerKeys), or use memory for a single replica")
			}
		case "static":
			return nil, fail("auth.keyStore.provider", "static keys are not supported: scmkit's Issuer makes and rotates its keys; use memory, or a shared store (database)")
		default:
			return nil, fail("auth.keyStore.provider", strconv.Quote(*p)+" is not a key store; use memory or database")
		}
	}
	if a.OmitEnt != nil {
		o.OmitOwnershipClaim = *a.OmitEnt
	}
	if o.OmitOwnershipClaim && o.KeyStore != nil && o.UserInfo == nil {
		return nil, fail("auth.omitIdentityTokenOwnershipClaim", "tokens without ent need the user info shared by the replicas, as their keys: give IssuerOptions.UserInfo one (redisstore's Store.UserInfo)")
	}
	return &o, nil
}
