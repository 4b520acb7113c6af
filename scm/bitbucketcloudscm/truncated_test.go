package bitbucketcloudscm_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/bitbucketcloudscm"
	"github.com/scmkit/scmkit/scm/scmtest"
	"github.com/scmkit/scmkit/scm/scmtest/fake"
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
		fault fake.Fault
		do    func(e *env) error
	}{
		{"main branch (go-bitbucket)", fake.Fault{Kind: scmtest.FaultTruncatedBody, Method: http.MethodGet,
			Path: "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo}, func(e *env) error {
			_, err := e.c.ReadFile(t.Context(), e.repoURL(scmtest.BasicRepo)+"/src/HEAD/README.md", nil)
			return err
		}},
		{"pull request (go-bitbucket)", fake.Fault{Kind: scmtest.FaultTruncatedBody, Method: http.MethodPost,
			Path: "/2.0/repositories/" + workspace + "/" + scmtest.BasicRepo + "/pullrequests"}, func(e *env) error {
			_, err := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo), Base: "main",
				Branch: "truncated", Title: "t", Changes: []scm.Change{{Path: "t.txt", Content: []byte("t\n")}}})
			return err
		}},
		{"file (driver)", fake.Fault{Kind: scmtest.FaultTruncatedBody, Method: http.MethodGet,
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

// TestEchoedCredentialsEveryKind: whichever credential Bitbucket Cloud is
// given (an API token as Basic, an access token as Bearer, an OAuth
// consumer's token, a legacy app password), an answer that echoes the
// request's Authorization header does not put it, encoded or decoded, in
// the error. (The conformance suite covers the API token.)
func TestEchoedCredentialsEveryKind(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    *fakebitbucketcloud.Options
		cfg     integrations.BitbucketCloudConfig
		secrets []string
	}{
		{"access token (Bearer)", &fakebitbucketcloud.Options{Tokens: []string{accessToken}},
			integrations.BitbucketCloudConfig{Token: integrations.NewSecret(accessToken)}, []string{accessToken}},
		{"OAuth consumer", &fakebitbucketcloud.Options{Consumers: map[string]string{"consumer-key": "consumer-secret-echo"}},
			integrations.BitbucketCloudConfig{ClientID: "consumer-key", ClientSecret: integrations.NewSecret("consumer-secret-echo")},
			[]string{"consumer-secret-echo"}},
		{"app password (Basic)", &fakebitbucketcloud.Options{Users: map[string]string{"legacy-user": "app-pass-echo"}},
			integrations.BitbucketCloudConfig{Username: "legacy-user", AppPassword: integrations.NewSecret("app-pass-echo")},
			[]string{"app-pass-echo"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts, tc.cfg)
			// A first read, so that an OAuth consumer's token is minted
			// and known to be what the requests carry.
			if _, err := e.c.ReadFile(t.Context(), e.fileURL(scmtest.BasicRepo, "main", "README.md"), nil); err != nil {
				t.Fatal(err)
			}
			var seen []string
			for _, r := range e.fake.Requests() {
				if a := r.Header.Get("Authorization"); a != "" {
					seen = append(seen, strings.TrimPrefix(strings.TrimPrefix(a, "Bearer "), "Basic "))
				}
			}
			for _, st := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusBadGateway} {
				e.fake.ClearFaults()
				e.fake.Inject(fake.Fault{Kind: scmtest.FaultEchoCredentials, Status: st, Path: "/2.0/"})
				_, err := e.c.ReadFile(t.Context(), e.fileURL(scmtest.BasicRepo, "main", "README.md"), nil)
				_, perr := e.c.OpenPullRequest(t.Context(), &scm.PullRequestSpec{RepoURL: e.repoURL(scmtest.BasicRepo),
					Branch: "echo", Title: "t", Changes: []scm.Change{{Path: "e.txt", Content: []byte("e")}}})
				for _, err := range []error{err, perr} {
					if err == nil {
						t.Fatalf("HTTP %d with echoed credentials: no error", st)
					}
					for _, m := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
						if s, ok := scmtest.ShowsSecret(m, append(tc.secrets, seen...)); ok {
							t.Errorf("HTTP %d: error shows %.6s…: %s", st, s, m)
						}
					}
				}
			}
		})
	}
}
