package fakebitbucketcloud_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// A test seeds a repository, reads a file as a client would, then makes
// the next request fail with Bitbucket's rate-limit answer.
func Example() {
	bb := fakebitbucketcloud.New(&fakebitbucketcloud.Options{Tokens: []string{"tok"}})
	defer bb.Close()
	if _, err := bb.AddRepo(fakebitbucketcloud.Repo{Workspace: "acme", Slug: "svc",
		Files: []fake.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
		fmt.Println(err)
		return
	}
	get := func() {
		req, _ := http.NewRequest(http.MethodGet, bb.APIBaseURL()+"/repositories/acme/svc/src/main/catalog-info.yaml", nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := bb.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %q Retry-After=%q\n", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	get()
	bb.Inject(fake.Fault{Kind: fake.FaultTooManyRequests, Times: 1})
	get()
	fmt.Println(len(bb.Requests()), "requests")
	// Output:
	// 200 "kind: Component\n" Retry-After=""
	// 429 "{\"error\":{\"message\":\"Rate limit for this resource has been exceeded\"},\"type\":\"error\"}" Retry-After="60"
	// 2 requests
}
