package redisstore

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// Config is the backend.cache block of app-config.yaml, in Backstage's
// shape with scmkit's additions:
//
//	backend:
//	  cache:
//	    store: redis                      # memory (the default) or redis
//	    connection: redis://:${REDIS_PASSWORD}@redis.internal:6379/0
//	    prefix: "portal:"                 # default "scmkit:"
//	    encryptionKey: ${SCMKIT_CACHE_KEY} # 32 random bytes, base64
//	    previousEncryptionKeys:            # keys used before, newest first; only open (rotation)
//	      - ${SCMKIT_CACHE_KEY_OLD}
//	    timeout: 200ms                    # per command; default 200ms
//
// Backstage's redis.client.namespace (with keyPrefixSeparator, default
// ":") is read as the prefix when prefix is not set.
type Config struct {
	Store         string              `json:"store"`         // "memory" (the default) or "redis"
	Connection    integrations.Secret `json:"connection"`    // redis:// or rediss:// URL; never printed
	Prefix        string              `json:"prefix"`        // key prefix; default DefaultPrefix
	EncryptionKey integrations.Secret `json:"encryptionKey"` // 32 bytes in base64; required with redis
	// PreviousEncryptionKeys (scmkit's) are the keys used before
	// EncryptionKey, for a rotation: see Options.PreviousEncryptionKeys.
	PreviousEncryptionKeys []integrations.Secret `json:"previousEncryptionKeys"`
	Timeout                string                `json:"timeout"` // per command, a Go duration ("200ms")
	Redis                  struct {
		Client struct {
			Namespace          string `json:"namespace"`
			KeyPrefixSeparator string `json:"keyPrefixSeparator"`
		} `json:"client"`
	} `json:"redis"`
}

// Decoder reads a section of the configuration into a Go value;
// *[github.com/scmkit/scmkit/config.Config] is one. Taking it instead of
// the config package keeps Redis's package free of YAML.
type Decoder interface {
	Decode(path string, out any) error
}

// FromConfig opens the store that cfg's backend.cache block asks for. It
// returns (nil, nil) when the block is absent or says store: memory: the
// in-memory caches of each process are then the only ones, and nothing
// needs Redis. Passing that nil on as it is works: scmkit's options take a
// nil *Store for no store, and its methods fail with Unavailable (see
// [Store]); leave the store-taking options of the identity half unset
// (IssuerOptions.KeyStore, auth's session store), as their nil defaults
// are the in-process ones. opts (may be nil) supplies what config does not (Logger,
// Now); its Prefix, EncryptionKey, PreviousEncryptionKeys and Timeout are
// overridden by the config's when set there.
//
// Errors are InvalidArgument *errcode.Error naming the config path: an
// unknown store, a missing or malformed connection URL, a missing
// encryption key or one that is not 32 bytes in base64, a previous key
// that is not either, more than 4 previous keys, or one equal to the
// current key or listed twice. No error shows the connection URL or a
// key.
//
// When cfg also has an UnsetVariables(path string) []string method, as
// *config.Config has, an error about an empty key names the environment
// variables it used that are not set (never a value); and a store key
// left empty by an unset variable is an error, not the memory store.
func FromConfig(cfg Decoder, opts *Options) (*Store, error) {
	const op = "redisstore.FromConfig"
	var c Config
	if err := cfg.Decode("backend.cache", &c); err != nil {
		return nil, err
	}
	unset := func(path string) string {
		if u, ok := cfg.(interface{ UnsetVariables(string) []string }); ok {
			if names := u.UnsetVariables(path); len(names) > 0 {
				return " (it is empty: the environment does not set " + strings.Join(names, ", ") + ")"
			}
		}
		return ""
	}
	switch strings.ToLower(strings.TrimSpace(c.Store)) {
	case "":
		if why := unset("backend.cache.store"); why != "" {
			// Falling back to each process's memory would scatter the
			// sessions of a fleet without a word.
			return nil, errcode.New(errcode.InvalidArgument, op, "backend.cache.store: must be memory or redis"+why)
		}
		return nil, nil
	case "memory":
		return nil, nil
	case "redis":
	default:
		return nil, errcode.Newf(errcode.InvalidArgument, op, "backend.cache.store: %q is not a store scmkit knows; use memory or redis", c.Store)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if c.Connection.IsZero() {
		return nil, errcode.New(errcode.InvalidArgument, op, "backend.cache.connection: required with store: redis, e.g. redis://redis.internal:6379"+unset("backend.cache.connection"))
	}
	switch {
	case c.Prefix != "":
		o.Prefix = c.Prefix
	case c.Redis.Client.Namespace != "":
		sep := c.Redis.Client.KeyPrefixSeparator
		if sep == "" {
			sep = ":"
		}
		o.Prefix = c.Redis.Client.Namespace + sep
	}
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil || d <= 0 {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "backend.cache.timeout: %q is not a positive duration such as 200ms", c.Timeout)
		}
		o.Timeout = d
	}
	if !c.EncryptionKey.IsZero() {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.EncryptionKey.Reveal()))
		if err != nil || len(key) != 32 {
			return nil, errcode.New(errcode.InvalidArgument, op, "backend.cache.encryptionKey: must be 32 random bytes in base64 (openssl rand -base64 32)")
		}
		o.EncryptionKey = key
	}
	if len(c.PreviousEncryptionKeys) > 0 {
		o.PreviousEncryptionKeys = make([][]byte, len(c.PreviousEncryptionKeys))
		for i, pk := range c.PreviousEncryptionKeys {
			key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(pk.Reveal()))
			if err != nil || len(key) != 32 {
				return nil, errcode.Newf(errcode.InvalidArgument, op,
					"backend.cache.previousEncryptionKeys[%d]: must be 32 bytes in base64, as encryptionKey (a key used before it)", i)
			}
			o.PreviousEncryptionKeys[i] = key
		}
	}
	if len(o.EncryptionKey) == 0 {
		return nil, errcode.New(errcode.InvalidArgument, op,
			"backend.cache.encryptionKey: required with store: redis, to encrypt tokens at rest; generate one with openssl rand -base64 32"+unset("backend.cache.encryptionKey"))
	}
	u := strings.TrimSpace(c.Connection.Reveal())
	if !strings.HasPrefix(u, "redis://") && !strings.HasPrefix(u, "rediss://") {
		return nil, errcode.New(errcode.InvalidArgument, op, "backend.cache.connection: must be a redis:// or rediss:// URL")
	}
	if _, err := newRing(o.EncryptionKey, o.PreviousEncryptionKeys); err != nil {
		return nil, errcode.New(errcode.InvalidArgument, op, err.Error())
	}
	s, err := Open(u, &o)
	if err != nil {
		return nil, &errcode.Error{Code: errcode.InvalidArgument, Op: op, Msg: "backend.cache.connection: not a usable Redis URL"}
	}
	return s, nil
}
