package redisstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/redisstore"
	"github.com/scmkit/scmkit/scm"
)

// Example wires the backend.cache block into the credential resolver and
// the scm client. With store: redis (and a connection and encryption key)
// FromConfig returns a Store shared by every replica; without the block it
// returns nil, and each process keeps its own in-memory caches.
func Example() {
	ctx := context.Background()
	cfg, err := config.LoadBytes(ctx, nil, []byte("backend:\n  cache:\n    store: memory\n"))
	if err != nil {
		log.Fatal(err)
	}
	store, err := redisstore.FromConfig(cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	ropts := &credentials.ResolverOptions{}
	sopts := &scm.Options{}
	if store != nil { // never put a nil *Store into the interfaces
		defer store.Close()
		ropts.Shared = store
		sopts.FileCache = store.Files(0)
	}
	reg, err := integrations.NewRegistry(integrations.Config{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := credentials.NewResolver(reg, ropts)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := scm.NewClient(reg, res, sopts); err != nil {
		log.Fatal(err)
	}
	fmt.Println("shared store:", store != nil)
	// Output: shared store: false
}
