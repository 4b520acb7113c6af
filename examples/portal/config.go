package main

import (
	"context"
	"errors"
	"net/url"
	"os"

	"github.com/scmkit/scmkit/config"
)

// realConfig is a Backstage app-config for real providers.
type realConfig struct {
	cfg     *config.Config
	baseURL string // backend.baseUrl
	listen  string
	repo    string
}

func loadConfig(ctx context.Context, path, repo string) (*realConfig, error) {
	if repo == "" {
		return nil, errors.New("portal: -config needs -repo, the repository to read and open pull requests in")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadBytes(ctx, &config.Options{Lookup: os.LookupEnv, Environ: os.Environ()}, b)
	if err != nil {
		return nil, err
	}
	var base string
	if err := cfg.Decode("backend.baseUrl", &base); err != nil || base == "" {
		return nil, errors.New("portal: backend.baseUrl is required with -config")
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, errors.New("portal: backend.baseUrl must be an absolute URL")
	}
	listen := u.Host
	if u.Port() == "" {
		listen = u.Hostname() + ":80"
		if u.Scheme == "https" {
			listen = u.Hostname() + ":443"
		}
	}
	return &realConfig{cfg: cfg, baseURL: base, listen: listen, repo: repo}, nil
}

// deps builds the portal from the file: with permission.enabled: true,
// its organisation (catalog.providers.githubOrg), sign-in resolvers and
// RBAC policy files (read relative to the working directory, as Backstage
// reads them); without, no policy.
func (c *realConfig) deps(ctx context.Context) (*deps, error) {
	x, warnings, err := newAccess(ctx, c.cfg, c.baseURL+"/api/auth", nil)
	if err != nil {
		return nil, err
	}
	d, err := depsFromConfig(c.cfg, c.baseURL, x)
	if err != nil {
		return nil, err
	}
	d.warnings = append(d.warnings, warnings...)
	d.repo = c.repo
	return d, nil
}
