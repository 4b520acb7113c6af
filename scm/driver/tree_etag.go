package driver

import (
	"context"
	"net/http"
)

// TreeVersioner is an optional capability: finding, in one small request,
// the id of the last commit at Ref that changed anything under Dir (the
// commit listing filtered by path, first entry only). The portable client
// uses it for [TreeVersionRequest]-based conditional tree reads: a
// directory whose last change is the caller's ETag is not downloaded. A
// driver without it reads every tree in full.
type TreeVersioner interface {
	// TreeVersion returns the id of the newest commit reachable from
	// r.Ref that touches r.Dir ("" = anything, i.e. the head of Ref). A
	// missing repository or ref must be classified NotFound; a Dir that
	// no commit touches returns "" and no error (the portable client then
	// reads the tree, which reports the missing directory).
	TreeVersion(ctx context.Context, hc *http.Client, r *TreeVersionRequest) (string, error)
}

// TreeVersionRequest asks for the last commit touching a directory.
type TreeVersionRequest struct {
	Repo Repo
	Ref  string // "" = default branch
	Dir  string // "" = repository root
}
