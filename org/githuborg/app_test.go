package githuborg_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org/githuborg"
	"github.com/scmkit/scmkit/org/internal/readertest"
	"github.com/scmkit/scmkit/org/orgtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// TestGitHubApp reads through a GitHub App installation, minted by the
// credential resolver: with Organization › Members (read) it works (2
// requests for the installation token, 1 query), without it the error
// names the permission.
func TestGitHubApp(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	for _, tt := range []struct {
		name  string
		perms map[string]string
		code  errcode.Code
	}{
		{"members read", map[string]string{"members": "read", "metadata": "read"}, errcode.OK},
		{"no members permission", map[string]string{"contents": "read", "metadata": "read"}, errcode.PermissionDenied},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
			defer fake.Close()
			must(t, orgtest.SeedGitHub(fake, "acme"))
			must(t, fake.AddApp(fakegithub.App{ID: 77, PublicKey: &key.PublicKey, Permissions: tt.perms}))
			if _, err := fake.AddInstallation(fakegithub.Installation{AppID: 77, Account: "acme"}); err != nil {
				t.Fatal(err)
			}
			reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
				Host: fake.Host(), APIBaseURL: fake.APIBaseURL(),
				Apps: []integrations.GitHubAppConfig{{AppID: 77, PrivateKey: integrations.NewSecret(keyPEM)}}}}})
			must(t, err)
			res, err := credentials.NewResolver(reg, &credentials.ResolverOptions{HTTPClient: fake.Client()})
			must(t, err)
			r, err := githuborg.New(githuborg.Config{GitHubURL: "http://" + fake.Host(), Orgs: []string{"acme"}}, &githuborg.Options{Registry: reg, Resolver: res})
			must(t, err)
			snap, err := r.Read(context.Background())
			if errcode.CodeOf(err) != tt.code {
				t.Fatalf("err = %v, want %v", err, tt.code)
			}
			if tt.code == errcode.OK {
				if len(snap.Users) != len(orgtest.People) {
					t.Errorf("%d users", len(snap.Users))
				}
				if n := fake.Stats().API; n != 3 {
					t.Errorf("requests = %d, want 3 (installation lookup, token mint, one query)", n)
				}
				return
			}
			if !strings.Contains(err.Error(), "Members (read)") {
				t.Errorf("err = %v does not name the permission", err)
			}
		})
	}
}

// TestGitHubAppOfAnotherAccount: the resolver picks an organisation's own
// installation; an installation on another account gets nothing.
func TestGitHubAppOfAnotherAccount(t *testing.T) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	defer fake.Close()
	must(t, orgtest.SeedGitHub(fake, "acme"))
	must(t, orgtest.SeedGitHub(fake, "globex"))
	r := appReader(t, fake, 78, githuborg.Config{Orgs: []string{"acme", "globex"}}, nil)
	if _, err := fake.AddInstallation(fakegithub.Installation{AppID: 78, Account: "acme"}); err != nil {
		t.Fatal(err)
	}
	snap, err := r.Read(context.Background())
	if snap != nil || errcode.CodeOf(err) != errcode.Unauthorized || !strings.Contains(err.Error(), "not installed for owner globex") {
		t.Fatalf("Read = %v, %v: globex has no installation, the read must fail naming it", snap != nil, err)
	}
}

// TestOrgsFromAppInstallations: with no orgs configured, the organisations
// are those the GitHub App is installed on (one more request), users left
// out, suspended installations too.
func TestOrgsFromAppInstallations(t *testing.T) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	defer fake.Close()
	for _, o := range []string{"acme", "globex", "initech"} {
		must(t, orgtest.SeedGitHub(fake, o))
	}
	fake.AddOwner("someone", fakegithub.User)
	r := appReader(t, fake, 79, githuborg.Config{}, nil)
	for _, in := range []fakegithub.Installation{{AppID: 79, Account: "acme"}, {AppID: 79, Account: "globex"},
		{AppID: 79, Account: "initech", Suspended: true}, {AppID: 79, Account: "someone"}} {
		if _, err := fake.AddInstallation(in); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := r.Read(context.Background())
	must(t, err)
	spaces := map[string]int{}
	for _, u := range snap.Users {
		spaces[u.Metadata.Namespace]++
	}
	if len(spaces) != 2 || spaces["acme"] != len(orgtest.People) || spaces["globex"] != len(orgtest.People) {
		t.Errorf("users per namespace = %v, want acme and globex", spaces)
	}
	if n := fake.Stats().Routes[fakegithub.RouteAppInstallations]; n != 1 {
		t.Errorf("installation listings = %d, want 1", n)
	}
	// Without an app, orgs is required.
	reg2, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{Host: fake.Host(), APIBaseURL: fake.APIBaseURL(), Token: integrations.NewSecret("x")}}})
	must(t, err)
	res2, err := credentials.NewResolver(reg2, nil)
	must(t, err)
	if _, err := githuborg.New(githuborg.Config{GitHubURL: "http://" + fake.Host()}, &githuborg.Options{Registry: reg2, Resolver: res2}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("no orgs and no app: %v", err)
	}
}

// endlessInstallations answers every GET /app/installations with the same
// 100 organisations and a Link to one page further, as a server that
// ignores the page asked for would: a listing that never ends.
func endlessInstallations(resp *http.Response, _ []byte) []byte {
	var list []map[string]any
	for i := range 100 {
		list = append(list, map[string]any{"id": i + 1, "account": map[string]any{"login": fmt.Sprintf("org%d", i), "type": "Organization"}, "suspended_at": nil})
	}
	b, _ := json.Marshal(list)
	q := resp.Request.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	q.Set("page", strconv.Itoa(max(page, 1)+1))
	u := *resp.Request.URL
	u.RawQuery = q.Encode()
	resp.Header.Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", u.String()))
	return b
}

// TestEndlessInstallationListEndsTheRead: the installations are listed by
// the Link header's next page, and a page that brings no installation not
// seen before ends the read with an error instead of a loop that never
// ends; a short listing without a next link is complete.
func TestEndlessInstallationListEndsTheRead(t *testing.T) {
	fake := fakegithub.New(&fakegithub.Options{Tokens: []string{"unused"}})
	defer fake.Close()
	must(t, orgtest.SeedGitHub(fake, "acme"))
	r := appReader(t, fake, 80, githuborg.Config{}, &githuborg.Options{Transport: readertest.Rewrite{Path: "/app/installations", Edit: endlessInstallations}})
	if _, err := fake.AddInstallation(fakegithub.Installation{AppID: 80, Account: "acme"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := r.Read(ctx)
	if snap != nil || errcode.CodeOf(err) != errcode.Unavailable || !strings.Contains(err.Error(), "installations") {
		t.Fatalf("snap = %v, err = %v; want no snapshot and Unavailable naming the installations", snap != nil, err)
	}
	if n := fake.Stats().Routes[fakegithub.RouteAppInstallations]; n > 2 {
		t.Errorf("installation listings = %d, want 2 (the second page brings nothing new)", n)
	}
}

// appReader adds GitHub App id (Members: read) to fake and returns a
// Reader of cfg (on fake's host) through an integration holding that app
// alone; opts, when not nil, give the Options besides Registry and
// Resolver, and their Transport, when set, is the resolver's too.
func appReader(t testing.TB, fake *fakegithub.Server, id int64, cfg githuborg.Config, opts *githuborg.Options) *githuborg.Reader {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	must(t, fake.AddApp(fakegithub.App{ID: id, PublicKey: &key.PublicKey, Permissions: map[string]string{"members": "read"}}))
	reg, err := integrations.NewRegistry(integrations.Config{GitHub: []integrations.GitHubConfig{{
		Host: fake.Host(), APIBaseURL: fake.APIBaseURL(),
		Apps: []integrations.GitHubAppConfig{{AppID: id, PrivateKey: integrations.NewSecret(keyPEM)}}}}})
	must(t, err)
	o := githuborg.Options{}
	if opts != nil {
		o = *opts
	}
	hc := fake.Client()
	if o.Transport != nil {
		// The app's own requests (the listing of its installations, the
		// lookups and mints) go through the same transport.
		hc = &http.Client{Transport: o.Transport}
	}
	res, err := credentials.NewResolver(reg, &credentials.ResolverOptions{HTTPClient: hc})
	must(t, err)
	o.Registry, o.Resolver = reg, res
	cfg.GitHubURL = "http://" + fake.Host()
	r, err := githuborg.New(cfg, &o)
	must(t, err)
	return r
}
