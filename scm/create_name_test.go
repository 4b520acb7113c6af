package scm

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/integrations"
)

func TestCheckRepoName(t *testing.T) {
	gh, gl, bbc, bbs := integrations.GitHub, integrations.GitLab, integrations.BitbucketCloud, integrations.BitbucketServer
	all := []integrations.Kind{gh, gl, bbc, bbs}
	for _, tc := range []struct {
		name string
		ok   []integrations.Kind
	}{
		{"service", all},
		{"my-service_2.0", all},
		{"Service", []integrations.Kind{gh, gl, bbs}},
		{"", nil},
		{".", nil},
		{"..", nil},
		{"a b", nil},
		{"a/b", nil},
		{"naïve", nil},
		{"x\x00y", nil},
		{"-lead", []integrations.Kind{gh}},
		{"_lead", []integrations.Kind{gh, gl}},
		{".hidden", []integrations.Kind{gh}},
		{"repo.git", nil},
		{"repo.atom", []integrations.Kind{gh, bbc, bbs}},
		{"a--b", []integrations.Kind{gh, bbc, bbs}},
		{"trail-", []integrations.Kind{gh, bbc, bbs}},
		{strings.Repeat("a", 62), all},
		{strings.Repeat("a", 63), []integrations.Kind{gh, gl, bbs}},
		{strings.Repeat("a", 100), []integrations.Kind{gh, gl, bbs}},
		{strings.Repeat("a", 101), []integrations.Kind{gl, bbs}},
		{strings.Repeat("a", 129), []integrations.Kind{gl}},
		{strings.Repeat("a", 256), nil},
	} {
		for _, k := range all {
			msg := checkRepoName(k, tc.name)
			want := false
			for _, o := range tc.ok {
				want = want || o == k
			}
			if (msg == "") != want {
				t.Errorf("checkRepoName(%s, %.20q) = %q; want valid %v", k, tc.name, msg, want)
			}
		}
	}
}

func TestCheckSpec(t *testing.T) {
	for _, tc := range []struct {
		kind integrations.Kind
		spec RepositorySpec
		ok   bool
	}{
		{integrations.GitHub, RepositorySpec{Visibility: Internal, Topics: []string{"go", "backstage-plugin"}}, true},
		{integrations.GitLab, RepositorySpec{Visibility: Public, DefaultBranch: "trunk"}, true},
		{integrations.BitbucketCloud, RepositorySpec{Visibility: Internal}, false},
		{integrations.BitbucketServer, RepositorySpec{Topics: []string{"go"}}, false},
		{integrations.GitHub, RepositorySpec{Visibility: "secret"}, false},
		{integrations.GitHub, RepositorySpec{DefaultBranch: "a..b"}, false},
		{integrations.GitHub, RepositorySpec{Topics: []string{"Go"}}, false},
		{integrations.GitHub, RepositorySpec{Topics: []string{"-go"}}, false},
		{integrations.GitHub, RepositorySpec{Topics: make([]string, 21)}, false},
		{integrations.GitHub, RepositorySpec{Description: strings.Repeat("d", 2001)}, false},
	} {
		if msg := checkSpec(tc.kind, &tc.spec); (msg == "") != tc.ok {
			t.Errorf("checkSpec(%s, %+v) = %q; want ok %v", tc.kind, tc.spec, msg, tc.ok)
		}
	}
}

// FuzzCheckRepoName checks that a name any provider accepts is safe in a
// URL path segment and in a git ref's last element.
func FuzzCheckRepoName(f *testing.F) {
	for _, s := range []string{"svc", "a/b", "..", "repo.git", "naïve", "x\x00", "%2e%2e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for _, k := range []integrations.Kind{integrations.GitHub, integrations.GitLab, integrations.BitbucketCloud, integrations.BitbucketServer} {
			if checkRepoName(k, name) != "" {
				continue
			}
			if name == "" || name == "." || name == ".." || len(name) > 255 || strings.ContainsAny(name, "/\\?#%: \x00") {
				t.Errorf("checkRepoName(%s, %q) accepts it", k, name)
			}
		}
	})
}
