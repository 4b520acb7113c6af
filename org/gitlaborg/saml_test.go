package gitlaborg_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/gitlaborg"
	"github.com/scmkit/scmkit/scm/scmtest/fakegitlab"
)

// samlMembers adds group_saml_identity to the members that
// GET /groups/:id/members/all lists, as gitlab.com shows them to the
// group's owners when the group has SAML single sign-on ({"extern_uid",
// "provider": "group_saml", "saml_provider_id"}); fakegitlab does not
// serve the field.
type samlMembers map[string]string // username -> extern_uid

func (m samlMembers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/members/all") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var list []map[string]any
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, err
	}
	for _, u := range list {
		if uid, ok := m[u["username"].(string)]; ok {
			u["group_saml_identity"] = map[string]any{"extern_uid": uid, "provider": "group_saml", "saml_provider_id": 7}
		}
	}
	body, _ = json.Marshal(list)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestSaaSSAMLIdentity: on gitlab.com, a member's group SAML identity
// becomes Backstage's gitlab.com/saml-external-uid annotation, as
// Backstage's default user transformer writes it; a member without one
// has none.
func TestSaaSSAMLIdentity(t *testing.T) {
	fake := fakegitlab.New(&fakegitlab.Options{Tokens: []string{token}})
	t.Cleanup(fake.Close)
	reg, err := integrations.NewRegistry(integrations.Config{GitLab: []integrations.GitLabConfig{{
		Host: "gitlab.com", APIBaseURL: fake.APIBaseURL(), BaseURL: fake.URL(), Token: integrations.NewSecret(token)}}})
	must(t, err)
	res, err := credentials.NewResolver(reg, nil)
	must(t, err)
	must(t, fake.AddGroupMember("acme", fakegitlab.Member{Username: "carol"}))
	must(t, fake.AddGroupMember("acme/platform", fakegitlab.Member{Username: "bob"}))
	r, err := gitlaborg.New(gitlaborg.Config{ID: "saas", Host: "gitlab.com", OrgEnabled: true, Group: "acme"},
		&gitlaborg.Options{Registry: reg, Resolver: res, Transport: samlMembers{"carol": "carol@acme.example"}, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond})
	must(t, err)
	snap, err := r.Read(context.Background())
	must(t, err)
	if c := snap.User(org.UserRef("", "carol")); c == nil || c.Metadata.Annotations["gitlab.com/saml-external-uid"] != "carol@acme.example" {
		t.Errorf("carol = %+v, want gitlab.com/saml-external-uid carol@acme.example", c)
	}
	if b := snap.User(org.UserRef("", "bob")); b == nil || b.Metadata.Annotations["gitlab.com/saml-external-uid"] != "" {
		t.Errorf("bob = %+v, want no SAML annotation", b)
	}
}
