package gitlabscm_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm/driver"
	"github.com/scmkit/scmkit/scm/gitlabscm"
)

// privateGroupGitLab answers like GitLab for a group "secret" (id 42) that
// only the token "alice" may see and create in: another token gets 404 for
// the namespace and, creating there by its id, the 400 "namespace is not
// valid" of GitLab's Projects::CreateService. It records each token's
// requests.
func privateGroupGitLab(t *testing.T) (*httptest.Server, func(tok string) []string) {
	var mu sync.Mutex
	calls := map[string][]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		calls[tok] = append(calls[tok], r.Method+" "+r.URL.EscapedPath())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v4/namespaces/secret":
			if tok != "alice" {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"message":"404 Namespace Not Found"}`)
				return
			}
			fmt.Fprint(w, `{"id":42,"name":"secret","path":"secret","kind":"group","full_path":"secret"}`)
		case r.Method == http.MethodPost && r.URL.Path == "/api/v4/projects":
			var in struct {
				Path        string `json:"path"`
				NamespaceID int64  `json:"namespace_id"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.NamespaceID != 42 || tok != "alice" {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"message":{"namespace":["is not valid"]}}`)
				return
			}
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":7,"path":%q,"path_with_namespace":"secret/%s","namespace":{"id":42,"full_path":"secret"},"default_branch":"main"}`, in.Path, in.Path)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/repository/commits"):
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"id":"0123456789012345678901234567890123456789"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"404 Not Found"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func(tok string) []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), calls[tok]...)
	}
}

// bearerAs attaches one token to every request.
type bearerAs string

func (b bearerAs) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// TestCreateRepositoryNamespaceMemoryAcrossUsers: the id one user looked up
// gives another user nothing: bob, who may not see alice's group, gets the
// same NotFound with the memory as without it (for one more request), and
// no project.
func TestCreateRepositoryNamespaceMemoryAcrossUsers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		bobSent []string
	}{
		{"remembered", 0, []string{"POST /api/v4/projects", "GET /api/v4/namespaces/secret"}},
		{"off", -1, []string{"GET /api/v4/namespaces/secret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, sent := privateGroupGitLab(t)
			d, err := gitlabscm.New(&integrations.Integration{Kind: integrations.GitLab, Host: strings.TrimPrefix(srv.URL, "http://"),
				APIBaseURL: srv.URL + "/api/v4", BaseURL: srv.URL}, &gitlabscm.Options{NamespaceTTL: tc.ttl})
			if err != nil {
				t.Fatal(err)
			}
			req := func(name string) *driver.CreateRepositoryRequest {
				return &driver.CreateRepositoryRequest{Owner: "secret", Name: name, Visibility: "private", CommitMessage: "m",
					Files: []driver.Change{{Path: "a", Action: driver.Create, Content: []byte("x")}}}
			}
			alice, bob := &http.Client{Transport: bearerAs("alice")}, &http.Client{Transport: bearerAs("bob")}
			if _, err := d.CreateRepository(t.Context(), alice, req("one")); err != nil {
				t.Fatal(err)
			}
			_, err = d.CreateRepository(t.Context(), bob, req("two"))
			if d.ErrorInfo(err).Code != errcode.NotFound {
				t.Errorf("bob's CreateRepository = %v; want NotFound", err)
			}
			if got := sent("bob"); fmt.Sprint(got) != fmt.Sprint(tc.bobSent) {
				t.Errorf("bob sent %v; want %v", got, tc.bobSent)
			}
			var wg sync.WaitGroup
			for i := range 40 {
				wg.Go(func() {
					hc := alice
					if i%2 == 1 {
						hc = bob
					}
					_, err := d.CreateRepository(t.Context(), hc, req(fmt.Sprintf("p%d", i)))
					if i%2 == 0 && err != nil || i%2 == 1 && d.ErrorInfo(err).Code != errcode.NotFound {
						t.Errorf("concurrent creation %d (alice: %v) = %v", i, i%2 == 0, err)
					}
				})
			}
			wg.Wait()
		})
	}
}
