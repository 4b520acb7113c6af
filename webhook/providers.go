package webhook

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
)

// gitHubMaxCommits is the most commits GitHub lists in a push event.
const gitHubMaxCommits = 2048

// gitLabMaxCommits is the most commits GitLab lists in a push event.
const gitLabMaxCommits = 20

type fileCommit struct {
	ID        string    `json:"id"`
	Timestamp time.Time `json:"timestamp"`
	Added     []string  `json:"added"`
	Modified  []string  `json:"modified"`
	Removed   []string  `json:"removed"`
}

// ordered returns the commits oldest first (stable for equal times) as
// commitFiles.
func ordered(cs []fileCommit) []commitFiles {
	cs = slices.Clone(cs)
	slices.SortStableFunc(cs, func(a, b fileCommit) int { return a.Timestamp.Compare(b.Timestamp) })
	return listed(cs)
}

// listed returns the commits in the payload's order as commitFiles.
func listed(cs []fileCommit) []commitFiles {
	out := make([]commitFiles, len(cs))
	for i, c := range cs {
		out[i] = commitFiles{added: c.Added, modified: c.Modified, removed: c.Removed}
	}
	return out
}

// changesOf returns the net catalog changes of a push's commits. A
// commit's timestamp is its author's claim, kept by rebases and
// cherry-picks, so time order need not be the order the commits were
// made in; when the payload's order and time order disagree on a catalog
// file, the event is marked incomplete (the caller re-reads) rather than
// trusting either.
func (r *Receiver) changesOf(ev *Event, cs []fileCommit) map[string]Action {
	byTime := r.netChanges(ordered(cs))
	if !maps.Equal(byTime, r.netChanges(listed(cs))) && ev.Complete {
		ev.Complete, ev.Incomplete = false, "the push's commits are not in time order, and the order decides whether a catalog file exists"
	}
	return byTime
}

// decode unmarshals a payload, refusing what is not a JSON object.
func (r *Receiver) decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return r.fail(errcode.InvalidArgument, "payload is not the provider's JSON: %s", jsonProblem(err))
	}
	return nil
}

// jsonProblem describes a JSON error without quoting the payload.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errorsAs(err, &te):
		return "field " + te.Field + " has the wrong type"
	case errorsAs(err, &se):
		return "syntax error"
	}
	return "cannot be decoded"
}

// repoAt parses a repository URL from a payload and checks that it is on
// the receiver's host.
func (r *Receiver) repoAt(ev *Event, rawURL string) error {
	if rawURL == "" {
		return r.fail(errcode.InvalidArgument, "payload names no repository URL")
	}
	loc, err := r.reg.Parse(rawURL)
	if err != nil || loc.Repo == "" {
		return r.fail(errcode.InvalidArgument, "payload's repository URL is not a repository of a configured integration")
	}
	if loc.Host != r.in.Host {
		return r.fail(errcode.InvalidArgument, "payload names a repository on %s, not on %s", loc.Host, r.in.Host)
	}
	ev.Owner, ev.Repo = loc.Owner, loc.Repo
	return nil
}

func (r *Receiver) github(h http.Header, body []byte) (*Event, error) {
	ev := &Event{Provider: r.in.Kind, Host: r.in.Host, Delivery: h.Get("X-GitHub-Delivery"), Name: h.Get("X-GitHub-Event")}
	var p struct {
		Ref        string       `json:"ref"`
		Before     string       `json:"before"`
		After      string       `json:"after"`
		Created    bool         `json:"created"`
		Deleted    bool         `json:"deleted"`
		Forced     bool         `json:"forced"`
		Commits    []fileCommit `json:"commits"`
		Repository *struct {
			HTMLURL       string `json:"html_url"`
			DefaultBranch string `json:"default_branch"`
		} `json:"repository"`
		Installation *struct {
			Account *struct {
				Login string `json:"login"`
				Type  string `json:"type"`
			} `json:"account"`
		} `json:"installation"`
		// installation_target events: the account renamed.
		Account *struct {
			Login string `json:"login"`
		} `json:"account"`
		// organization and installation_target renamed: the old login.
		Changes *struct {
			Login *struct {
				From string `json:"from"`
			} `json:"login"`
		} `json:"changes"`
		TargetType   string `json:"target_type"`
		Organization *struct {
			Login string `json:"login"`
		} `json:"organization"`
		// organization, membership and team events
		Action     string `json:"action"`
		Scope      string `json:"scope"`
		Member     *login `json:"member"`
		Membership *struct {
			User *login `json:"user"`
		} `json:"membership"`
		Team *struct {
			Slug string `json:"slug"`
		} `json:"team"`
	}
	body, err := r.gitHubJSON(h, body)
	if err != nil {
		return nil, err
	}
	if err := r.decode(body, &p); err != nil {
		return nil, err
	}
	switch {
	case p.Installation != nil && p.Installation.Account != nil && p.Installation.Account.Login != "":
		ev.account = p.Installation.Account.Login
	case ev.Name == "installation_target" && p.Account != nil && p.Account.Login != "":
		ev.account = p.Account.Login
	case p.Organization != nil:
		ev.account = p.Organization.Login
	}
	var oc OrgChange
	whole := false // the organisation itself changed
	orgLogin := ""
	if p.Organization != nil {
		orgLogin = p.Organization.Login
	}
	switch {
	case ev.Name == "organization" && (p.Action == "renamed" || p.Action == "deleted"):
		whole = true
	case ev.Name == "installation" && slices.Contains(installationActions, p.Action) &&
		p.Installation != nil && p.Installation.Account != nil && p.Installation.Account.Type == "Organization":
		// The GitHub App installed on, removed from, suspended on or
		// given new permissions by an organisation: which organisations
		// its installations read, and what they may see, changed. The
		// payload has no organization; the installation's account is it.
		whole, orgLogin = true, p.Installation.Account.Login
	case ev.Name == "installation_target" && p.Action == "renamed" && p.TargetType == "Organization" && p.Account != nil:
		whole, orgLogin = true, p.Account.Login
	case ev.Name == "organization" && (p.Action == "member_added" || p.Action == "member_removed") && p.Membership != nil && p.Membership.User != nil:
		oc.User = p.Membership.User.Login
	case ev.Name == "membership" && p.Scope == "team" && p.Member != nil && p.Team != nil:
		oc.User, oc.Team = p.Member.Login, p.Team.Slug
	case ev.Name == "team" && (p.Action == "created" || p.Action == "deleted" || p.Action == "edited") && p.Team != nil:
		oc.Team = p.Team.Slug
	}
	if oc.User != "" || oc.Team != "" || whole {
		if !gitHubName(orgLogin) || (oc.User != "" && !gitHubName(oc.User)) || (oc.Team != "" && !gitHubName(oc.Team)) {
			return nil, r.fail(errcode.InvalidArgument, "%s event names no organization, or a login or team slug that is not one", ev.Name)
		}
		oc.Org, oc.Action = orgLogin, p.Action
		if p.Action == "renamed" && p.Changes != nil && p.Changes.Login != nil && p.Changes.Login.From != "" {
			if !gitHubName(p.Changes.Login.From) {
				return nil, r.fail(errcode.InvalidArgument, "%s event names a former login that is not one", ev.Name)
			}
			oc.From = p.Changes.Login.From
		}
		ev.Org = &oc
	}
	fp := filePush{isPush: ev.Name == "push", ref: p.Ref, before: p.Before, after: p.After, commits: p.Commits}
	if p.Repository != nil {
		fp.repoURL, fp.defaultBranch, fp.hasRepo = p.Repository.HTMLURL, p.Repository.DefaultBranch, true
	}
	switch {
	case p.Deleted:
		fp.incomplete = "the branch was deleted"
	case p.Forced:
		fp.incomplete = "a forced push: files of the commits it dropped are not listed"
	case len(p.Commits) >= gitHubMaxCommits:
		fp.incomplete = "GitHub lists at most 2,048 commits of a push"
	}
	return r.withFiles(ev, fp, "repository")
}

// installationActions are the installation event's actions that change
// which organisations a GitHub App reads, or what it may read there.
var installationActions = []string{"created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"}

// login is a GitHub account in a payload.
type login struct {
	Login string `json:"login"`
}

// gitHubName reports whether s can be a GitHub login or team slug:
// letters, digits, '-', '_' and '.', at most 100 bytes.
func gitHubName(s string) bool {
	if s == "" || len(s) > 100 || s[0] == '.' {
		// Never "." or "..", which would be a path step in a URL.
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (r *Receiver) gitlab(h http.Header, body []byte) (*Event, error) {
	ev := &Event{Provider: r.in.Kind, Host: r.in.Host, Delivery: cmp.Or(h.Get("Idempotency-Key"), h.Get("X-Gitlab-Event-UUID")), Name: h.Get("X-Gitlab-Event")}
	var p struct {
		ObjectKind        string       `json:"object_kind"`
		Ref               string       `json:"ref"`
		Before            string       `json:"before"`
		After             string       `json:"after"`
		Commits           []fileCommit `json:"commits"`
		TotalCommitsCount int          `json:"total_commits_count"`
		Project           *struct {
			WebURL        string `json:"web_url"`
			DefaultBranch string `json:"default_branch"`
		} `json:"project"`
	}
	if err := r.decode(body, &p); err != nil {
		return nil, err
	}
	fp := filePush{isPush: p.ObjectKind == "push", ref: p.Ref, before: p.Before, after: p.After, commits: p.Commits}
	if p.Project != nil {
		fp.repoURL, fp.defaultBranch, fp.hasRepo = p.Project.WebURL, p.Project.DefaultBranch, true
	}
	switch {
	case zeroSHA(p.After):
		fp.incomplete = "the branch was deleted"
	case p.TotalCommitsCount > len(p.Commits) || len(p.Commits) > gitLabMaxCommits:
		fp.incomplete = "GitLab lists the files of at most 20 commits of a push"
	}
	return r.withFiles(ev, fp, "project")
}

// filePush is a push whose payload lists each commit's files (GitHub,
// GitLab), as decoded from either.
type filePush struct {
	isPush                 bool
	hasRepo                bool
	repoURL, defaultBranch string
	ref, before, after     string
	commits                []fileCommit
	// incomplete says why the payload does not list every file, or "".
	incomplete string
}

// withFiles fills ev from a push that lists files; what names the
// repository in the payload ("repository", "project") is for messages.
func (r *Receiver) withFiles(ev *Event, p filePush, what string) (*Event, error) {
	if p.hasRepo {
		if err := r.repoAt(ev, p.repoURL); err != nil {
			return nil, err
		}
		ev.DefaultBranch = p.defaultBranch
	}
	if !p.isPush {
		ev.Ignored = "not a push event"
		r.fill(ev, nil)
		return ev, nil
	}
	if !p.hasRepo {
		return nil, r.fail(errcode.InvalidArgument, "push payload names no %s", what)
	}
	ev.Branch, ev.Before, ev.After = branchOf(p.ref), p.before, p.after
	if zeroSHA(ev.Before) {
		ev.Before = ""
	}
	if zeroSHA(ev.After) {
		ev.After = ""
	}
	if !settle(ev) {
		r.fill(ev, nil)
		return ev, nil
	}
	ev.Complete, ev.Incomplete = p.incomplete == "", p.incomplete
	r.fill(ev, r.changesOf(ev, p.commits))
	return ev, nil
}

// bbRef is a Bitbucket Cloud branch or tag in a push change.
type bbRef struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Target struct {
		Hash string `json:"hash"`
	} `json:"target"`
}

func (r *Receiver) bitbucketCloud(ctx context.Context, h http.Header, body []byte) (*Event, error) {
	ev := &Event{Provider: r.in.Kind, Host: r.in.Host, Delivery: h.Get("X-Request-UUID"), Name: h.Get("X-Event-Key")}
	var p struct {
		Push *struct {
			Changes []struct {
				New    *bbRef `json:"new"`
				Old    *bbRef `json:"old"`
				Forced bool   `json:"forced"`
			} `json:"changes"`
		} `json:"push"`
		Repository *struct {
			Links struct {
				HTML struct {
					Href string `json:"href"`
				} `json:"html"`
			} `json:"links"`
		} `json:"repository"`
	}
	if err := r.decode(body, &p); err != nil {
		return nil, err
	}
	if p.Repository != nil {
		if err := r.repoAt(ev, p.Repository.Links.HTML.Href); err != nil {
			return nil, err
		}
	}
	if ev.Name != "repo:push" || p.Push == nil {
		ev.Ignored = "not a push event"
		r.fill(ev, nil)
		return ev, nil
	}
	if p.Repository == nil {
		return nil, r.fail(errcode.InvalidArgument, "push payload names no repository")
	}
	var refs []pushedRef
	for _, c := range p.Push.Changes {
		var pr pushedRef
		if c.New != nil {
			pr.kind, pr.name, pr.after = c.New.Type, c.New.Name, c.New.Target.Hash
		}
		if c.Old != nil {
			if pr.name == "" {
				pr.kind, pr.name = c.Old.Type, c.Old.Name
			}
			pr.before = c.Old.Target.Hash
		}
		pr.branch = pr.kind == "branch"
		refs = append(refs, pr)
	}
	r.pickRef(ctx, ev, refs)
	return ev, nil
}

func (r *Receiver) bitbucketServer(ctx context.Context, h http.Header, body []byte) (*Event, error) {
	ev := &Event{Provider: r.in.Kind, Host: r.in.Host, Delivery: h.Get("X-Request-Id"), Name: h.Get("X-Event-Key")}
	var p struct {
		Changes []struct {
			Ref struct {
				ID        string `json:"id"`
				DisplayID string `json:"displayId"`
				Type      string `json:"type"`
			} `json:"ref"`
			FromHash string `json:"fromHash"`
			ToHash   string `json:"toHash"`
		} `json:"changes"`
		Repository *struct {
			Slug    string `json:"slug"`
			Project struct {
				Key string `json:"key"`
			} `json:"project"`
		} `json:"repository"`
	}
	if err := r.decode(body, &p); err != nil {
		return nil, err
	}
	if p.Repository != nil {
		// Server payloads carry no repository URL: the receiver's host
		// is the repository's.
		if p.Repository.Slug == "" || p.Repository.Project.Key == "" {
			return nil, r.fail(errcode.InvalidArgument, "payload's repository has no slug or project key")
		}
		ev.Owner, ev.Repo = p.Repository.Project.Key, p.Repository.Slug
		if _, err := r.reg.URL(integrations.Location{Kind: r.in.Kind, Host: r.in.Host, Owner: ev.Owner, Repo: ev.Repo, Tree: true}); err != nil {
			return nil, r.fail(errcode.InvalidArgument, "payload's repository is not a valid project key and slug")
		}
	}
	if ev.Name != "repo:refs_changed" {
		ev.Ignored = "not a push event"
		r.fill(ev, nil)
		return ev, nil
	}
	if p.Repository == nil {
		return nil, r.fail(errcode.InvalidArgument, "push payload names no repository")
	}
	var refs []pushedRef
	for _, c := range p.Changes {
		refs = append(refs, pushedRef{
			branch: c.Ref.Type == "BRANCH" || strings.HasPrefix(c.Ref.ID, "refs/heads/"),
			name:   c.Ref.DisplayID, before: c.FromHash, after: c.ToHash,
		})
	}
	r.pickRef(ctx, ev, refs)
	return ev, nil
}

// pushedRef is one ref a Bitbucket push changed.
type pushedRef struct {
	kind, name    string
	branch        bool
	before, after string
}

// pickRef chooses, among the refs of a Bitbucket push, the default branch's
// change. Bitbucket payloads list no files, so the event is never complete.
func (r *Receiver) pickRef(ctx context.Context, ev *Event, refs []pushedRef) {
	if r.branch != nil {
		if b, err := r.branch(ctx, ev.Owner, ev.Repo); err == nil {
			ev.DefaultBranch = b
		}
	}
	var branches []pushedRef
	for _, pr := range refs {
		if pr.branch && pr.name != "" {
			branches = append(branches, pr)
		}
	}
	var chosen *pushedRef
	for i, pr := range branches {
		if ev.DefaultBranch == "" || pr.name == ev.DefaultBranch {
			chosen = &branches[i]
			break
		}
	}
	switch {
	case chosen == nil && len(branches) > 0:
		ev.Branch = branches[0].name // settle explains why it is ignored
	case chosen != nil:
		ev.Branch, ev.Before, ev.After = chosen.name, chosen.before, chosen.after
	}
	if zeroSHA(ev.Before) {
		ev.Before = ""
	}
	if zeroSHA(ev.After) {
		ev.After = ""
	}
	if !settle(ev) {
		r.fill(ev, nil)
		return
	}
	ev.Incomplete = "Bitbucket push events name commits, not files: re-read the repository's catalog files"
	if ev.DefaultBranch == "" && len(branches) > 1 {
		ev.Incomplete += " (the push changed several branches and the default branch is unknown)"
	}
	r.fill(ev, nil)
}
