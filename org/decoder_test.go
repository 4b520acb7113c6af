package org_test

import (
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/org"
)

// *config.Config is an org.Decoder, as the readers' DecodeConfig documents.
var _ org.Decoder = (*config.Config)(nil)
