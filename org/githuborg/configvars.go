package githuborg

import (
	"strings"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org"
)

// unsetVariables returns an InvalidArgument error naming the environment
// variables that catalog.providers.githubOrg refers to and that are not
// set, when d can tell (it has an UnsetVariables(path string) []string
// method, as *config.Config has); nil otherwise.
//
// Every key of the block decides what is read, and the value of each one
// left unset is a default that reads more or elsewhere: githubUrl falls
// back to github.com, an organisation dropped from orgs leaves the others
// (or, with none left, every installation of the app), an id changes
// which entities are replaced. So an unset variable there is refused, as
// Backstage refuses a missing required value, rather than read.
func unsetVariables(d org.Decoder) error {
	u, ok := d.(interface{ UnsetVariables(string) []string })
	if !ok {
		return nil
	}
	names := u.UnsetVariables(ConfigPath)
	if len(names) == 0 {
		return nil
	}
	return errcode.Newf(errcode.InvalidArgument, "githuborg.DecodeConfig",
		"%s: the environment does not set %s, and the values that use them would be left unset (another host or other organisations read)",
		ConfigPath, strings.Join(names, ", "))
}
