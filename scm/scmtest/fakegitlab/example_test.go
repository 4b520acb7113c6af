package fakegitlab_test

import (
	"fmt"
	"io"
	"log"
	"net/http"

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
