package fakegithub_test

import (
	"fmt"
	"io"
	"log"
	"net/http"

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

	s.Inject(fakegithub.Fault{Kind: fakegithub.FaultRateLimit, Times: 1})
	resp = get()
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "remaining", resp.Header.Get("X-RateLimit-Remaining"))
	fmt.Println("requests:", s.Stats().Routes["GET /repos/{owner}/{repo}/contents/{path...}"])
	// Output:
	// 200 "# svc\n" ETag "c53341ca5ef94c73cb43795f6f2783c7035432b2"
	// 403 remaining 0
	// requests: 2
}
