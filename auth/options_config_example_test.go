package auth_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
)

// The Handler's URLs from app-config, as Backstage's auth backend takes
// them: BaseURL from backend.baseUrl, AppURL from app.baseUrl.
func ExampleOptionsFromConfig() {
	cfg, err := config.LoadBytes(context.Background(), nil, []byte(`
app:
  baseUrl: https://portal.example.com
backend:
  baseUrl: https://portal.example.com
auth:
  session:
    secret: a-session-secret-of-32-characters
`))
	if err != nil {
		log.Fatal(err)
	}
	opts, err := auth.OptionsFromConfig(cfg, nil)
	if err != nil {
		log.Fatal(err)
	}
	var ac auth.Config
	if err := cfg.Decode("auth", &ac); err != nil {
		log.Fatal(err)
	}
	if _, _, err := ac.NewHandler(opts); err != nil {
		log.Fatal(err)
	}
	fmt.Println(opts.BaseURL, opts.AppURL)
	// Output: https://portal.example.com/api/auth https://portal.example.com
}
