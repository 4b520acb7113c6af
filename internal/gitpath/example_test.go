package gitpath_test

import (
	"fmt"

	"github.com/scmkit/scmkit/internal/gitpath"
)

func ExampleCheckPath() {
	for _, p := range []string{"docs/index.md", ".gitmodules", "git~1/config", ".gitmodules/x"} {
		fmt.Println(gitpath.CheckPath(p))
	}
	// Output:
	// <nil>
	// <nil>
	// "git~1/config": git refuses a name git reads as .git (on NTFS or HFS+) (InvalidArgument)
	// ".gitmodules/x": git refuses a .gitmodules that is not a regular file (InvalidArgument)
}
