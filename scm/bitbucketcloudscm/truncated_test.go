package bitbucketcloudscm_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/errcode"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fakebitbucketcloud"
)

// TestTruncatedBodyIsUnavailable: an answer cut short is Unavailable, as
// on every other adapter, whichever way the driver reads it: its own
// requests, and those go-bitbucket makes (the repository for its main
// branch, the pull request it opens), whose reads fail with
// io.ErrUnexpectedEOF.
func TestTruncatedBodyIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault fakebitbucketcloud.Fault
		do    func(e *env) error
	}{
		{"main branch (go-bitbucket)", fakebitbucketcloud.Fault{Kind: scmtest.FaultTruncatedBody, Method: http.MethodGet,
			Path: "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo}, func(e *env) error {
			_, err := e.c.ReadFile(t.Context(), e.repoURL(scmtest.BasicRepo)+"/src/HEAD/README.md", nil)
			return err
		}},
		{"pull request (go-bitbucket)", fakebitbucketcloud.Fault{Kind: scmtest.FaultTruncatedBody, Method: http.MethodPost,
			Path: "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo + "/pullrequests"}, func(e *env) error {
			_, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "main",
				Branch: "truncated", Title: "t", Changes: []scm.Change{{Path: "t.txt", Content: []byte("t\n")}}})
			return err
		}},
		{"file (driver)", fakebitbucketcloud.Fault{Kind: scmtest.FaultTruncatedBody, Method: http.MethodGet,
			Path: "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo + "/src/"}, func(e *env) error {
			_, err := e.c.ReadFile(t.Context(), e.fileURL(scmtest.BasicRepo, "main", "catalog-info.yaml"), nil)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, integrations.BitbucketCloudConfig{})
			e.fake.Inject(tc.fault)
			err := tc.do(e)
			if got := scm.Code(err); got != scm.Unavailable {
				t.Errorf("error %v: code %v; want Unavailable", err, got)
			}
		})
	}
}

func TestErrorInfoTransportErrors(t *testing.T) {
	d, err := bitbucketcloudscm.New(&integrations.Integration{Kind: integrations.BitbucketCloud, Host: "bitbucket.org",
		APIBaseURL: "https://api.bitbucket.org/2.0", BaseURL: "https://bitbucket.org"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []error{
		io.ErrUnexpectedEOF,
		fmt.Errorf("GET /2.0/repositories/acme/basic: %w", io.ErrUnexpectedEOF),
		fmt.Errorf("reading: %w", io.EOF),
	} {
		if got := d.ErrorInfo(in).Code; got != errcode.Unavailable {
			t.Errorf("ErrorInfo(%v).Code = %v; want Unavailable", in, got)
		}
	}
	if got := d.ErrorInfo(errors.New("boom")).Code; got != errcode.Unknown {
		t.Errorf("ErrorInfo(boom) = %v; want Unknown", got)
	}
}
