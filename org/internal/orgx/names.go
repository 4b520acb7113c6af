package orgx

import (
	"fmt"
	"strings"
)

// Names are the entity names of one kind given out so far in one
// namespace, compared as Backstage compares them: without regard to case.
type Names struct {
	kind     string            // "user" or "group", for warnings
	taken    map[string]string // lower-case name -> its holder
	warnings *[]string
}

// NewNames returns the names of entities of kind ("user", "group"); a
// refused claim adds its warning to warnings (a snapshot's Warnings).
func NewNames(kind string, warnings *[]string) *Names {
	return &Names{kind: kind, taken: map[string]string{}, warnings: warnings}
}

// Claim gives name to holder (the id or path that warnings name it by)
// and reports true, unless another holder has it: then it adds the
// warning "<kind> <who>: skipped: its name ... is already <kind>
// <other>'s", who being how the warning names the entity left out.
func (n *Names) Claim(name, holder, who string) bool {
	k := strings.ToLower(name)
	if other, dup := n.taken[k]; dup {
		*n.warnings = append(*n.warnings, fmt.Sprintf("%s %s: skipped: its name %q is already %s %s's", n.kind, who, name, n.kind, other))
		return false
	}
	n.taken[k] = holder
	return true
}
