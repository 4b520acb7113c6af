package credentials

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// TestExplain covers each branch of the resolution order and checks the
// whole trace, and that Resolve gives the same answer as Explain.
func TestExplain(t *testing.T) {
	gh := newFakeGitHub(t, nil)
	gh.Add(
		apptest.Installation{ID: 42, Login: "acme"},
		apptest.Installation{ID: 44, Login: "suspended-co", Suspended: true},
	)
	bb := newFakeOAuth(t, "consumer-key", "consumer-secret")
	github := func(c integrations.GitHubConfig) integrations.Config {
		c.APIBaseURL = gh.URL
		return integrations.Config{GitHub: []integrations.GitHubConfig{c}}
	}
	gitlab := integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4"}}}
	pat := secret("ghp_hostwide")
	user := Static(Credential{Kind: KindUser, Token: "ghu_signedin", Source: "user alice"})
	failingUser := SourceFunc(func(context.Context) (*Credential, error) {
		return nil, errcode.New(errcode.Unauthorized, "test", "refresh token revoked")
	})
	scoped := func(owner, tok string) integrations.ScopedCredential {
		return integrations.ScopedCredential{Owners: []string{owner}, Token: secret(tok)}
	}
	public := func(c *integrations.GitHubAppConfig) { c.PublicAccess = true }
	second := func(c *integrations.GitHubAppConfig) { c.AppID = apptest.AppID2 }
	otherKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey := func(c *integrations.GitHubAppConfig) {
		c.PrivateKey = secret(string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(otherKey)})))
	}

	const (
		app0     = "integrations.github[0].apps[0] (app 4242)"
		token    = "integrations.github[0].token"
		cred0    = "integrations.github[0].credentials[0]"
		cred1    = "integrations.github[0].credentials[1]"
		notTried = "not tried after the app error"
	)
	noUser := Candidate{"user token", Skipped, "none passed"}

	tests := []struct {
		name       string
		config     integrations.Config
		opts       *ResolverOptions
		req        Request
		want       []Candidate // a Why ending in "…" is compared as a prefix
		wantSource string
		wantCode   errcode.Code
	}{
		{name: "user chosen", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()}}),
			req:        Request{Host: "github.com", Owner: "acme", User: user},
			want:       []Candidate{{"user token", Chosen, "passed in the request"}},
			wantSource: "user alice"},
		{name: "user refused by policy", config: github(integrations.GitHubConfig{Token: pat}),
			req:        Request{Host: "github.com", Owner: "acme", User: user, Policy: NoUser},
			want:       []Candidate{{"user token", Skipped, "not used (NoUser policy)"}, {token, Chosen, "the integration's own token"}},
			wantSource: token},
		{name: "user required but none passed", config: github(integrations.GitHubConfig{Token: pat}),
			req:      Request{Host: "github.com", Owner: "acme", Policy: RequireUser},
			want:     []Candidate{noUser},
			wantCode: errcode.Unauthorized},
		{name: "user source fails", config: github(integrations.GitHubConfig{Token: pat}),
			req:      Request{Host: "github.com", Owner: "acme", User: failingUser},
			want:     []Candidate{{"user token", Failed, "refresh token revoked"}},
			wantCode: errcode.Unauthorized},
		{name: "app chosen", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()},
			Credentials: []integrations.ScopedCredential{scoped("acme", "ghp_acme")}}),
			req:        Request{Host: "github.com", Owner: "acme", Repo: "widgets"},
			want:       []Candidate{noUser, {app0, Chosen, "installed for owner acme (installation 42)"}},
			wantSource: "integrations.github[0].apps[0] installation 42"},
		{name: "app JWT for a request with no owner", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()}}),
			req:        Request{Host: "github.com"},
			want:       []Candidate{noUser, {app0, Chosen, "the app's JWT, as the request names no owner"}},
			wantSource: "integrations.github[0].apps[0] jwt"},
		{name: "app not installed, then scoped", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()},
			Credentials: []integrations.ScopedCredential{scoped("other-org", "ghp_other"), scoped("acme-labs", "ghp_labs")}}),
			req: Request{Host: "github.com", Owner: "acme-labs"},
			want: []Candidate{noUser,
				{app0, Skipped, "not installed for owner acme-labs; install it on acme-labs, or configure another credential for it"},
				{cred0, Skipped, "owner acme-labs is not in its owners"},
				{cred1, Chosen, "owner acme-labs is in its owners"}},
			wantSource: cred1},
		{name: "app error returned", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()},
			Credentials: []integrations.ScopedCredential{scoped("suspended-co", "ghp_s")}}),
			req: Request{Host: "github.com", Owner: "suspended-co"},
			want: []Candidate{noUser,
				{app0, Failed, "app 4242 (integrations.github[0].apps[0])'s installation 44 for suspended-co is suspended; …"},
				{cred0, NotTried, notTried},
				{token, NotTried, notTried}},
			wantCode: errcode.PermissionDenied},
		{name: "app error, no token configured", config: github(integrations.GitHubConfig{Apps: []integrations.GitHubAppConfig{app(wrongKey)}}),
			req: Request{Host: "github.com", Owner: "acme"},
			want: []Candidate{noUser,
				{app0, Failed, "GitHub rejected the JWT of app 4242 (integrations.github[0].apps[0]) for …"},
				{token, Skipped, "not configured"}},
			wantCode: errcode.Unauthorized},
		{name: "a later app wins over an earlier app error", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app(wrongKey, second), app()}}),
			req: Request{Host: "github.com", Owner: "acme"},
			want: []Candidate{noUser,
				{"integrations.github[0].apps[0] (app 4343)", Failed, "GitHub rejected the JWT of app 4343 (integrations.github[0].apps[0]) for …"},
				{"integrations.github[0].apps[1] (app 4242)", Chosen, "installed for owner acme (installation 42)"}},
			wantSource: "integrations.github[0].apps[1] installation 42"},
		{name: "scoped chosen", config: github(integrations.GitHubConfig{Token: pat,
			Credentials: []integrations.ScopedCredential{scoped("other-org", "ghp_other"), scoped("Acme", "ghp_acme")}}),
			req:        Request{Host: "github.com", Owner: "acme"},
			want:       []Candidate{noUser, {cred0, Skipped, "owner acme is not in its owners"}, {cred1, Chosen, "owner acme is in its owners"}},
			wantSource: cred1},
		{name: "GitLab: the nearest group's credential", config: integrations.Config{GitLab: []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4",
			Credentials: []integrations.ScopedCredential{scoped("acme", "glpat-acme"), scoped("acme/platform", "glpat-platform")}}}},
			req: Request{Host: "gitlab.example.com", Owner: "acme/platform/team"},
			want: []Candidate{noUser,
				{"integrations.gitlab[0].credentials[0]", Skipped, "group acme covers acme/platform/team, but integrations.gitlab[0].credentials[1] names a nearer one"},
				{"integrations.gitlab[0].credentials[1]", Chosen, "group acme/platform, a parent of acme/platform/team, is in its owners"}},
			wantSource: "integrations.gitlab[0].credentials[1]"},
		{name: "host token chosen", config: github(integrations.GitHubConfig{Token: pat, Apps: []integrations.GitHubAppConfig{app()},
			Credentials: []integrations.ScopedCredential{scoped("other-org", "ghp_other")}}),
			req: Request{Host: "github.com", Owner: "acme-labs", Write: true},
			want: []Candidate{noUser,
				{app0, Skipped, "not installed for owner acme-labs; …"},
				{cred0, Skipped, "owner acme-labs is not in its owners"},
				{token, Chosen, "the integration's own token"}},
			wantSource: token},
		{name: "publicAccess chosen", config: github(integrations.GitHubConfig{Apps: []integrations.GitHubAppConfig{app(public)}}),
			req: Request{Host: "github.com", Owner: "acme-labs"},
			want: []Candidate{noUser,
				{app0, Skipped, "not installed for owner acme-labs; …"},
				{token, Skipped, "not configured"},
				{"integrations.github[0].apps[0] (app 4242, publicAccess)", Chosen, "installation 42's token, for a read"}},
			wantSource: "integrations.github[0].apps[0] installation 42 (publicAccess)"},
		{name: "OAuth consumer chosen", config: integrations.Config{BitbucketCloud: []integrations.BitbucketCloudConfig{{
			ClientID: "consumer-key", ClientSecret: secret("consumer-secret"), TokenURL: bb.URL, Token: secret("ATCTT-access")}}},
			req:        Request{Host: "bitbucket.org", Owner: "acme"},
			want:       []Candidate{noUser, {"integrations.bitbucketCloud[0] (OAuth consumer)", Chosen, "the OAuth consumer's client-credentials token"}},
			wantSource: "integrations.bitbucketCloud[0] oauth consumer"},
		{name: "anonymous chosen", config: gitlab,
			req:        Request{Host: "gitlab.example.com", Owner: "acme"},
			want:       []Candidate{noUser, {"integrations.gitlab[0].token", Skipped, "not configured"}, {"anonymous", Chosen, "a read, and no credential applies"}},
			wantSource: "anonymous (no credential for gitlab.example.com)"},
		{name: "nothing fits", config: gitlab,
			req:      Request{Host: "gitlab.example.com", Owner: "acme", Write: true},
			want:     []Candidate{noUser, {"integrations.gitlab[0].token", Skipped, "not configured"}, {"anonymous", Skipped, "not for writes"}},
			wantCode: errcode.Unauthorized},
		{name: "nothing fits: NoAnonymous", config: gitlab, opts: &ResolverOptions{NoAnonymous: true},
			req:      Request{Host: "gitlab.example.com", Owner: "acme"},
			want:     []Candidate{noUser, {"integrations.gitlab[0].token", Skipped, "not configured"}, {"anonymous", Skipped, "not allowed (NoAnonymous policy)"}},
			wantCode: errcode.Unauthorized},
		{name: "host with no integration, allowed", config: github(integrations.GitHubConfig{Token: pat}),
			opts:       &ResolverOptions{AllowAnonymous: func(u string) bool { return strings.HasPrefix(u, "https://docs.example.com/") }},
			req:        Request{URL: "https://docs.example.com/catalog-info.yaml"},
			want:       []Candidate{{"anonymous", Chosen, "no integration is configured for host docs.example.com, and backend.reading.allow allows the URL"}},
			wantSource: "anonymous (backend.reading.allow)"},
		{name: "host with no integration, refused", config: github(integrations.GitHubConfig{Token: pat}),
			req:      Request{URL: "https://evil.example.com/acme/widgets"},
			want:     []Candidate{{"anonymous", Skipped, "no integration is configured for host evil.example.com and it is not in backend.reading.allow"}},
			wantCode: errcode.PermissionDenied},
		{name: "refused before any candidate", config: github(integrations.GitHubConfig{Token: pat}),
			req:      Request{Host: "github.com", Policy: RequireUser | NoUser},
			want:     nil,
			wantCode: errcode.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tableResolver(t, tt.config, tt.opts)
			c, got, err := r.Explain(t.Context(), tt.req)
			if code := errcode.CodeOf(err); code != tt.wantCode {
				t.Errorf("Explain error = %v; want code %v", err, tt.wantCode)
			}
			if tt.wantCode == errcode.OK && (c == nil || c.Source != tt.wantSource) {
				t.Errorf("Explain credential = %v; want one from %s", c, tt.wantSource)
			}
			if diff := cmp.Diff(tt.want, elide(got, tt.want)); diff != "" {
				t.Errorf("Explain(%v) candidates (-want +got):\n%s", tt.req, diff)
			}
			for _, cand := range got {
				mustNotContain(t, "candidate", fmt.Sprintf("%v %+v %#v", cand, cand, cand),
					"ghp_", "glpat-", "ATCTT", "consumer-secret", "ghs_", "ghu_", "PRIVATE KEY")
			}

			// Resolve takes the same path to the same answer.
			rc, rerr := r.Resolve(t.Context(), tt.req)
			if fmt.Sprint(rerr) != fmt.Sprint(err) {
				t.Errorf("Resolve error = %v; want Explain's %v", rerr, err)
			}
			if (rc == nil) != (c == nil) || (rc != nil && rc.Source != c.Source) {
				t.Errorf("Resolve = %v; want Explain's %v", rc, c)
			}
		})
	}
}

// elide shortens each got Why to the prefix of the matching want Why that
// ends in "…", so that long messages from GitHub are compared by prefix.
func elide(got, want []Candidate) []Candidate {
	if got == nil {
		return nil
	}
	out := append([]Candidate(nil), got...)
	for i := range out {
		if i >= len(want) {
			break
		}
		if prefix, ok := strings.CutSuffix(want[i].Why, "…"); ok && strings.HasPrefix(out[i].Why, prefix) {
			out[i].Why = want[i].Why
		}
	}
	return out
}

// TestExplainCachedMakesNoRequests: explaining a cached owner costs what
// resolving it costs, no request.
func TestExplainCachedMakesNoRequests(t *testing.T) {
	r, req, gh := cachedResolver(t)
	before := gh.Requests()
	c, cands, err := r.Explain(t.Context(), req)
	if err != nil || c.Kind != KindApp {
		t.Fatalf("Explain = %v, %v; want the app credential", c, err)
	}
	if n := len(cands); n != 2 || cands[n-1].Outcome != Chosen {
		t.Errorf("candidates = %v; want the user token skipped and the app chosen", cands)
	}
	if n := gh.Requests() - before; n != 0 {
		t.Errorf("Explain for a cached owner made %d requests; want 0", n)
	}
}

func TestOutcomeText(t *testing.T) {
	tests := []struct {
		name string
		o    Outcome
		want string
	}{
		{"chosen", Chosen, "Chosen"},
		{"skipped", Skipped, "Skipped"},
		{"failed", Failed, "Failed"},
		{"not tried", NotTried, "NotTried"},
		{"zero", 0, "Outcome(0)"},
		{"out of range", 9, "Outcome(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.String(); got != tt.want {
				t.Errorf("String() = %q; want %q", got, tt.want)
			}
			var back Outcome
			err := back.UnmarshalText([]byte(tt.o.String()))
			switch {
			case tt.o >= Chosen && tt.o <= NotTried && (err != nil || back != tt.o):
				t.Errorf("UnmarshalText(%q) = %v, %v; want %v", tt.o, back, err, tt.o)
			case (tt.o < Chosen || tt.o > NotTried) && errcode.CodeOf(err) != errcode.InvalidArgument:
				t.Errorf("UnmarshalText(%q) = %v; want InvalidArgument", tt.o, err)
			}
		})
	}
}

func TestCandidateFormats(t *testing.T) {
	c := Candidate{What: "integrations.github[0].token", Outcome: Chosen, Why: "the integration's own token"}
	const line = "integrations.github[0].token: Chosen (the integration's own token)"
	if got := fmt.Sprint(c); got != line {
		t.Errorf("fmt.Sprint = %q; want %q", got, line)
	}
	const goSyntax = `credentials.Candidate{What:"integrations.github[0].token", Outcome:credentials.Chosen, Why:"the integration's own token"}`
	if got := fmt.Sprintf("%#v", c); got != goSyntax {
		t.Errorf("%%#v = %s; want %s", got, goSyntax)
	}
	if got := fmt.Sprintf("%#v", Outcome(7)); got != "credentials.Outcome(7)" {
		t.Errorf("%%#v of an unknown outcome = %s; want credentials.Outcome(7)", got)
	}
	if got := fmt.Sprintf("%v", []Candidate{c}); got != "["+line+"]" {
		t.Errorf("%%v of a slice = %q; want [%s]", got, line)
	}
	js, err := json.Marshal([]Candidate{c})
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `[{"what":"integrations.github[0].token","outcome":"Chosen","why":"the integration's own token"}]`
	if string(js) != wantJSON {
		t.Errorf("JSON = %s; want %s", js, wantJSON)
	}
	var back []Candidate
	if err := json.Unmarshal(js, &back); err != nil || len(back) != 1 || back[0] != c {
		t.Errorf("JSON round trip = %v, %v; want [%v]", back, err, c)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})).Info("resolved", "candidate", c)
	const wantLog = `{"level":"INFO","msg":"resolved","candidate":{"what":"integrations.github[0].token","outcome":"Chosen","why":"the integration's own token"}}` + "\n"
	if buf.String() != wantLog {
		t.Errorf("slog JSON = %s; want %s", buf.String(), wantLog)
	}
}

// BenchmarkExplainCached is BenchmarkResolveCached with the trace.
func BenchmarkExplainCached(b *testing.B) {
	r, req, _ := cachedResolver(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := r.Explain(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
