// Package githuborg reads the members and teams of GitHub organisations as
// Backstage User and Group entities, configured as Backstage's
// catalog.providers.githubOrg block.
//
// Entities are Backstage's: a user is named by login, with annotations
// github.com/user-login and github.com/user-id (the node id) and a profile
// (name, public e-mail, avatar); read from a GitHub Enterprise Server, a
// user also carries <host>/user-id, the same node id under the instance's
// host (ghe.example.com/user-id): node ids encode small per-instance
// database ids that repeat across instances, and identity's sign-in
// resolvers match such a user only to a sign-in from that host. A group is named by team slug, spec.type
// "team", with annotation github.com/team-slug ("org/slug"), its parent
// team as spec.parent, its child teams as spec.children and its immediate
// members as spec.members (and in each member's spec.memberOf); a team
// member not among the organisation's members read is left out with a
// warning, so that every ref names an entity of the snapshot. One
// organisation goes to namespace "default"; with several, each organisation
// is a namespace named by its login in lower case. With no orgs configured,
// the organisations are those the integration's GitHub App is installed on.
//
// # Requests
//
// Members and teams are read by GraphQL, both connections in the same
// query, 100 members and 50 teams (each with its first 100 immediate
// members) per page by default: an organisation of 10,000 members and
// 1,000 teams of at most 100 members costs 100 queries (Backstage's defaults
// need about 240). A team with more members adds one query per further 100,
// batched with other teams' pages, up to 10 teams per query. When GitHub
// answers RESOURCE_LIMITS_EXCEEDED, a timeout or a 502/504, the page sizes
// of that query are halved and it is sent again; everything already read is
// kept. Organisations are read concurrently (Options.Concurrency), as are
// the extra team pages. Rate limits (GitHub's primary and secondary ones,
// Retry-After) are waited out and failed requests retried as
// Options.MaxRetries describes. Config.ExcludeSuspendedUsers (GitHub
// Enterprise Server) adds a field to the same queries, no request.
//
// # Errors
//
// Read returns a complete snapshot or an error, never part of one. A token
// without the read:org scope, or a GitHub App installation without the
// Organization › Members (read) permission, is PermissionDenied with a
// message naming that permission.
package githuborg

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/internal/orgx"
)

// ConfigPath is where Backstage keeps this provider's configuration.
const ConfigPath = "catalog.providers.githubOrg"

// Defaults for Config.PageSizes.
const (
	DefaultMembersPage     = 100
	DefaultTeamsPage       = 50
	DefaultTeamMembersPage = 100
)

// Config is one entry of catalog.providers.githubOrg, with Backstage's keys.
type Config struct {
	// ID names the provider; entities are tied to it.
	ID string `json:"id"`
	// Schedule is the block's schedule key (frequency, timeout,
	// initialDelay, scope), nil when absent; org.Run reads with it.
	Schedule *org.Schedule `json:"schedule"`
	// GitHubURL is the web URL of the GitHub host, e.g. https://github.com;
	// the integration for its host supplies the API URL and credentials.
	// "" means github.com (DecodeConfig refuses a block whose githubUrl
	// is an unset ${VAR}, which would otherwise read github.com).
	GitHubURL string `json:"githubUrl"`
	// Orgs lists the organisations to read. Empty means every
	// organisation the integration's (first) GitHub App is installed on,
	// found with one GET /app/installations per 100 installations, which
	// the resolver's app sends (with its own HTTP client and retry
	// policy, githubapp.Options) and counts in Progress.
	Orgs []string `json:"orgs"`
	// PageSizes overrides the GraphQL page sizes.
	PageSizes PageSizes `json:"pageSizes"`
	// DefaultUserTransformer tunes the users made, with Backstage's keys.
	DefaultUserTransformer UserTransformer `json:"defaultUserTransformer"`
	// ExcludeSuspendedUsers leaves out the accounts a GitHub Enterprise
	// Server site administrator suspended: no User entity for them, and
	// no membership of a group (Backstage's key; Backstage leaves them out
	// of the users only, and its groups still name them). Members and
	// team members are read with GraphQL's User.suspendedAt, in the same
	// requests. It is GitHub Enterprise Server's alone: github.com's
	// GraphQL schema has no such field and refuses every query naming
	// it, so New refuses it for github.com (Backstage's reads fail there
	// instead). An Update that reads a member again leaves her out if she
	// is suspended now.
	ExcludeSuspendedUsers bool `json:"excludeSuspendedUsers"`

	// Warnings, set by DecodeConfig, name the keys of the entry that
	// scmkit does not read, each with its path: a typo ("org" for
	// "orgs": with a GitHub App, no orgs reads every organisation it is
	// installed on), a key in another case than Backstage's, or a
	// Backstage key scmkit does not support. Show them to the operator;
	// New does not look at them.
	Warnings []string `json:"-"`
}

// unsupportedKeys are Backstage's githubOrg keys that scmkit does not
// read, and what to say of each.
var unsupportedKeys = map[string]string{
	"queryLimits": "Backstage's limits on GraphQL query sizes are not read; scmkit sizes its queries with pageSizes " +
		"and halves them when GitHub refuses a query as too large; ignored",
}

// UserTransformer is Config.DefaultUserTransformer.
type UserTransformer struct {
	// UseVerifiedEmails takes a member's e-mail address from the
	// organisation's verified domains (GraphQL
	// organizationVerifiedDomainEmails, GitHub Enterprise Cloud) when she
	// has one, rather than the public profile e-mail that most members
	// leave empty, so that e-mail sign-in resolvers match them; the same
	// requests. GitHub lists them in no set order: the one equal to her
	// public e-mail is taken, else one without a tag, else the first in
	// sort order, without the
	// "+tag" GitHub routes them with, as Backstage does (two accounts
	// whose addresses would then be one keep theirs whole). Off by default,
	// as in Backstage: with another org provider (LDAP, Entra) making the
	// same users, two entities would then share an address. A Read in
	// which no member of an organisation has such an address says so in
	// Snapshot.Warnings.
	UseVerifiedEmails bool `json:"useVerifiedEmails"`
}

// PageSizes are GraphQL page sizes (1 to 100); zero means the default.
type PageSizes struct {
	Teams               int `json:"teams"`
	TeamMembers         int `json:"teamMembers"`
	OrganizationMembers int `json:"organizationMembers"`
}

// DecodeConfig decodes catalog.providers.githubOrg (one object or a list)
// from d (a *config.Config, say). A ${VAR} in the block whose variable is
// not set is an InvalidArgument error naming it, when d can tell (see
// config.Config.UnsetVariables). Keys it does not read are named in each
// entry's Warnings (schedule, which Backstage's scheduler reads, is not).
func DecodeConfig(d org.Decoder) ([]Config, error) {
	cs, err := orgx.DecodeList[Config](d, ConfigPath)
	if err != nil {
		return nil, err
	}
	if err := unsetVariables(d); err != nil {
		return nil, err
	}
	raw, err := orgx.Raw(d, ConfigPath)
	if err != nil {
		return nil, err
	}
	if blocks, paths := orgx.Entries(raw, ConfigPath); len(blocks) == len(cs) {
		for i := range cs {
			cs[i].Warnings = orgx.KeyWarnings[Config](blocks[i], paths[i], unsupportedKeys, "schedule")
		}
	}
	return cs, nil
}

// Options configures a Reader. Registry and Resolver are required.
type Options struct {
	// Registry finds the integration of Config.GitHubURL's host.
	Registry *integrations.Registry
	// Resolver picks the credential for each organisation (GitHub App
	// installation, token). Requests never carry a user's token.
	Resolver *credentials.Resolver
	// Transport sends the requests, below credentials and retries; nil
	// means http.DefaultTransport.
	Transport http.RoundTripper
	// MaxRetries, MinWait, MaxWait and MaxRateLimitWait tune scmkit's one
	// retry and rate-limit policy. A 429 or a rate-limited 403 is retried
	// for every request, a 5xx or a broken connection for GET requests
	// (a GraphQL query, a POST, is retried only when it could not be sent
	// at all; one answered 502 or 504 is sent again with smaller pages
	// instead), up to MaxRetries times (default 3; negative: never).
	// The wait is what the server asks (Retry-After, the rate limit's
	// reset; one minute for a secondary limit that names no time), else
	// an exponential backoff from MinWait (default 500ms) to MaxWait
	// (default 10s). A server-requested wait longer than MaxRateLimitWait
	// (default 60s) is not slept: Read returns RateLimited with the time to
	// retry at (errcode.Error.RetryAt).
	MaxRetries       int
	MinWait, MaxWait time.Duration
	MaxRateLimitWait time.Duration
	// RequestTimeout bounds each GraphQL request; one that times out is
	// sent again with halved page sizes. 0 means 60s.
	RequestTimeout time.Duration
	// Concurrency bounds the requests in flight; 0 means 4.
	Concurrency int
	// MaxResponseBytes caps each answer; 0 means 64 MiB.
	MaxResponseBytes int64
	// Progress, when set, receives progress reports.
	Progress org.ProgressFunc
	// Logger receives warnings (skipped users) and retries; nil is silent.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Reader reads GitHub organisations. It implements org.Reader and is safe
// for concurrent use (each Read is independent). The zero Reader is not
// usable; make one with [New].
type Reader struct {
	cfg        Config
	in         *integrations.Integration
	graphqlURL string
	opts       Options
	http       orgx.HTTP // opts' HTTP settings, defaults applied
	pages      PageSizes
	// origins knows which organisation the single-organisation
	// snapshots it returned are of, with Config.Orgs empty (see Update).
	origins *origins
}

var _ org.Reader = (*Reader)(nil)

// New returns a reader for one config entry (from [DecodeConfig]). opts
// is required: Registry and Resolver must be set (the same ones the
// portal's scm.Client uses). New makes no request; errors are
// InvalidArgument *errcode.Error values naming the config path: a missing
// Registry or Resolver, an organisation that is not a GitHub login, a
// githubUrl that is not an http(s) URL or whose host has no GitHub
// integration, or a disabled integration.
func New(cfg Config, opts *Options) (*Reader, error) {
	const op = "githuborg.New"
	if opts == nil || opts.Registry == nil || opts.Resolver == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "Options.Registry and Options.Resolver are required")
	}
	o := *opts
	for _, name := range cfg.Orgs {
		if !validLogin(name) {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "%s (id %q): %q is not a GitHub organisation login", ConfigPath, cfg.ID, name)
		}
	}
	host := "github.com"
	if cfg.GitHubURL != "" {
		u, ok := orgx.ParseHTTP(cfg.GitHubURL)
		if !ok {
			return nil, errcode.Newf(errcode.InvalidArgument, op, "%s (id %q): githubUrl %q is not an http(s) URL", ConfigPath, cfg.ID, redact.URL(cfg.GitHubURL))
		}
		host = u.Host
	}
	in, ok := o.Registry.ByHost(host)
	if !ok || in.Kind != integrations.GitHub {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s (id %q): no GitHub integration for host %s", ConfigPath, cfg.ID, host)
	}
	if in.Disabled != nil {
		return nil, in.Disabled
	}
	if cfg.ExcludeSuspendedUsers && strings.EqualFold(in.Host, integrations.GitHubHost) {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s (id %q): excludeSuspendedUsers is for GitHub Enterprise Server only: "+
			"github.com has no suspended users, and its GraphQL API refuses the User.suspendedAt field; remove the key", ConfigPath, cfg.ID)
	}
	if len(cfg.Orgs) == 0 && (in.GitHub == nil || len(in.GitHub.Apps) == 0) {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s (id %q): orgs is required when %s has no GitHub App whose installations name them", ConfigPath, cfg.ID, in.ConfigPath)
	}
	gql, err := graphqlURL(in.APIBaseURL)
	if err != nil {
		return nil, errcode.Newf(errcode.InvalidArgument, op, "%s: apiBaseUrl %q is not an http(s) URL", in.ConfigPath, redact.URL(in.APIBaseURL))
	}
	ps := PageSizes{
		Teams:               clampPage(cfg.PageSizes.Teams, DefaultTeamsPage),
		TeamMembers:         clampPage(cfg.PageSizes.TeamMembers, DefaultTeamMembersPage),
		OrganizationMembers: clampPage(cfg.PageSizes.OrganizationMembers, DefaultMembersPage),
	}
	hs := orgx.HTTP{Transport: o.Transport, RequestTimeout: o.RequestTimeout, Concurrency: o.Concurrency,
		MaxResponseBytes: o.MaxResponseBytes, Logger: o.Logger, Now: o.Now,
		Retry: orgx.Retry{MaxRetries: o.MaxRetries, MinWait: o.MinWait, MaxWait: o.MaxWait, MaxRateLimitWait: o.MaxRateLimitWait}}
	return &Reader{cfg: cfg, in: in, graphqlURL: gql, opts: o, http: hs.Defaults(4), pages: ps, origins: &origins{}}, nil
}

func clampPage(n, def int) int {
	if n <= 0 {
		return def
	}
	return min(n, 100)
}

// validLogin reports whether s can be an organisation's login: up to 39
// letters, digits, '-' and '_'.
func validLogin(s string) bool { return loginOf(s, 39) }

// validMember reports whether s can be a member's login: as an
// organisation's, but up to 100 characters (managed users' logins end in
// _shortcode).
func validMember(s string) bool { return loginOf(s, 100) }

// loginOf reports whether s is 1 to limit letters, digits, '-' and '_',
// which a URL path or a query cannot misread.
func loginOf(s string, limit int) bool {
	if s == "" || len(s) > limit {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// graphqlURL is GraphQL's URL beside a REST base: api.github.com/graphql,
// or https://HOST/api/graphql for GitHub Enterprise Server (/api/v3).
func graphqlURL(apiBase string) (string, error) {
	u, ok := orgx.ParseHTTP(apiBase)
	if !ok {
		return "", errors.New("bad URL")
	}
	if prefix, ok := strings.CutSuffix(u.Path, "/api/v3"); ok {
		u.Path = prefix + "/api/graphql"
	} else {
		u.Path += "/graphql"
	}
	return u.String(), nil
}

// Read reads every configured organisation (or every organisation the
// GitHub App is installed on, when Config.Orgs is empty).
// It is [org.Reader]'s Read: a sorted, valid snapshot or an error and no
// snapshot (never part of one), skipped entities named in
// Snapshot.Warnings, a missing permission PermissionDenied naming what to
// grant, and Canceled or DeadlineExceeded as soon as ctx ends.
func (r *Reader) Read(ctx context.Context) (*org.Snapshot, error) {
	const op = "githuborg.Read"
	meter := &orgx.Meter{}
	prog := orgx.NewProgress(r.opts.Progress, "githubOrg:"+r.cfg.ID, meter, r.http.Now)
	orgs := r.cfg.Orgs
	if len(orgs) == 0 {
		var err error
		if orgs, err = r.installedOrgs(ctx, meter); err != nil {
			return nil, err
		}
		if len(orgs) == 0 {
			return nil, errcode.Newf(errcode.NotFound, op, "%s (id %q): the GitHub App of %s is installed on no organisation", ConfigPath, r.cfg.ID, r.in.ConfigPath)
		}
	}
	var counts struct {
		sync.Mutex
		users, groups int
	}
	onPage := func(du, dg int) {
		counts.Lock()
		counts.users += du
		counts.groups += dg
		u, gr := counts.users, counts.groups
		counts.Unlock()
		prog.Report("members and teams", u, gr, false)
	}
	reads := make([]*orgRead, len(orgs))
	for i, login := range orgs {
		// GitHub GraphQL never answers anonymous requests: no credential is
		// an error naming every candidate the resolver skipped.
		hc := r.http.ResolverClient(meter, r.opts.Resolver,
			credentials.Request{Host: r.in.Host, Owner: login, Policy: credentials.NoUser | credentials.NoAnonymous})
		reads[i] = r.newOrgRead(login, hc, onPage)
	}
	err := orgx.Each(ctx, r.http.Concurrency, slices.Values(reads), func(ctx context.Context, o *orgRead) error { return o.read(ctx) })
	if err != nil {
		if c := errcode.FromContext(ctx, op); c != nil {
			return nil, c
		}
		return nil, err
	}
	snap := r.build(reads)
	if err := orgx.Done(ctx, snap, prog, r.opts.Logger, "githuborg", r.cfg.ID); err != nil {
		return nil, err
	}
	if len(r.cfg.Orgs) == 0 && len(orgs) == 1 {
		r.origins.remember(snap, orgs[0])
	}
	return snap, nil
}

// installedOrgs lists the organisations the integration's first GitHub
// App is installed on (suspended installations left out, and, when the
// app names allowedInstallationOwners, those it does not name: a public
// app is installed by anyone), with [github.com/scmkit/scmkit/credentials/githubapp.App.Installations] of the
// resolver's app, whose JWT the resolver gives for an empty owner: its
// caches, its conditional requests (an unchanged page that leads on, or
// a last page with room left, costs a 304, free on GitHub's rate limit;
// only a full last page is read in full) and its HTTP client. The app remembers the installations listed,
// so that the tokens for their organisations cost no installation lookup.
// The listing's requests are counted by meter.
func (r *Reader) installedOrgs(ctx context.Context, meter *orgx.Meter) ([]string, error) {
	apps := r.opts.Resolver.GitHubApps(r.in.Host)
	if len(apps) == 0 {
		return nil, errcode.Newf(errcode.InvalidArgument, "githuborg.Read", "%s (id %q): orgs is empty, and Options.Resolver has no GitHub App for %s to list the installations of", ConfigPath, r.cfg.ID, r.in.Host)
	}
	app := apps[0]
	list, err := app.Installations(meter.Trace(ctx))
	if err != nil {
		return nil, err
	}
	var orgs []string
	for _, in := range list {
		if in.AccountType == "Organization" && !in.Suspended && validLogin(in.Account) && app.Allows(in.Account) {
			orgs = append(orgs, in.Account)
		}
	}
	slices.SortFunc(orgs, func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return slices.Compact(orgs), nil
}

type member struct {
	Login     string  `json:"login"`
	ID        string  `json:"id"`
	Name      *string `json:"name"`
	Email     string  `json:"email"`
	AvatarURL string  `json:"avatarUrl"`
	// Bio is the profile's bio: the user's description, as Backstage
	// makes it.
	Bio *string `json:"bio"`
	// Verified is organizationVerifiedDomainEmails, asked for with
	// Config.UseVerifiedEmails.
	Verified []string `json:"organizationVerifiedDomainEmails"`
	// SuspendedAt is set for a suspended account, asked for with
	// Config.ExcludeSuspendedUsers.
	SuspendedAt *string `json:"suspendedAt"`
}

// teamMember is a node of a team's members.
type teamMember struct {
	Login       string  `json:"login"`
	SuspendedAt *string `json:"suspendedAt"` // as member.SuspendedAt
}

// email is m's e-mail address: a verified-domain one without its
// "+tag", else the public one; exact is the verified address as GitHub
// lists it ("" when the public one is taken). Among verified addresses
// (GitHub's order is not stable) the first of: one equal to her public
// e-mail, one without a tag, then in sort order.
func (m *member) email() (addr, exact string) {
	type candidate struct{ addr, exact string }
	var verified []candidate
	for _, v := range m.Verified {
		local, domain, ok := strings.Cut(v, "@")
		if !ok || local == "" || domain == "" {
			continue
		}
		if l, _, tagged := strings.Cut(local, "+"); tagged && l != "" {
			local = l
		}
		verified = append(verified, candidate{local + "@" + domain, v})
	}
	if len(verified) == 0 {
		return m.Email, ""
	}
	rank := func(c candidate) int {
		switch {
		case m.Email != "" && strings.EqualFold(c.exact, m.Email):
			return 0
		case m.Email != "" && strings.EqualFold(c.addr, m.Email):
			return 1
		case c.exact == c.addr:
			return 2
		}
		return 3
	}
	c := slices.MinFunc(verified, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a.addr, b.addr), strings.Compare(a.exact, b.exact))
	})
	return c.addr, c.exact
}

// untagged is addr without the +tag of its local part, lower-cased.
func untagged(addr string) string {
	local, domain, ok := strings.Cut(strings.ToLower(addr), "@")
	if !ok {
		return strings.ToLower(addr)
	}
	if l, _, tagged := strings.Cut(local, "+"); tagged && l != "" {
		local = l
	}
	return local + "@" + domain
}

type team struct {
	Slug        string  `json:"slug"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	AvatarURL   *string `json:"avatarUrl"`
	// EditTeamURL is the team's settings page, Backstage's
	// backstage.io/edit-url annotation.
	EditTeamURL string `json:"editTeamUrl"`
	ParentTeam  *struct {
		Slug string `json:"slug"`
	} `json:"parentTeam"`
	Members conn[teamMember] `json:"members"`

	logins []string           // but suspended members'
	pager  orgx.Pager[string] // of the team's member pages, by lower-case login (suspended ones too)
}

// addLogins appends the logins of a page of t's members, but suspended
// ones, to those read.
func (t *team) addLogins(nodes []*teamMember) {
	for _, m := range nodes {
		if m == nil {
			continue
		}
		if m.SuspendedAt == nil {
			t.logins = append(t.logins, m.Login)
		}
		t.pager.Saw(strings.ToLower(m.Login))
	}
}

// firstMembers keeps the members t came with and reports whether more
// pages follow; a cursor given before is an error.
func (t *team) firstMembers(errs orgx.Errs) (more bool, err error) {
	t.addLogins(t.Members.Nodes)
	if !t.Members.PageInfo.HasNextPage {
		return false, nil
	}
	if !t.pager.Follow(t.Members.PageInfo.EndCursor) {
		return false, errs.Repeated("members of team " + t.Slug)
	}
	return true, nil
}

type conn[T any] struct {
	PageInfo orgx.PageInfo `json:"pageInfo"`
	Nodes    []*T          `json:"nodes"`
}

// orgRead reads one organisation, and holds what it read.
type orgRead struct {
	login   string
	members []member
	teams   []*team

	// touched holds the e-mail addresses, without their +tag, that
	// Update read again or removed (as they were and as they are), by
	// lower-case login.
	touched map[string][]string

	r      *Reader
	errs   orgx.Errs
	gql    *orgx.GraphQL
	pages  *orgx.Pages[sizes] // halved for the rest of the read after a refusal
	onPage func(users, groups int)
}

// sizes are the page sizes of one organisation's queries.
type sizes PageSizes

// Halved returns every size halved, and false when all are 1.
func (s sizes) Halved() (sizes, bool) {
	if s.Teams == 1 && s.TeamMembers == 1 && s.OrganizationMembers == 1 {
		return s, false
	}
	return sizes{Teams: max(1, s.Teams/2), TeamMembers: max(1, s.TeamMembers/2), OrganizationMembers: max(1, s.OrganizationMembers/2)}, true
}

// LogValue lists the sizes.
func (s sizes) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("teams", s.Teams), slog.Int("teamMembers", s.TeamMembers), slog.Int("members", s.OrganizationMembers))
}

// errs is how the reader words its errors about subject.
func (r *Reader) errs(subject string) orgx.Errs {
	return orgx.Errs{Op: "githuborg.Read", Provider: "github", Host: r.in.Host, Subject: subject}
}

func (r *Reader) newOrgRead(login string, hc *http.Client, onPage func(users, groups int)) *orgRead {
	o := &orgRead{login: login, r: r, errs: r.errs("organisation " + login), onPage: onPage,
		pages: orgx.NewPages(sizes(r.pages), r.opts.Logger, "githuborg: halving page sizes", "org", login)}
	o.gql = &orgx.GraphQL{API: r.api(hc, o.errs), URL: r.graphqlURL, Header: http.Header{"User-Agent": {"scmkit"}},
		Timeout: r.http.RequestTimeout, QueryErrors: o.gqlErrors}
	return o
}

// api sends requests with hc and words their errors as errs.
func (r *Reader) api(hc *http.Client, errs orgx.Errs) orgx.API {
	return orgx.API{Client: hc, Errs: errs, MaxResponseBytes: r.http.MaxResponseBytes,
		HTTPError: func(resp *http.Response) error { return r.httpError(errs, resp) }}
}

// query sends the query build makes for the current page sizes.
func (o *orgRead) query(ctx context.Context, build func(sizes) (string, map[string]any), out any) error {
	return orgx.Query(ctx, o.gql, o.pages, build, out)
}

// memberFields are the fields of a member that Config asks for.
func (r *Reader) memberFields() string {
	fields := "login id name email avatarUrl bio"
	if r.cfg.DefaultUserTransformer.UseVerifiedEmails {
		fields += " organizationVerifiedDomainEmails(login: $org)"
	}
	return fields + r.suspendedField()
}

// suspendedField asks for User.suspendedAt with
// Config.ExcludeSuspendedUsers (GitHub Enterprise Server's field).
func (r *Reader) suspendedField() string {
	if r.cfg.ExcludeSuspendedUsers {
		return " suspendedAt"
	}
	return ""
}

func (o *orgRead) read(ctx context.Context) error {
	var mAfter, tAfter *string
	mDone, tDone := false, false
	var pending []*team // teams with more members to read
	// A page with nothing not read before, and more promised, is a server
	// ignoring the cursor: the listing would never end.
	var mPager, tPager orgx.Pager[string] // by lower-case login, slug
	for !mDone || !tDone {
		var q strings.Builder
		vars := map[string]any{"org": o.login}
		q.WriteString("query($org: String!")
		if !mDone {
			q.WriteString(", $mFirst: Int!, $mAfter: String")
		}
		if !tDone {
			q.WriteString(", $tFirst: Int!, $tAfter: String, $tmFirst: Int!")
		}
		q.WriteString(") { organization(login: $org) {")
		if !mDone {
			q.WriteString(" membersWithRole(first: $mFirst, after: $mAfter) { pageInfo { hasNextPage endCursor } nodes { " + o.r.memberFields() + " } }")
		}
		if !tDone {
			q.WriteString(" teams(first: $tFirst, after: $tAfter) { pageInfo { hasNextPage endCursor } nodes { slug name description avatarUrl editTeamUrl parentTeam { slug }" +
				" members(first: $tmFirst, membership: IMMEDIATE) { pageInfo { hasNextPage endCursor } nodes { login" + o.r.suspendedField() + " } } } }")
		}
		q.WriteString(" } }")
		var data struct {
			Organization *struct {
				MembersWithRole *conn[member] `json:"membersWithRole"`
				Teams           *conn[team]   `json:"teams"`
			} `json:"organization"`
		}
		err := o.query(ctx, func(ps sizes) (string, map[string]any) {
			if !mDone {
				vars["mFirst"], vars["mAfter"] = ps.OrganizationMembers, mAfter
			}
			if !tDone {
				vars["tFirst"], vars["tAfter"], vars["tmFirst"] = ps.Teams, tAfter, ps.TeamMembers
			}
			return q.String(), vars
		}, &data)
		if err != nil {
			return err
		}
		if data.Organization == nil {
			return o.errs.Fail(errcode.NotFound, 0, "not found", nil)
		}
		du, dg := 0, 0
		if c := data.Organization.MembersWithRole; !mDone && c != nil {
			for _, m := range c.Nodes {
				if m != nil {
					o.members = append(o.members, *m)
					du++
					mPager.Saw(strings.ToLower(m.Login))
				}
			}
			mDone = !c.PageInfo.HasNextPage
			mAfter = &c.PageInfo.EndCursor
			if !mDone && !mPager.Next(*mAfter) {
				return o.errs.Repeated("members")
			}
		} else {
			mDone = true
		}
		if c := data.Organization.Teams; !tDone && c != nil {
			for _, t := range c.Nodes {
				if t == nil {
					continue
				}
				more, err := t.firstMembers(o.errs)
				if err != nil {
					return err
				}
				o.teams = append(o.teams, t)
				if more {
					pending = append(pending, t)
				}
				tPager.Saw(strings.ToLower(t.Slug))
				dg++
			}
			tDone = !c.PageInfo.HasNextPage
			tAfter = &c.PageInfo.EndCursor
			if !tDone && !tPager.Next(*tAfter) {
				return o.errs.Repeated("teams")
			}
		} else {
			tDone = true
		}
		o.onPage(du, dg)
	}
	if err := o.moreTeamMembers(ctx, pending); err != nil {
		return err
	}
	return nil
}

// teamsPerQuery is how many teams' next member pages one query carries.
const teamsPerQuery = 10

// moreTeamMembers reads the remaining member pages of big teams, up to
// teamsPerQuery teams per query and Concurrency queries at a time; each
// round advances every pending team by one page.
func (o *orgRead) moreTeamMembers(ctx context.Context, pending []*team) error {
	return orgx.Rounds(ctx, pending, teamsPerQuery, o.r.http.Concurrency, o.teamPages, func(t *team) string { return t.Slug })
}

func (o *orgRead) teamPages(ctx context.Context, batch []*team) ([]*team, error) {
	var q strings.Builder
	q.WriteString("query($org: String!, $first: Int!")
	for i := range batch {
		fmt.Fprintf(&q, ", $s%d: String!, $c%d: String", i, i)
	}
	q.WriteString(") { organization(login: $org) {")
	for i := range batch {
		fmt.Fprintf(&q, " t%d: team(slug: $s%d) { slug members(first: $first, after: $c%d, membership: IMMEDIATE) { pageInfo { hasNextPage endCursor } nodes { login%s } } }", i, i, i, o.r.suspendedField())
	}
	q.WriteString(" } }")
	var data struct {
		Organization map[string]*struct {
			Slug    string           `json:"slug"`
			Members conn[teamMember] `json:"members"`
		} `json:"organization"`
	}
	err := o.query(ctx, func(ps sizes) (string, map[string]any) {
		vars := map[string]any{"org": o.login, "first": ps.TeamMembers}
		for i, t := range batch {
			vars[fmt.Sprintf("s%d", i)] = t.Slug
			vars[fmt.Sprintf("c%d", i)] = t.Members.PageInfo.EndCursor
		}
		return q.String(), vars
	}, &data)
	if err != nil {
		return nil, err
	}
	var more []*team
	for i, t := range batch {
		got := data.Organization[fmt.Sprintf("t%d", i)]
		if got == nil {
			return nil, o.errs.Fail(errcode.Unavailable, 0, "team "+t.Slug+" disappeared while its members were read", nil)
		}
		t.addLogins(got.Members.Nodes)
		t.Members.PageInfo = got.Members.PageInfo
		if got.Members.PageInfo.HasNextPage {
			if !t.pager.Next(got.Members.PageInfo.EndCursor) {
				return nil, o.errs.Repeated("members of team " + t.Slug)
			}
			more = append(more, t)
		}
	}
	return more, nil
}

// permissionHint names what to grant.
const permissionHint = "grant the token the read:org scope, or the GitHub App the Organization permission Members (read)"

// httpError is the one place where GitHub's HTTP errors become codes.
func (r *Reader) httpError(errs orgx.Errs, resp *http.Response) error {
	return errs.Answer(resp, r.http.Now(), orgx.Wording{
		Unauthorized:     "GitHub refused the credential",
		PermissionDenied: "GitHub denied reading members and teams: " + permissionHint,
		RateLimited:      "rate limited",
		NotFound:         "not found",
		InvalidArgument:  "GitHub refused the request",
		Unavailable:      "GitHub failed",
		GaveUp:           "GitHub timed out on the query",
		Unknown:          "unexpected answer",
	}, func(body []byte) string {
		var ge struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &ge)
		return ge.Message
	})
}

// gqlErrors is the one place where GitHub's GraphQL errors become codes.
func (o *orgRead) gqlErrors(errs []orgx.QueryError, header http.Header) error {
	e := errs[0]
	cause := errors.New(e.Type + ": " + e.Message)
	switch e.Type {
	case "INSUFFICIENT_SCOPES", "FORBIDDEN":
		return o.errs.Fail(errcode.PermissionDenied, http.StatusOK, "GitHub denied reading members and teams: "+permissionHint, cause)
	case "NOT_FOUND":
		return o.errs.Fail(errcode.NotFound, http.StatusOK, "not found (or not visible to the credential)", cause)
	case "RATE_LIMITED":
		// GitHub answers 200 with the limit's headers: RetryAt is when it
		// resets (or Retry-After), else a minute on, as GitHub advises.
		f := o.errs.Fail(errcode.RateLimited, http.StatusOK, "GraphQL rate limit exceeded", cause)
		now := o.r.http.Now()
		f.RetryAt = now.Add(time.Minute)
		limited := &http.Response{StatusCode: http.StatusTooManyRequests, Header: header, Body: http.NoBody}
		if at, ok := httpx.RateLimitInfo(limited, now); ok && !at.IsZero() {
			f.RetryAt = at
		}
		return f
	case "RESOURCE_LIMITS_EXCEEDED", "MAX_NODE_LIMIT_EXCEEDED":
		return orgx.Shrink(o.errs.Fail(errcode.Unavailable, http.StatusOK, "query too large", cause))
	}
	if o.r.cfg.ExcludeSuspendedUsers && strings.Contains(e.Message, "'suspendedAt'") {
		// GitHub's "Field 'suspendedAt' doesn't exist on type 'User'": not
		// GitHub Enterprise Server (GitHub Enterprise Cloud on GHE.com, say).
		return o.errs.Fail(errcode.InvalidArgument, http.StatusOK, "excludeSuspendedUsers: this GitHub's GraphQL API has no User.suspendedAt (GitHub Enterprise Server's field): remove the key", cause)
	}
	if strings.Contains(strings.ToLower(e.Message), "timeout") || strings.Contains(e.Message, "Something went wrong while executing your query") {
		return orgx.Shrink(o.errs.Fail(errcode.Unavailable, http.StatusOK, "GitHub timed out on the query", cause))
	}
	return o.errs.Fail(errcode.Unknown, http.StatusOK, "GraphQL error", cause)
}

// build turns what was read into entities; several organisations' each
// in its own namespace.
func (r *Reader) build(results []*orgRead) *org.Snapshot {
	snap := buildSnapshot(results, len(results) > 1, r.in.Host)
	if r.cfg.DefaultUserTransformer.UseVerifiedEmails {
		// GitHub lists verified-domain addresses only for organisations
		// of GitHub Enterprise Cloud with verified domains; elsewhere the
		// option quietly changes nothing. (Update keeps this warning: its
		// snapshot does not hold the addresses; the next Read decides.)
		for _, d := range results {
			if len(d.members) > 0 && !slices.ContainsFunc(d.members, func(m member) bool { return len(m.Verified) > 0 }) {
				snap.Warnings = append(snap.Warnings, fmt.Sprintf("useVerifiedEmails: no member of organisation %s has an address in a verified domain "+
					"(GitHub lists them for organisations of GitHub Enterprise Cloud with verified domains): public profile e-mails were used", d.login))
			}
		}
	}
	return snap
}

// buildSnapshot turns what was read into entities, in namespaces named
// after the organisations when multi, of the instance host.
func buildSnapshot(results []*orgRead, multi bool, host string) *org.Snapshot {
	snap := &org.Snapshot{}
	ghes := !strings.EqualFold(host, integrations.GitHubHost)
	idOnHost := strings.ToLower(host) + "/user-id"
	for _, d := range results {
		ns := org.DefaultNamespace
		if multi {
			ns = strings.ToLower(d.login)
		}
		nsField := ""
		if ns != org.DefaultNamespace {
			nsField = ns
		}
		users := map[string]*org.User{} // by lower-case login
		exact := map[string]string{}    // verified addresses as listed, by lower-case login
		suspended := map[string]bool{}  // by lower-case login (Config.ExcludeSuspendedUsers)
		var order []string
		for _, m := range d.members {
			key := strings.ToLower(m.Login)
			if m.SuspendedAt != nil {
				suspended[key] = true
				continue
			}
			if users[key] != nil {
				continue
			}
			if !org.ValidName(m.Login) {
				snap.Warnings = append(snap.Warnings, fmt.Sprintf("organisation %s: skipped member %q (id %s): not a valid entity name", d.login, m.Login, m.ID))
				continue
			}
			u := &org.User{Metadata: org.Metadata{Name: m.Login, Namespace: nsField, Annotations: map[string]string{
				"github.com/user-login": m.Login, "github.com/user-id": m.ID}}}
			if ghes {
				// Which instance the node id is of (see the package doc).
				u.Metadata.Annotations[idOnHost] = m.ID
			}
			if m.Name != nil {
				u.Spec.Profile.DisplayName = *m.Name
			}
			if m.Bio != nil {
				u.Metadata.Description = *m.Bio
			}
			u.Spec.Profile.Email, exact[key] = m.email()
			u.Spec.Profile.Picture = m.AvatarURL
			users[key] = u
			order = append(order, key)
		}
		// Two accounts of one person (jane, and a bot registered as
		// jane+bot@) would share the address without the tag, and an
		// e-mail sign-in resolver would then match neither: those keep the
		// address as GitHub lists it.
		shared := map[string]int{}
		for _, u := range users {
			shared[strings.ToLower(u.Spec.Profile.Email)]++
		}
		for k, u := range users {
			if e := exact[k]; e != "" && shared[strings.ToLower(u.Spec.Profile.Email)] > 1 {
				u.Spec.Profile.Email = e
			}
		}
		// Teams whose slug Backstage would reject (GitHub allows slugs
		// longer than 63 characters), and a team the server sent twice, are
		// left out with a warning rather than failing the whole read.
		teams := make([]*team, 0, len(d.teams))
		kept := map[string]bool{} // by lower-case slug
		for _, t := range d.teams {
			k := strings.ToLower(t.Slug)
			switch {
			case kept[k]:
				snap.Warnings = append(snap.Warnings, fmt.Sprintf("organisation %s: skipped a second team %q", d.login, t.Slug))
			case !org.ValidName(t.Slug):
				snap.Warnings = append(snap.Warnings, fmt.Sprintf("organisation %s: skipped team %q: not a valid entity name", d.login, t.Slug))
			default:
				kept[k] = true
				teams = append(teams, t)
			}
		}
		children := map[string][]string{}
		for _, t := range teams {
			if t.ParentTeam != nil && kept[strings.ToLower(t.ParentTeam.Slug)] {
				children[strings.ToLower(t.ParentTeam.Slug)] = append(children[strings.ToLower(t.ParentTeam.Slug)], t.Slug)
			}
		}
		for _, t := range teams {
			g := org.Group{Metadata: org.Metadata{Name: t.Slug, Namespace: nsField, Annotations: map[string]string{
				"github.com/team-slug": d.login + "/" + t.Slug}}}
			if t.EditTeamURL != "" {
				g.Metadata.Annotations["backstage.io/edit-url"] = t.EditTeamURL
			}
			g.Spec.Type = "team"
			g.Spec.Profile.DisplayName = t.Name
			if t.Description != nil {
				g.Metadata.Description = *t.Description
			}
			if t.AvatarURL != nil {
				g.Spec.Profile.Picture = *t.AvatarURL
			}
			if t.ParentTeam != nil && kept[strings.ToLower(t.ParentTeam.Slug)] {
				g.Spec.Parent = t.ParentTeam.Slug
			}
			g.Spec.Children = append([]string{}, children[strings.ToLower(t.Slug)]...)
			seen := map[string]bool{}
			for _, l := range t.logins {
				k := strings.ToLower(l)
				if seen[k] {
					continue
				}
				seen[k] = true
				u := users[k]
				if u == nil && suspended[k] {
					continue // suspended since her team's members were read (or since the snapshot Update applies to)
				}
				if u == nil {
					// Not among the organisation's members as read (one who
					// joined between the listings, or an invalid name): no
					// ref to a user the snapshot does not hold.
					if org.ValidName(l) {
						snap.Warnings = append(snap.Warnings, fmt.Sprintf("organisation %s: team %s: member %q left out: not among the organisation's members read", d.login, t.Slug, l))
					}
					continue
				}
				g.Spec.Members = append(g.Spec.Members, u.Metadata.Name)
				u.Spec.MemberOf = append(u.Spec.MemberOf, t.Slug)
			}
			snap.Groups = append(snap.Groups, g)
		}
		for _, k := range order {
			u := users[k]
			if u.Spec.MemberOf == nil {
				u.Spec.MemberOf = []string{}
			}
			snap.Users = append(snap.Users, *u)
		}
	}
	snap.Warnings = append(snap.Warnings, snap.BreakCycles()...)
	snap.Sort()
	return snap
}

// String describes the reader without any secret.
func (r *Reader) String() string {
	return "githuborg.Reader(" + cmp.Or(r.cfg.ID, "default") + ": " + strings.Join(r.cfg.Orgs, ",") + " on " + r.in.Host + ")"
}

// Format prints String for every verb, so no verb shows a secret.
func (r *Reader) Format(f fmt.State, verb rune) { orgx.Format(f, verb, r.String()) }

// LogValue describes the reader without any secret.
func (r *Reader) LogValue() slog.Value { return slog.StringValue(r.String()) }
