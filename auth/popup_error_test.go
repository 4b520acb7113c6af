package auth_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/scmkit/scmkit/auth"
)

// A popup sign-in that fails after its state was verified posts Backstage's
// error answer to the app that opened it ({type: authorization_response,
// error: {name, message}}), at the origin sealed in the state, so the app
// shows the error instead of waiting for a message that never comes; the
// page keeps the error's status and shows the message without an opener.
// A callback whose state cannot be verified still gets the plain error
// page: no origin to post to is known.
func TestPopupFlowPostsErrors(t *testing.T) {
	p := newPortal(t, auth.Options{})
	fg := githubWorld(t, false, nil)
	registerGitHub(t, p, fg)
	c := noFollow()
	cb := authorize(t, start(t, c, p, "github", "&origin="+url.QueryEscape(p.srv.URL)))
	q := cb.Query()
	q.Del("code")
	q.Set("error", "access_denied")
	q.Set("error_description", "The user <b>denied</b> access")
	cb.RawQuery = q.Encode()
	resp, body := do(t, c, "GET", cb.String(), nil)
	if resp.StatusCode != 403 || !strings.Contains(body, "Sign-in failed: The provider did not sign you in: access_denied") ||
		strings.Contains(body, "<b>denied</b>") {
		t.Fatalf("callback: %d %s; want 403 showing the escaped message", resp.StatusCode, body)
	}
	script := scriptRE.FindStringSubmatch(body)[1]
	raw, _ := url.PathUnescape(messageRE.FindStringSubmatch(script)[1])
	var msg struct {
		Type  string `json:"type"`
		Error struct {
			Name, Message string
		} `json:"error"`
		Response *auth.Response `json:"response"`
	}
	if err := json.Unmarshal([]byte(raw), &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != "authorization_response" || msg.Error.Name != "AuthenticationError" ||
		!strings.Contains(msg.Error.Message, "access_denied") || msg.Response != nil {
		t.Fatalf("message %+v; want an authorization_response with an AuthenticationError", msg)
	}
	if !strings.Contains(script, `"`+p.srv.URL+`"`) {
		t.Fatalf("the error is not posted to the app's origin: %s", script)
	}

	// A state that cannot be verified: the plain error page, no script.
	resp, body = do(t, noFollow(), "GET", p.h.CallbackURL("github")+"?state=forged&error=access_denied", nil)
	if resp.StatusCode != 400 || strings.Contains(body, "<script>") {
		t.Fatalf("forged state: %d %s; want 400 and no script", resp.StatusCode, body)
	}
}
