package scm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/scm"
)

// A catalog or scaffolder that refreshes a template keeps the tree's ETag
// and sends it next time: an unchanged directory costs one small request
// and no download.
func ExampleTreeETag() {
	ctx := context.Background()
	c := exampleClient()
	const u = "https://github.com/acme/service/tree/main/templates/web"

	fsys, err := c.ReadTree(ctx, u, &scm.TreeOptions{WithETag: true})
	if err != nil {
		log.Fatal(err)
	}
	etag := scm.TreeETag(fsys) // keep it with the tree

	_, err = c.ReadTree(ctx, u, &scm.TreeOptions{IfNoneMatch: etag})
	switch {
	case scm.Code(err) == scm.NotModified:
		fmt.Println("unchanged: keep the tree read before")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("changed: use the new tree")
	}
	// Output:
	// unchanged: keep the tree read before
}
