package identity

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// envConfigured returns an error when some provider is configured for an
// environment but none for env; unset describes the unset variables of a
// config path.
func envConfigured[P any](providers map[string]map[string]P, env string, unset func(string) string) error {
	var envs []string
	for _, byEnv := range providers {
		if _, ok := byEnv[env]; ok {
			return nil
		}
		for e := range byEnv {
			envs = append(envs, strconv.Quote(e))
		}
	}
	if len(envs) == 0 {
		// No provider with environments (none at all, or guest: {}
		// only, which has none): nothing to sign in with here.
		return nil
	}
	slices.Sort(envs)
	envs = slices.Compact(envs)
	msg := fmt.Sprintf("auth.providers: no provider is configured for environment %q (the configuration has environments %s); every sign-in would be refused", env, strings.Join(envs, ", "))
	if env == "" {
		msg += "; auth.environment is empty" + unset("auth.environment")
	}
	return errors.New(msg)
}
