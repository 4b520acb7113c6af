package fakegithub

import (
	"net/http"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitrecv"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// pushWorld holds the rules that refuse pushes ([Server.RejectPushes]),
// guarded by Server.mu.
type pushWorld struct {
	rules map[string]string // lower-case "owner/name" → refused ref
}

// RejectPushes makes pushes to branch of the repository owner/name (which
// need not exist yet) fail as a GitHub ruleset refuses them: report-status
// "ng refs/heads/<branch> push declined due to repository rule violations"
// with the GH013 message on the progress channel.
func (s *Server) RejectPushes(owner, name, branch string) {
	s.site.Lock()
	defer s.site.Unlock()
	if s.push.rules == nil {
		s.push.rules = map[string]string{}
	}
	s.push.rules[key(owner, name)] = plumbing.NewBranchReferenceName(branch).String()
}

// gitRoutes adds git's smart HTTP push on the web host (where html_url and
// clone_url point; the API's host here, as on GitHub Enterprise Server):
// GET /{owner}/{repo}.git/info/refs?service=git-receive-pack and POST
// /{owner}/{repo}.git/git-receive-pack, the ".git" optional. Fetching
// (git-upload-pack) is not served.
//
// As on GitHub, they take the token as the password of HTTP Basic (user
// name x-access-token, or any): a missing credential (when Options.Tokens
// is not empty), a bad one or a Bearer header gets 401 with
// WWW-Authenticate: Basic realm="GitHub". Installation tokens need
// contents: write on the repository (403 otherwise).
func (s *Server) gitRoutes(mux *http.ServeMux) {
	rv := &gitrecv.Receiver{Store: &s.site.Store, Agent: "github/spokes-receive-pack-fake", Decline: s.declinePush,
		FirstBranchIsDefault: true}
	s.site.Route(mux, "GET /{owner}/{repo}/info/refs", s.gitAuth(rv.Advertise))
	s.site.Route(mux, "POST /{owner}/{repo}/git-receive-pack", s.gitAuth(rv.Receive))
}

// gitAuth checks the Basic credential and the repository, then calls fn
// with the repository's key in the request's path values.
func (s *Server) gitAuth(fn func(w http.ResponseWriter, r *http.Request, rp *repostore.Repo)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, pass, basic := r.BasicAuth()
		asBearer := r.Clone(r.Context())
		asBearer.Header.Del("Authorization")
		if basic {
			asBearer.Header.Set("Authorization", "Bearer "+pass)
		}
		authed, good, it := s.checkAuth(asBearer)
		if (r.Header.Get("Authorization") != "" && !basic) || !good || !authed {
			w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
			gitrecv.Text(w, http.StatusUnauthorized, "Invalid username or token. Password authentication is not supported for Git operations.")
			return
		}
		r = withCaller(r, caller{prefix: callerOf(r).prefix, authed: true, token: it})
		s.site.Lock()
		rp := s.repoLocked(r.PathValue("owner"), strings.TrimSuffix(r.PathValue("repo"), ".git"))
		visible := rp != nil && canSee(r, rp)
		s.site.Unlock()
		switch {
		case !visible:
			gitrecv.Text(w, http.StatusNotFound, "Repository not found.")
		case it != nil && (!it.covers(rp) || it.permissions["contents"] != "write"):
			gitrecv.Text(w, http.StatusForbidden, "Write access to repository not granted.")
		default:
			fn(w, r, rp)
		}
	}
}

// declinePush refuses a push to a ref [Server.RejectPushes] names, as a
// GitHub ruleset does (the store is locked).
func (s *Server) declinePush(rp *repostore.Repo, ref string) (status, remote string) {
	if s.push.rules[key(rp.Owner.Key, rp.Slug)] != ref {
		return "", ""
	}
	return "push declined due to repository rule violations", "error: GH013: Repository rule violations found for " + ref + ".\n"
}
