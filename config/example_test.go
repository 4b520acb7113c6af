package config_test

import (
	"context"
	"fmt"
	"log"

	"github.com/scmkit/scmkit/config"
)

func Example() {
	// In a program: config.Load(ctx, &config.Options{Lookup: os.LookupEnv,
	// Environ: os.Environ()}, "app-config.yaml", "app-config.production.yaml").
	doc := []byte(`
app:
  title: Acme portal # ignored: scmkit reads integrations and backend.reading.allow only
integrations:
  github:
    - host: github.com
      token: ${GITHUB_TOKEN}
      credentials:
        - owners: [acme, acme-labs]
          token: ${ACME_TOKEN}
  gitlab:
    - host: git.example.com
      baseUrl: https://git.example.com/gitlab
      apiBaseUrl: https://git.example.com/gitlab/api/v4
      token: ${GITLAB_TOKEN}
backend:
  reading:
    allow:
      - host: '*.example.org'
`)
	env := map[string]string{"GITHUB_TOKEN": "not-a-real-token", "ACME_TOKEN": "not-a-real-token-either"}
	opts := &config.Options{
		Lookup:  func(name string) (string, bool) { v, ok := env[name]; return v, ok },
		Environ: []string{`APP_CONFIG_backend_reading_allow=[{"host":"docs.example.net"}]`},
	}
	cfg, err := config.LoadBytes(context.Background(), opts, doc)
	if err != nil {
		log.Fatal(err)
	}
	for _, gh := range cfg.Integrations.GitHub {
		fmt.Printf("github %s token=%v scoped=%d\n", gh.Host, gh.Token, len(gh.Credentials))
	}
	for _, gl := range cfg.Integrations.GitLab {
		fmt.Printf("gitlab %s api=%s token set=%t\n", gl.Host, gl.APIBaseURL, !gl.Token.IsZero())
	}
	fmt.Println("reading.allow:", cfg.Integrations.ReadingAllow[0].Host)
	for _, w := range cfg.Warnings {
		fmt.Println("warning:", w)
	}
	// Output:
	// github github.com token=[redacted] scoped=1
	// gitlab git.example.com api=https://git.example.com/gitlab/api/v4 token set=false
	// reading.allow: docs.example.net
	// warning: document 1: integrations.gitlab[0].token: environment variable "GITLAB_TOKEN" is not set; the value is left unset
}
