package auth_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
)

// A Backstage config whose GitHub provider resolves by e-mail without the
// user:email scope signed nobody in (GitHub's e-mail is verified only
// with it) and said nothing at start; a typo in a provider's block was
// ignored silently. NewHandler now warns about both.
func TestProviderWarnings(t *testing.T) {
	doc := []byte(`
auth:
  environment: development
  session:
    secret: a-session-secret-of-32-characters
  providers:
    github:
      development:
        clientId: id
        clientSecret: s
        callbackURL: https://oops.example.com/cb
        enterpriseInstanceUri: https://ghe.example.com
        clientid: other
        additionalScopes: [repo]
        signIn:
          resolvers:
            - resolver: emailMatchingUserEntityProfileEmail
    gitlab:
      development:
        clientId: id
        clientSecret: s
        signIn:
          resolvers:
            - resolver: emailMatchingUserEntityProfileEmail
`)
	_, ac := loadAuth(t, doc)
	_, warnings, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth"})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(warnings, "\n")
	for _, want := range []string{
		"auth.providers.github.development.callbackURL: read as callbackUrl, which is how Backstage spells it",
		"auth.providers.github.development.enterpriseInstanceUri: not a key scmkit reads for github; ignored (a typo?)",
		"auth.providers.github.development.clientid: clientId is set too; scmkit reads whichever of the two comes last, Backstage only clientId: remove clientid",
		"auth.providers.github.development.signIn: emailMatchingUserEntityProfileEmail matches only an e-mail address GitHub verifies",
		"add user:email to auth.providers.github.development.additionalScopes",
	} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings %q do not say %q", w, want)
		}
	}
	if strings.Contains(w, "gitlab") || strings.Contains(w, "oops") {
		t.Errorf("warnings %q: want none about gitlab (its e-mail needs no scope), and no value", w)
	}

	ok := []byte(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(string(doc), "        callbackURL: https://oops.example.com/cb\n", ""), "        enterpriseInstanceUri: https://ghe.example.com\n", ""), "        clientid: other\n", ""), "[repo]", "[repo, user:email]"))
	_, ac = loadAuth(t, ok)
	if _, warnings, err := ac.NewHandler(&auth.Options{BaseURL: "https://portal.example.com/api/auth"}); err != nil || len(warnings) != 0 {
		t.Errorf("with user:email and no typo: %q, %v; want no warning", warnings, err)
	}
}
