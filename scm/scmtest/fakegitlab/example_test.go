package fakegitlab_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"time"

	"github.com/scmkit/scmkit/scm/scmtest/fake"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// A fake GitLab under a sub-path, seeded with one project in a nested
// group, read with plain net/http. New needs no *testing.T, so a main
// program (a demo, a local Backstage backend) can serve it too.
func ExampleNew() {
	s := fakegitlab.New(&fakegitlab.Options{Tokens: []string{"glpat-example"}, RelativePath: "/gitlab"})
	defer s.Close()
	if _, _, err := s.AddProject(fakegitlab.Project{Namespace: "acme/platform", Path: "svc", Files: []fakegitlab.File{
		{Path: "catalog-info.yaml", Content: []byte("kind: Component\n")},
	}}); err != nil {
		log.Fatal(err)
	}

	req, _ := http.NewRequest(http.MethodGet,
		s.APIBaseURL()+"/projects/acme%2Fplatform%2Fsvc/repository/files/catalog-info.yaml/raw?ref=main", nil)
	req.Header.Set("Authorization", "Bearer glpat-example")
	resp, err := s.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Print(string(body))
	fmt.Println(resp.Header.Get("X-Gitlab-Blob-Id") == fakegitlab.BlobID(body))
	fmt.Println(s.Stats().Total, "request")
	// Output:
	// 200 OK
	// kind: Component
	// true
	// 1 request
}

// A fault answers as GitLab does: here the 429 GitLab sometimes sends
// with only RateLimit-Reset (an epoch), no Retry-After. A client must wait
// until that reset.
func ExampleServer_Inject() {
	s := fakegitlab.New(nil)
	defer s.Close()
	s.Inject(fake.Fault{Kind: fake.FaultRateLimitResetOnly, Times: 1, RetryAfter: 30 * time.Second})
	for range 2 {
		resp, err := s.Client().Get(s.APIBaseURL() + "/user")
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Printf("%s, Retry-After %q, RateLimit-Remaining %s\n", resp.Status, resp.Header.Get("Retry-After"),
			resp.Header.Get("RateLimit-Remaining"))
		if resp.StatusCode == http.StatusTooManyRequests {
			reset, _ := strconv.ParseInt(resp.Header.Get("RateLimit-Reset"), 10, 64)
			wait := time.Until(time.Unix(reset, 0))
			fmt.Println("reset in about 30 s:", wait > 29*time.Second && wait <= 31*time.Second)
		}
	}
	// Output:
	// 429 Too Many Requests, Retry-After "", RateLimit-Remaining 0
	// reset in about 30 s: true
	// 200 OK, Retry-After "", RateLimit-Remaining 1999
}
