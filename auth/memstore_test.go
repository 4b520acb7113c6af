package auth_test

import (
	"testing"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/auth/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) auth.SessionStore { return auth.NewMemoryStore(nil) })
}
