package auth_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// A logout ends the session even when the browser gives up on it while
// GitLab's /oauth/revoke is slow (the request's context ends): the
// session is deleted first, and the revocation does not run under the
// request's context.
func TestLogoutEndsSessionWhileRevokeIsSlow(t *testing.T) {
	p, c := signedInGitLabBehind(t, func(w http.ResponseWriter, r *http.Request) {
		select { // GitLab slow to answer
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
		w.Write([]byte("{}"))
	})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.srv.URL+"/api/auth/gitlab/logout", nil)
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
	}
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		if st := pageStatus(t, p, c); st == http.StatusUnauthorized {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("5 s after a logout the user gave up on while GitLab was slow to revoke, the session is still served")
}
