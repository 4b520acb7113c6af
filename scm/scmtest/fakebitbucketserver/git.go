package fakebitbucketserver

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/pktline"

	"github.com/scmkit/scmkit/scm/scmtest/internal/gitrecv"
	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// gitRoutes adds git's smart HTTP push where the repository's HTTP clone
// URL points, {context}/scm/{project}/{repo}.git (the project key in any
// case, ".git" optional): GET .../info/refs?service=git-receive-pack and
// POST .../git-receive-pack, served by the same code as the GitHub fake's
// push (scm/scmtest/internal/gitrecv). Fetching (git-upload-pack) is not
// served.
//
// As Data Center, they take the REST API's credentials: an HTTP access
// token as Bearer, or Basic with a username and its password (or a token
// as the password); a missing or bad one gets 401 with
// WWW-Authenticate: Basic realm="Atlassian Bitbucket". A push to an empty
// repository keeps the default branch the repository was created with.
// With Git over HTTP(S) turned off ([Server.SetGitHTTP]), both answer
// 200 with git's ERR packet, as Data Center does (git prints "fatal:
// remote error: SCM access over HTTP(S) has been disabled"); modelled on
// that message, not recorded.
func (s *Server) gitRoutes(mux *http.ServeMux) {
	rv := &gitrecv.Receiver{Store: &s.st.Store, Agent: "git/2.45.2"}
	prefix := s.opts.ContextPath + "/scm/{key}/{repo}"
	s.st.Route(mux, "GET "+prefix+"/info/refs", s.gitAuth(rv.Advertise))
	s.st.Route(mux, "POST "+prefix+"/git-receive-pack", s.gitAuth(rv.Receive))
}

// gitAuth checks the credential and finds the repository, then calls fn
// with the store unlocked (the receiver locks it).
func (s *Server) gitAuth(fn func(w http.ResponseWriter, r *http.Request, rp *repostore.Repo)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.st.Lock()
		off := s.gitHTTPOff
		s.st.Unlock()
		if off {
			ct := "application/x-git-receive-pack-advertisement"
			if r.Method == http.MethodPost {
				ct = "application/x-git-receive-pack-result"
			}
			var b bytes.Buffer
			pktline.NewEncoder(&b).Encode([]byte("ERR SCM access over HTTP(S) has been disabled")) //nolint:errcheck // a short line
			w.Header().Set("Content-Type", ct)
			w.Write(b.Bytes()) //nolint:errcheck // the client went away
			return
		}
		if s.st.Auth.Check(r) != repostore.AuthOK {
			w.Header().Set("WWW-Authenticate", `Basic realm="Atlassian Bitbucket"`)
			gitrecv.Text(w, http.StatusUnauthorized, "Authentication failed. Please check your credentials and try again.")
			return
		}
		s.st.Lock()
		var rp *repostore.Repo
		if o := s.st.FindOwner(r.PathValue("key")); o != nil {
			rp = o.Repos[strings.ToLower(strings.TrimSuffix(r.PathValue("repo"), ".git"))]
		}
		s.st.Unlock()
		if rp == nil {
			gitrecv.Text(w, http.StatusNotFound, "Repository not found")
			return
		}
		fn(w, r, rp)
	}
}

// SetGitHTTP turns git's smart HTTP endpoints on (the default) or off, as
// a Data Center administrator does with "HTTP(S) SCM hosting".
func (s *Server) SetGitHTTP(on bool) {
	s.st.Lock()
	defer s.st.Unlock()
	s.gitHTTPOff = !on
}
