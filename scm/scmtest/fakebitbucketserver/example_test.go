package fakebitbucketserver_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketserver"
)

// A test seeds a repository under a context path, reads a file as a
// client would, then makes the next request fail with a 503.
func Example() {
	bb := fakebitbucketserver.New(&fakebitbucketserver.Options{ContextPath: "/bitbucket", Tokens: []string{"tok"}})
	defer bb.Close()
	if _, err := bb.AddRepo(fakebitbucketserver.Repo{Project: "ACME", Name: "My Service",
		Files: []fake.File{{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")}}}); err != nil {
		fmt.Println(err)
		return
	}
	get := func() {
		req, _ := http.NewRequest(http.MethodGet, bb.APIBaseURL()+"/projects/ACME/repos/my-service/raw/catalog-info.yaml?at=main", nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := bb.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %.40q\n", resp.StatusCode, body)
	}
	get()
	bb.Inject(fake.Fault{Kind: fake.FaultServerError, Status: http.StatusServiceUnavailable, Times: 1})
	get()
	fmt.Println(bb.Stats().Total, "requests")
	// Output:
	// 200 "kind: Component\n"
	// 503 "<html><body><h1>503 Service Unavailable<"
	// 2 requests
}
