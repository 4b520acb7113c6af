package fakegithub_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegithub"
)

// ExampleNew seeds a repository, reads a file with GitHub's raw media
// type, then makes the next request fail with a rate limit.
func ExampleNew() {
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{"ghp_example"}})
	defer s.Close()
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{
		{Path: "README.md", Content: []byte("# svc\n")},
	}}); err != nil {
		log.Fatal(err)
	}
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", s.GHEAPIBaseURL()+"/repos/acme/svc/contents/README.md", nil)
		req.Header.Set("Authorization", "Bearer ghp_example")
		req.Header.Set("Accept", "application/vnd.github.raw")
		resp, err := s.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		return resp
	}
	resp := get()
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%d %q ETag %s\n", resp.StatusCode, body, resp.Header.Get("ETag"))

	s.Inject(fake.Fault{Kind: fake.FaultRateLimit, Times: 1})
	resp = get()
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "remaining", resp.Header.Get("X-RateLimit-Remaining"))
	fmt.Println("requests:", s.Stats().Routes["GET /repos/{owner}/{repo}/contents/{path...}"])
	// Output:
	// 200 "# svc\n" ETag "a9109d3076f24f0a8cbbc4c5b84868f9e8257f43"
	// 403 remaining 0
	// requests: 2
}

// ExampleServer_AddInstallation registers a GitHub App and installs it on
// an organization, then does by hand what credentials.Resolver does: it
// signs the app's JWT, finds the installation, mints an installation
// token, and reads a private file with it. The token is limited to the
// installation's account.
func ExampleServer_AddInstallation() {
	s := fakegithub.New(&fakegithub.Options{Tokens: []string{"ghp_example"}})
	defer s.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048) // in production, the app's private key from its settings page
	if err != nil {
		log.Fatal(err)
	}
	if err := s.AddApp(fakegithub.App{ID: 42, PublicKey: &key.PublicKey}); err != nil {
		log.Fatal(err)
	}
	if _, err := s.AddInstallation(fakegithub.Installation{ID: 7, AppID: 42, Account: "acme"}); err != nil {
		log.Fatal(err)
	}
	for _, r := range []fakegithub.Repo{{Owner: "acme", Name: "svc"}, {Owner: "globex", Name: "internal"}} {
		r.Private = true
		r.Files = []fakegithub.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}
		if _, err := s.AddRepo(r); err != nil {
			log.Fatal(err)
		}
	}

	call := func(method, path, auth string, out any) int {
		req, _ := http.NewRequest(method, s.APIBaseURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+auth)
		resp, err := s.Client().Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				log.Fatal(err)
			}
		}
		return resp.StatusCode
	}
	now := time.Now()
	appJWT, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer:    "42",
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}).SignedString(key)
	if err != nil {
		log.Fatal(err)
	}

	var inst struct {
		ID int64 `json:"id"`
	}
	fmt.Println("lookup:", call("GET", "/orgs/acme/installation", appJWT, &inst), "installation", inst.ID)
	var tok struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	st := call("POST", fmt.Sprintf("/app/installations/%d/access_tokens", inst.ID), appJWT, &tok)
	fmt.Println("mint:", st, tok.Token[:4]+"…", "valid for about", tok.ExpiresAt.Sub(now).Round(time.Hour))

	fmt.Println("acme/svc:", call("GET", "/repos/acme/svc/contents/catalog-info.yaml", tok.Token, nil))
	fmt.Println("globex/internal:", call("GET", "/repos/globex/internal/contents/catalog-info.yaml", tok.Token, nil))
	routes := s.Stats().Routes
	fmt.Println("lookups:", routes[fakegithub.RouteOrgInstallation], "mints:", routes[fakegithub.RouteCreateInstallToken])
	// Output:
	// lookup: 200 installation 7
	// mint: 201 ghs_… valid for about 1h0m0s
	// acme/svc: 200
	// globex/internal: 404
	// lookups: 1 mints: 1
}

// ExampleServer_RenameRepo renames a repository: its old name answers 301
// Moved Permanently to /repositories/{id}/..., as GitHub does, which an
// HTTP client follows to the repository.
func ExampleServer_RenameRepo() {
	s := fakegithub.New(nil)
	defer s.Close()
	if _, err := s.AddRepo(fakegithub.Repo{Owner: "acme", Name: "svc", Files: []fakegithub.File{{Path: "a.txt", Content: []byte("a")}}}); err != nil {
		log.Fatal(err)
	}
	if err := s.RenameRepo("acme", "svc", "acme", "service"); err != nil {
		log.Fatal(err)
	}
	var hops []int
	c := s.Client()
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		hops = append(hops, req.Response.StatusCode)
		return nil
	}
	resp, err := c.Get(s.APIBaseURL() + "/repos/acme/svc")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var repo struct {
		FullName string `json:"full_name"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&repo); err != nil {
		log.Fatal(err)
	}
	fmt.Println(hops, resp.StatusCode, repo.FullName)
	// Output: [301] 200 acme/service
}
