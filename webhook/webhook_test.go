package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

const secret = "s3cr3t-webhook-secret"

func registry(t testing.TB) *integrations.Registry {
	t.Helper()
	reg, err := integrations.NewRegistry(integrations.Config{
		GitHub: []integrations.GitHubConfig{{Host: "github.com", Apps: []integrations.GitHubAppConfig{{
			AppID: 1, ClientID: "Iv1.x", ClientSecret: integrations.NewSecret("cs"), PrivateKey: integrations.NewSecret(testKey),
			WebhookSecret: integrations.NewSecret(secret),
		}}}},
		GitLab:          []integrations.GitLabConfig{{Host: "gitlab.example.com", APIBaseURL: "https://gitlab.example.com/api/v4", Token: integrations.NewSecret("t")}},
		BitbucketServer: []integrations.BitbucketServerConfig{{Host: "bitbucket.example.com", Token: integrations.NewSecret("t")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func sign(body []byte, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newReceiver(t testing.TB, host string, opts *Options) *Receiver {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if host != "github.com" && opts.Secrets == nil {
		opts.Secrets = []integrations.Secret{integrations.NewSecret(secret)}
	}
	r, err := New(registry(t), host, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func githubHeaders(body []byte, delivery string) http.Header {
	return http.Header{
		"X-Github-Event":      {"push"},
		"X-Github-Delivery":   {delivery},
		"X-Hub-Signature-256": {sign(body, secret)},
	}
}

func TestGitHubPush(t *testing.T) {
	r := newReceiver(t, "github.com", nil) // the app's webhookSecret
	body := load(t, "github-push.json")
	ev, err := r.Parse(t.Context(), githubHeaders(body, "d1"), body)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Path: "catalog-info.yaml", URL: "https://github.com/acme/service/blob/main/catalog-info.yaml", Action: Modified},
		{Path: "legacy/catalog-info.yaml", URL: "https://github.com/acme/service/blob/main/legacy/catalog-info.yaml", Action: Removed},
		// added, then modified in a later commit: added.
		{Path: "orders/catalog-info.yaml", URL: "https://github.com/acme/service/blob/main/orders/catalog-info.yaml", Action: Added},
		// scratch/catalog-info.yaml was added and removed: no change.
	}
	if diff := cmp.Diff(want, ev.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if !ev.Complete || ev.Ignored != "" || ev.Owner != "acme" || ev.Repo != "service" || ev.Branch != "main" || ev.DefaultBranch != "main" {
		t.Errorf("event = %+v", ev)
	}
	if ev.RepoURL != "https://github.com/acme/service" || ev.After != "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c" {
		t.Errorf("RepoURL %q After %q", ev.RepoURL, ev.After)
	}
}

func TestGitLabPush(t *testing.T) {
	r := newReceiver(t, "gitlab.example.com", nil)
	body := load(t, "gitlab-push.json")
	h := http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {secret}, "X-Gitlab-Event-Uuid": {"u1"}}
	ev, err := r.Parse(t.Context(), h, body)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Path: "catalog-info.yaml", URL: "https://gitlab.example.com/mike/diaspora/-/blob/master/catalog-info.yaml", Action: Modified},
		{Path: "docs/catalog-info.yaml", URL: "https://gitlab.example.com/mike/diaspora/-/blob/master/docs/catalog-info.yaml", Action: Added},
	}
	if diff := cmp.Diff(want, ev.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if !ev.Complete || ev.Owner != "mike" || ev.Repo != "diaspora" {
		t.Errorf("event = %+v", ev)
	}

	// More commits than listed: incomplete.
	trunc := bytes.Replace(body, []byte(`"total_commits_count": 2`), []byte(`"total_commits_count": 31`), 1)
	h.Set("X-Gitlab-Event-Uuid", "u2")
	ev, err = r.Parse(t.Context(), h, trunc)
	if err != nil || ev.Complete || !strings.Contains(ev.Incomplete, "20 commits") {
		t.Errorf("truncated push: %+v, %v", ev, err)
	}
}

func TestBitbucketServerPush(t *testing.T) {
	var asked atomic.Int32
	r := newReceiver(t, "bitbucket.example.com", &Options{DefaultBranch: func(_ context.Context, owner, repo string) (string, error) {
		asked.Add(1)
		if owner != "PROJ" || repo != "repository" {
			return "", fmt.Errorf("unexpected %s/%s", owner, repo)
		}
		return "master", nil
	}})
	body := load(t, "bitbucketserver-refs-changed.json")
	h := http.Header{"X-Event-Key": {"repo:refs_changed"}, "X-Request-Id": {"r1"}, "X-Hub-Signature": {sign(body, secret)}}
	ev, err := r.Parse(t.Context(), h, body)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Complete || ev.Ignored != "" || ev.Branch != "master" || ev.Before != "ecddabb624f6f5ba43816f5926e580a5f680a932" || ev.Owner != "PROJ" || asked.Load() != 1 {
		t.Errorf("event = %+v", ev)
	}
	if ev.RepoURL == "" || !strings.Contains(ev.Incomplete, "re-read") {
		t.Errorf("RepoURL %q Incomplete %q", ev.RepoURL, ev.Incomplete)
	}
}

func TestBitbucketCloudPush(t *testing.T) {
	r := newReceiver(t, "bitbucket.org", nil)
	body := load(t, "bitbucketcloud-push.json")
	h := http.Header{"X-Event-Key": {"repo:push"}, "X-Request-Uuid": {"c1"}, "X-Hub-Signature": {sign(body, secret)}}
	ev, err := r.Parse(t.Context(), h, body)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Complete || ev.Branch != "main" || ev.Owner != "acme" || ev.Repo != "service" || ev.After != "709d658dc5b6d6afcd46049c2f332ee3f515a67d" {
		t.Errorf("event = %+v", ev)
	}
}

func TestBadInput(t *testing.T) {
	body := load(t, "github-push.json")
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		code   errcode.Code
	}{
		{"no signature", http.Header{"X-Github-Event": {"push"}, "X-Github-Delivery": {"x"}}, body, errcode.Unauthorized},
		{"forged signature", http.Header{"X-Github-Event": {"push"}, "X-Github-Delivery": {"x"}, "X-Hub-Signature-256": {sign(body, "not-the-secret")}}, body, errcode.Unauthorized},
		{"signature of another body", githubHeaders([]byte("{}"), "x"), body, errcode.Unauthorized},
		{"sha1 signature", http.Header{"X-Github-Event": {"push"}, "X-Github-Delivery": {"x"}, "X-Hub-Signature-256": {"sha1=0123"}}, body, errcode.Unauthorized},
		{"not JSON", githubHeaders([]byte("not json"), "x"), []byte("not json"), errcode.InvalidArgument},
		{"no delivery id", githubHeaders(body, ""), body, errcode.InvalidArgument},
		{"oversized", githubHeaders(bytes.Repeat([]byte(" "), 2<<20), "x"), bytes.Repeat([]byte(" "), 2<<20), errcode.InvalidArgument},
	}
	other := bytes.Replace(body, []byte(`"html_url": "https://github.com/acme/service"`), []byte(`"html_url": "https://gitlab.example.com/acme/service"`), 1)
	tests = append(tests, struct {
		name   string
		header http.Header
		body   []byte
		code   errcode.Code
	}{"another host's repository", githubHeaders(other, "x"), other, errcode.InvalidArgument})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := NewMemoryDeliveries(10, nil)
			r := newReceiver(t, "github.com", &Options{MaxBodyBytes: 1 << 20, Deliveries: store})
			ev, err := r.Parse(t.Context(), tt.header, tt.body)
			if errcode.CodeOf(err) != tt.code || ev != nil {
				t.Fatalf("Parse = %v, %v; want code %v", ev, err, tt.code)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "acme") && tt.code == errcode.Unauthorized {
				t.Errorf("error tells too much: %v", err)
			}
			if store.order.Len() != 0 {
				t.Error("a refused event was recorded as delivered")
			}
		})
	}
}

func TestGitLabWrongToken(t *testing.T) {
	r := newReceiver(t, "gitlab.example.com", nil)
	body := load(t, "gitlab-push.json")
	for _, tok := range []string{"", "wrong", secret + "x", secret[:5]} {
		h := http.Header{"X-Gitlab-Event": {"Push Hook"}, "X-Gitlab-Token": {tok}, "X-Gitlab-Event-Uuid": {"u"}}
		if _, err := r.Parse(t.Context(), h, body); errcode.CodeOf(err) != errcode.Unauthorized {
			t.Errorf("token %q: %v, want Unauthorized", tok, err)
		}
	}
}

func TestDuplicateAndNonDefaultBranch(t *testing.T) {
	r := newReceiver(t, "github.com", nil)
	body := load(t, "github-push.json")
	if _, err := r.Parse(t.Context(), githubHeaders(body, "same"), body); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Parse(t.Context(), githubHeaders(body, "same"), body); !errors.Is(err, errcode.ErrAlreadyExists) {
		t.Errorf("replayed delivery: %v, want AlreadyExists", err)
	}

	feature := bytes.Replace(body, []byte(`"ref": "refs/heads/main"`), []byte(`"ref": "refs/heads/feature/x"`), 1)
	ev, err := r.Parse(t.Context(), githubHeaders(feature, "f"), feature)
	if err != nil || !strings.Contains(ev.Ignored, "not the default branch") || len(ev.Changes) != 0 {
		t.Errorf("push to a feature branch: %+v, %v", ev, err)
	}
	tag := bytes.Replace(body, []byte(`"ref": "refs/heads/main"`), []byte(`"ref": "refs/tags/v1"`), 1)
	ev, err = r.Parse(t.Context(), githubHeaders(tag, "t"), tag)
	if err != nil || ev.Ignored == "" || len(ev.Changes) != 0 {
		t.Errorf("tag push: %+v, %v", ev, err)
	}
	forced := bytes.Replace(body, []byte(`"forced": false`), []byte(`"forced": true`), 1)
	ev, err = r.Parse(t.Context(), githubHeaders(forced, "fo"), forced)
	if err != nil || ev.Complete {
		t.Errorf("forced push reported complete: %+v, %v", ev, err)
	}
}

func TestNoSecretRefused(t *testing.T) {
	if _, err := New(registry(t), "gitlab.example.com", nil); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("New without a secret = %v, want InvalidArgument", err)
	}
	if _, err := New(registry(t), "unknown.example.com", &Options{Secrets: []integrations.Secret{integrations.NewSecret("x")}}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("New for an unknown host = %v", err)
	}
	if _, err := New(registry(t), "github.com", &Options{CatalogFiles: []string{"["}}); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("New with a bad pattern = %v", err)
	}
}

func TestHandler(t *testing.T) {
	r := newReceiver(t, "github.com", &Options{MaxBodyBytes: 64 << 10})
	var handled atomic.Int32
	fail := atomic.Bool{}
	srv := httptest.NewServer(r.Handler(func(ctx context.Context, ev *Event) error {
		handled.Add(1)
		if fail.Load() {
			return errors.New("catalog down")
		}
		return nil
	}))
	defer srv.Close()
	body := load(t, "github-push.json")
	post := func(h http.Header, b []byte) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(b))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		out.ReadFrom(resp.Body)
		if strings.Contains(out.String(), secret) || strings.Contains(out.String(), "Monalisa") {
			t.Errorf("response echoes a secret or the body: %q", out.String())
		}
		return resp.StatusCode
	}
	fail.Store(true)
	if got := post(githubHeaders(body, "h1"), body); got != http.StatusInternalServerError {
		t.Errorf("failing handler: %d", got)
	}
	fail.Store(false)
	if got := post(githubHeaders(body, "h1"), body); got != http.StatusNoContent {
		t.Errorf("redelivery after a failure: %d, want 204", got)
	}
	if got := post(githubHeaders(body, "h1"), body); got != http.StatusOK {
		t.Errorf("duplicate: %d, want 200", got)
	}
	if got := post(http.Header{"X-Github-Event": {"push"}, "X-Github-Delivery": {"h2"}}, body); got != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", got)
	}
	big := bytes.Repeat([]byte("x"), 100<<10)
	if got := post(githubHeaders(big, "h3"), big); got != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized: %d", got)
	}
	if handled.Load() != 2 {
		t.Errorf("handler ran %d times, want 2", handled.Load())
	}
}

func TestMemoryDeliveriesExpiryAndBound(t *testing.T) {
	now := time.Unix(0, 0)
	m := NewMemoryDeliveries(2, func() time.Time { return now })
	ctx := t.Context()
	seen := func(id string) bool { s, _ := m.Seen(ctx, id, time.Minute); return s }
	if seen("a") || !seen("a") {
		t.Fatal("a not remembered")
	}
	now = now.Add(2 * time.Minute)
	if seen("a") {
		t.Error("expired id still seen")
	}
	seen("b")
	seen("c") // evicts a
	if seen("a") {
		t.Error("the bound did not evict the oldest id")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"ref":"refs/heads/main","repository":{"html_url":"https://github.com/a/b","default_branch":"main"},"commits":[{"added":["catalog-info.yaml"]}]}`))
	f.Add([]byte(`{"commits":[{"timestamp":"x"}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := newReceiver(t, "github.com", nil)
		ev, err := r.Parse(context.Background(), githubHeaders(body, "f"), body)
		if err == nil {
			for _, c := range ev.Changes {
				if !r.isCatalog(c.Path) {
					t.Fatalf("non-catalog path %q reported", c.Path)
				}
			}
			if ev.Ignored != "" && len(ev.Changes) > 0 {
				t.Fatal("an ignored event has changes")
			}
		} else if errcode.CodeOf(err) == errcode.Unknown {
			t.Fatalf("unclassified error: %v", err)
		}
	})
}

// testKey is an RSA private key for the app entry; the registry checks its
// form, and nothing here signs with it.
var testKey = func() string {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}()

// TestReplayUnderFreshDeliveryID: the delivery id header is not signed, so
// a captured event replayed with a new id must still be a duplicate.
func TestReplayUnderFreshDeliveryID(t *testing.T) {
	r := newReceiver(t, "github.com", nil)
	body := load(t, "github-push.json")
	ev, err := r.Parse(t.Context(), githubHeaders(body, "original"), body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Parse(t.Context(), githubHeaders(body, "forged-fresh-id"), body); !errors.Is(err, errcode.ErrAlreadyExists) {
		t.Errorf("replay under a fresh delivery id: %v, want AlreadyExists", err)
	}
	// A caller of Parse whose handling failed forgets the delivery; the
	// provider's redelivery (same id, same body) is then handled.
	if err := r.Forget(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Parse(t.Context(), githubHeaders(body, "original"), body); err != nil {
		t.Errorf("redelivery after Forget: %v", err)
	}
}

func TestDeliveryIDTooLong(t *testing.T) {
	r := newReceiver(t, "github.com", nil)
	body := load(t, "github-push.json")
	if _, err := r.Parse(t.Context(), githubHeaders(body, strings.Repeat("x", 64<<10)), body); errcode.CodeOf(err) != errcode.InvalidArgument {
		t.Errorf("64 KiB delivery id: %v, want InvalidArgument", err)
	}
}

// failingStore fails as a store might, with an error whose code is
// AlreadyExists.
type failingStore struct{}

func (failingStore) Seen(context.Context, string, time.Duration) (bool, error) {
	return false, errcode.New(errcode.AlreadyExists, "redis", "key exists")
}
func (failingStore) Forget(context.Context, string) error { return nil }

func TestStoreFailure(t *testing.T) {
	r := newReceiver(t, "github.com", &Options{Deliveries: failingStore{}})
	body := load(t, "github-push.json")
	if _, err := r.Parse(t.Context(), githubHeaders(body, "s1"), body); errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("store failure: %v, want Unavailable", err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header = githubHeaders(body, "s1")
	r.Handler(func(context.Context, *Event) error { t.Error("handler called"); return nil }).ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("store failure answered %d, want 503", rec.Code)
	}
}

// TestCommitTimesOutOfOrder: a rebased commit keeps its author's old
// timestamp. Listed order: catalog-info.yaml removed, then re-added by a
// commit stamped earlier. The file exists after the push; time order says
// it does not. The event must not claim to be complete.
func TestCommitTimesOutOfOrder(t *testing.T) {
	r := newReceiver(t, "github.com", nil)
	body := []byte(`{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
"created":false,"deleted":false,"forced":false,
"commits":[
 {"id":"1481a2de7b2a7d02428ad93446ab166be7793fbb","timestamp":"2026-11-30T10:00:00Z","added":[],"removed":["catalog-info.yaml"],"modified":[]},
 {"id":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","timestamp":"2026-11-01T09:00:00Z","added":["catalog-info.yaml"],"removed":[],"modified":[]}],
"repository":{"html_url":"https://github.com/acme/service","default_branch":"main"}}`)
	ev, err := r.Parse(t.Context(), githubHeaders(body, "o1"), body)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Complete || !strings.Contains(ev.Incomplete, "time order") {
		t.Errorf("commit order ambiguous but Complete = %v (%q), changes %+v", ev.Complete, ev.Incomplete, ev.Changes)
	}
	// In time order and listed order alike: complete.
	inOrder := bytes.Replace(body, []byte("2026-11-01T09:00:00Z"), []byte("2026-11-30T11:00:00Z"), 1)
	ev, err = r.Parse(t.Context(), githubHeaders(inOrder, "o2"), inOrder)
	if err != nil || !ev.Complete || len(ev.Changes) != 1 || ev.Changes[0].Action != Modified {
		t.Errorf("ordered push: %+v, %v", ev, err)
	}
}

// TestReplaysRecordNothing: replays of one captured event under fresh ids
// are refused without adding records that would push real deliveries out
// of a bounded store, whether the store records a delivery in one batch
// (MemoryDeliveries) or one id at a time (seqStore).
func TestReplaysRecordNothing(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store func(*MemoryDeliveries) DeliveryStore
	}{
		{"batch", func(m *MemoryDeliveries) DeliveryStore { return m }},
		{"one at a time", func(m *MemoryDeliveries) DeliveryStore { return &seqStore{DeliveryStore: m} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemoryDeliveries(0, nil)
			r := newReceiver(t, "github.com", &Options{Deliveries: tt.store(m)})
			body := load(t, "github-push.json")
			if _, err := r.Parse(t.Context(), githubHeaders(body, "real"), body); err != nil {
				t.Fatal(err)
			}
			before := m.order.Len()
			for i := range 50 {
				if _, err := r.Parse(t.Context(), githubHeaders(body, fmt.Sprint("replay-", i)), body); !errors.Is(err, errcode.ErrAlreadyExists) {
					t.Fatalf("replay %d: %v", i, err)
				}
			}
			if got := m.order.Len() - before; got != 0 {
				t.Errorf("50 replays added %d records, want 0", got)
			}
		})
	}
}

func TestReceiverHidesSecrets(t *testing.T) {
	r := newReceiver(t, "gitlab.example.com", nil)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("receiver", "r", r)
	out := fmt.Sprintf("%v %+v %#v", r, r, r) + fmt.Sprint(r) + logs.String()
	if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprint([]byte(secret))) || !strings.Contains(out, "gitlab.example.com") {
		t.Errorf("receiver printed as %s", out)
	}
}
