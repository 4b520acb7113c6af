package identity

import (
	"encoding/json"
	"errors"
	"io/fs"
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
//     Store.IssuerKeys); or static, with auth.keyStore.static.keys, a
//     list of {privateKeyFile, publicKeyFile, keyId, algorithm} whose
//     files are read (PKCS#8 and SPKI PEM, see [ParseStaticKey]) into
//     StaticKeys, and KeyStore is then nil (a key store provider other
//     than static leaves StaticKeys nil);
//   - OmitOwnershipClaim: auth.omitIdentityTokenOwnershipClaim. When it is
//     true and base.KeyStore is set or the keys are static (a fleet may
//     share them), base.UserInfo must be set too (redisstore's
//     Store.UserInfo, or a &MemoryUserInfoStore{} for a single replica):
//     the replica a verifier asks for a user's ownership refs may not be
//     the one that issued her token.
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
// The static key files are named as Backstage names them: operating-system
// paths, absolute ("/etc/backstage/keys/private.key") or relative to the
// process's working directory. The paths come from the operator's
// configuration, which is trusted; the files' contents are still checked.
// [IssuerOptionsFromConfigFS] reads them from an fs.FS instead.
//
// Errors are InvalidArgument and name the config path: no issuer
// (backend.baseUrl absent or not an http(s) URL, and no base.Issuer), a
// duration not understood, an algorithm scmkit does not sign with, a key
// store it does not have, a static key that is missing, unreadable or not
// valid (auth.keyStore.static.keys[i] and the field; never the key
// itself). When cfg also has an UnsetVariables(path string) []string
// method, as *config.Config has, an error about an empty value names the
// environment variables it used that are not set.
func IssuerOptionsFromConfig(cfg Decoder, base *IssuerOptions) (*IssuerOptions, error) {
	const op = "identity.IssuerOptionsFromConfig"
	return issuerOptionsFromConfig(op, cfg, base, osKeyFiles(op))
}

// IssuerOptionsFromConfigFS is [IssuerOptionsFromConfig] with the static
// key files read from fsys, named relative to it (as fs.ValidPath: a
// leading "./" is allowed; a "../" or absolute path is InvalidArgument
// saying so). fsys is read only when auth.keyStore.provider is static.
func IssuerOptionsFromConfigFS(cfg Decoder, fsys fs.FS, base *IssuerOptions) (*IssuerOptions, error) {
	const op = "identity.IssuerOptionsFromConfigFS"
	return issuerOptionsFromConfig(op, cfg, base, fsKeyFiles(op, fsys))
}

func issuerOptionsFromConfig(op string, cfg Decoder, base *IssuerOptions, open func(key, name string) ([]byte, error)) (*IssuerOptions, error) {
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
			o.StaticKeys = nil
		case "database", "firestore":
			if o.KeyStore == nil {
				return nil, fail("auth.keyStore.provider", strconv.Quote(*p)+" is a key store shared by the replicas: give IssuerOptions.KeyStore one (redisstore's Store.IssuerKeys), or use memory for a single replica")
			}
			o.StaticKeys = nil
		case "static":
			keys, err := staticKeysFromConfig(cfg, fail, open)
			if err != nil {
				return nil, err
			}
			// The configuration's keys, not a store: a KeyStore that base
			// gives every deployment is not used.
			o.StaticKeys, o.KeyStore = keys, nil
		default:
			return nil, fail("auth.keyStore.provider", strconv.Quote(*p)+" is not a key store; use memory, database or static")
		}
	}
	if a.OmitEnt != nil {
		o.OmitOwnershipClaim = *a.OmitEnt
	}
	if o.OmitOwnershipClaim && len(o.StaticKeys) > 0 && o.UserInfo == nil {
		return nil, fail("auth.omitIdentityTokenOwnershipClaim", "tokens without ent need the user info shared by the replicas that share the static keys: "+
			"give IssuerOptions.UserInfo one (redisstore's Store.UserInfo), or a &identity.MemoryUserInfoStore{} for a single replica")
	}
	if o.OmitOwnershipClaim && o.KeyStore != nil && o.UserInfo == nil {
		return nil, fail("auth.omitIdentityTokenOwnershipClaim", "tokens without ent need the user info shared by the replicas, as their keys: give IssuerOptions.UserInfo one (redisstore's Store.UserInfo)")
	}
	return &o, nil
}
