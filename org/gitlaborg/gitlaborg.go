// Package gitlaborg reads GitLab groups, their subgroups and members as
// Backstage User and Group entities, configured as Backstage's
// catalog.providers.gitlab.<id> blocks with orgEnabled: true.
//
// A block names a group, whose tree is read, or, on a self-managed
// instance, none: then, as in Backstage, every group the credential can
// see is read (all of them for an administrator's token) and every active
// user of the instance. gitlab.com without a group is refused, as in
// Backstage: its users and groups are everyone's.
//
// Entities are Backstage's: a user is named by username, with annotation
// <host>/user-login (the user's web URL) and a profile (name, public e-mail,
// avatar); a group is named by its full path without the configured group's
// prefix, '/' replaced by '-' ("acme/platform/sre" under group "acme" is
// "platform-sre"; the configured group itself keeps its full path; without
// a group, the full path with '/' replaced by '-': "acme-platform-sre"),
// spec.type "team", annotation <host>/team-path (the full path),
// spec.parent from its parent group, spec.children and spec.members from
// its members (direct ones; inherited ones too with allowInherited or
// relations). A parent is kept only when the group's path is under it, so
// the groups never form a cycle; a parent GitLab names elsewhere is
// dropped with a warning. Bots and users who are not active are left out,
// and a user or group whose name cannot be an entity name is skipped with
// a warning naming it.
//
// One rule is stricter than Backstage's: full paths that make one name
// ("acme/b-c" and "acme/b/c" both make "b-c"; without a group,
// "platform-admins" and "platform/admins") contest it, and it goes to none
// of them, with one warning naming every path. Whoever may create a group
// chooses its path, and GitLab's listing order and ids follow creation, so
// no order is safe: with first come, first served, anyone allowed to
// create a top-level group (or a subgroup beside the real one) could take
// an existing group's name and the roles bound to it. Only the configured
// group keeps its name over a subgroup that makes the same one ("acme/acme"
// under group "acme"). Rename one of the groups to bring the other back.
//
// Both gitlab.com and self-managed
// instances under a sub-path (https://host/gitlab) work: the GraphQL
// endpoint is beside the integration's apiBaseUrl.
//
// # Requests
//
// The group tree and every group's first 100 members come from GraphQL,
// 100 groups per query; a group with more members costs one more query per
// further 100, batched with other groups' pages. With restrictUsersToGroup
// the users are the members found; otherwise every active user of the
// instance is listed too (GET /api/v4/users?active=true, 100 a page, with
// keyset pagination, so that GitLab's offset limit of 50,000 records does
// not end the listing; with offsets on a GitLab older than 16.5). A
// 3-level tree of 200 groups and 5,000 users costs at most ceil(users/100)
// + ceil(groups/100) + 1 requests (52 measured). A query GitLab finds too
// complex, or that times out, is sent again with halved page sizes.
//
// Without a group, the groups come from GraphQL's top-level groups field
// (Query.groups, every group visible to the credential), 100 a query with
// every group's first 100 members, further member pages batched as above;
// the users come from GET /api/v4/users?active=true (100 a page: an
// administrator's token sees every user, another what GitLab shows it)
// or, with restrictUsersToGroup, are the members of the groups read. 200
// groups in 3 levels and 5,000 users cost ceil(users/100) +
// ceil(groups/100) requests (52 measured), within the same budget.
//
// On gitlab.com, as in Backstage, the instance's users are not listed:
// the users are the members of the configured group's root group (GET
// /groups/:root/members/all?show_seat_info=true, 100 a page) and of the
// groups read, and a member GitLab reports as not using a licensed seat
// (is_using_seat false) is left out, as a user and as a group member,
// unless includeUsersWithoutSeat. Seats are known only for the root
// group's members (direct or inherited there); a member of a subgroup
// alone counts as using one. With restrictUsersToGroup the root group's
// members are read only for their seats.
//
// # Errors
//
// Read returns a complete snapshot or an error, never part of one. A token
// without the read_api scope is PermissionDenied naming the scope.
package gitlaborg

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/internal/orgx"
)

// ConfigPath is where Backstage keeps the GitLab providers.
const ConfigPath = "catalog.providers.gitlab"

// Config is one catalog.providers.gitlab.<id> block, with Backstage's keys.
type Config struct {
	// ID is the block's key.
	ID string `json:"-"`
	// Schedule is the block's schedule key (frequency, timeout,
	// initialDelay, scope), nil when absent; org.Run reads with it.
	Schedule *org.Schedule `json:"schedule"`
	// Host is the GitLab integration's host, e.g. gitlab.com.
	Host string `json:"host"`
	// Group is the full path of the group to read. Empty reads every
	// group the credential sees and every active user of the instance,
	// as Backstage does on a self-managed instance; gitlab.com needs a
	// group.
	Group string `json:"group"`
	// OrgEnabled must be true for the block to be read as org data.
	OrgEnabled bool `json:"orgEnabled"`
	// RestrictUsersToGroup limits users to the members of the groups read.
	RestrictUsersToGroup bool `json:"restrictUsersToGroup"`
	// IncludeUsersWithoutSeat keeps, on gitlab.com, the members of the
	// root group that use no licensed seat (GitLab's is_using_seat false,
	// e.g. guests on Ultimate); by default they are left out, as in
	// Backstage. Self-managed instances ignore it.
	IncludeUsersWithoutSeat bool `json:"includeUsersWithoutSeat"`
	// AllowInherited adds members inherited from parent groups.
	AllowInherited bool `json:"allowInherited"`
	// Relations overrides the membership relations: DIRECT, INHERITED,
	// SHARED_FROM_GROUPS.
	Relations []string `json:"relations"`
	// GroupPattern, a regular expression, keeps only the groups whose full
	// path matches.
	GroupPattern string `json:"groupPattern"`
	// UserPattern, a regular expression (Go's syntax, unanchored, as
	// Backstage's), keeps only the users whose username matches: the
	// others are not made User entities nor members of any group (the
	// bots and service accounts an administrator leaves out, say).
	// Backstage matches it against the user's e-mail address when GitLab
	// gives one, else the username; scmkit matches the username alone,
	// because the address it reads is the public one, which each user
	// sets as she likes (she could set one the pattern keeps). A Read in
	// which it keeps no user says so in Snapshot.Warnings.
	UserPattern string `json:"userPattern"`

	// Warnings, set by DecodeConfig, name the keys of the block that
	// scmkit does not read, each with its path (a typo, a key in
	// another case than Backstage's). Show them to the operator; New
	// does not look at them.
	Warnings []string `json:"-"`
}

// discoveryKeys are the keys of a catalog.providers.gitlab block that
// Backstage's project discovery reads from the same block, and schedule,
// the scheduler's: not reported.
var discoveryKeys = []string{"branch", "fallbackBranch", "entityFilename", "catalogFile", "projectPattern", "useSearch",
	"skipForkedRepos", "includeArchivedRepos", "excludeRepos", "topics", "membership", "schedule"}

// DecodeConfig decodes catalog.providers.gitlab and returns the blocks with
// orgEnabled, sorted by id. Keys it does not read are named in each
// block's Warnings (not the keys of Backstage's project discovery, which
// reads the same block, nor schedule).
func DecodeConfig(d org.Decoder) ([]Config, error) {
	all, err := orgx.DecodeMap(d, ConfigPath, func(c *Config, id string) { c.ID = id })
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if len(all) > 0 {
		if err := d.Decode(ConfigPath, &raw); err != nil {
			return nil, err
		}
	}
	var out []Config
	for _, c := range all {
		if c.OrgEnabled {
			c.Warnings = orgx.KeyWarnings[Config](raw[c.ID], ConfigPath+"."+c.ID, nil, discoveryKeys...)
			out = append(out, c)
		}
	}
	return out, nil
}

// Options configures a Reader. Registry and Resolver are required. The
// fields they share with githuborg.Options mean the same.
type Options struct {
	// Registry finds the integration of Config.Host.
	Registry *integrations.Registry
	// Resolver picks the credential for the configured group (token,
	// never a user's).
	Resolver *credentials.Resolver
	// Transport sends the requests, below credentials and retries; nil
	// means http.DefaultTransport.
	Transport http.RoundTripper
	// MaxRetries, MinWait, MaxWait and MaxRateLimitWait tune the retry and
	// rate-limit policy, as in githuborg.Options (GitLab's RateLimit-Reset
	// is honoured as GitHub's reset is); zero means its defaults.
	MaxRetries       int
	MinWait, MaxWait time.Duration
	MaxRateLimitWait time.Duration
	// RequestTimeout bounds each GraphQL request; one that times out is
	// sent again with halved page sizes. 0 means 60s.
	RequestTimeout time.Duration
	// Concurrency bounds the requests in flight for extra member pages;
	// 0 means 4.
	Concurrency int
	// MaxResponseBytes caps each answer; 0 means 64 MiB.
	MaxResponseBytes int64
	// Progress, when set, receives progress reports.
	Progress org.ProgressFunc
	// Logger receives warnings (skipped users and groups) and retries;
	// nil is silent.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Reader reads one GitLab provider block. It implements org.Reader and is
// safe for concurrent use (each Read is independent; the reader is not
// changed after New). The zero Reader is not usable; make one with [New].
type Reader struct {
	cfg        Config
	in         *integrations.Integration
	graphqlURL string
	apiURL     string
	relations  []string
	pattern    *regexp.Regexp
	users      *regexp.Regexp // Config.UserPattern
	opts       Options
	http       orgx.HTTP // opts' HTTP settings, defaults applied
}

var _ org.Reader = (*Reader)(nil)

// New returns a reader for one block (from [DecodeConfig]). opts is
// required: Registry and Resolver must be set (the same ones the portal's
// scm.Client uses). New makes no request; errors are InvalidArgument
// *errcode.Error values naming the config path (a missing Registry or
// Resolver, a malformed group path, a host with no GitLab integration).
func New(cfg Config, opts *Options) (*Reader, error) {
	const op = "gitlaborg.New"
	if opts == nil || opts.Registry == nil || opts.Resolver == nil {
		return nil, errcode.New(errcode.InvalidArgument, op, "Options.Registry and Options.Resolver are required")
	}
	o := *opts
	bad := func(format string, args ...any) error {
		return errcode.Newf(errcode.InvalidArgument, op, "%s.%s: "+format, append([]any{ConfigPath, cfg.ID}, args...)...)
	}
	cfg.Group = strings.Trim(cfg.Group, "/")
	if cfg.Group != "" {
		for _, seg := range strings.Split(cfg.Group, "/") {
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, " ?#%\\") {
				return nil, bad("group %q is not a GitLab group path", cfg.Group)
			}
		}
	}
	host := cmp.Or(cfg.Host, "gitlab.com")
	in, ok := o.Registry.ByHost(host)
	if !ok || in.Kind != integrations.GitLab {
		return nil, bad("no GitLab integration for host %s", host)
	}
	if cfg.Group == "" && strings.EqualFold(in.Host, "gitlab.com") {
		// As Backstage: gitlab.com's users and groups are everyone's,
		// so an organisation there is a group.
		return nil, bad("group is required on gitlab.com: set it to the full path of the organisation's group")
	}
	if in.Disabled != nil {
		return nil, in.Disabled
	}
	api := strings.TrimRight(in.APIBaseURL, "/")
	if _, ok := orgx.ParseHTTP(api); !ok {
		return nil, bad("the integration's apiBaseUrl %q is not an http(s) URL", redact.URL(in.APIBaseURL))
	}
	rels := []string{"DIRECT"}
	if cfg.AllowInherited {
		rels = append(rels, "INHERITED")
	}
	if len(cfg.Relations) > 0 {
		rels = nil
		for _, r := range cfg.Relations {
			r = strings.ToUpper(r)
			switch r {
			case "DIRECT", "INHERITED", "SHARED_FROM_GROUPS":
				if !slices.Contains(rels, r) {
					rels = append(rels, r)
				}
			default:
				return nil, bad("relations: %q is not DIRECT, INHERITED or SHARED_FROM_GROUPS", r)
			}
		}
	}
	var pat *regexp.Regexp
	if cfg.GroupPattern != "" {
		var err error
		if pat, err = regexp.Compile(cfg.GroupPattern); err != nil {
			return nil, bad("groupPattern: %v", err)
		}
	}
	var users *regexp.Regexp
	if cfg.UserPattern != "" {
		var err error
		if users, err = regexp.Compile(cfg.UserPattern); err != nil {
			return nil, bad("userPattern: %v (Go's regular expressions have no lookahead: write the pattern of the users to keep)", err)
		}
	}
	hs := orgx.HTTP{Transport: o.Transport, RequestTimeout: o.RequestTimeout, Concurrency: o.Concurrency,
		MaxResponseBytes: o.MaxResponseBytes, Logger: o.Logger, Now: o.Now,
		Retry: orgx.Retry{MaxRetries: o.MaxRetries, MinWait: o.MinWait, MaxWait: o.MaxWait, MaxRateLimitWait: o.MaxRateLimitWait}}
	return &Reader{cfg: cfg, in: in, apiURL: api, graphqlURL: strings.TrimSuffix(api, "/api/v4") + "/api/graphql",
		relations: rels, pattern: pat, users: users, opts: o, http: hs.Defaults(4)}, nil
}

const op = "gitlaborg.Read"

type glUser struct {
	ID          string  `json:"id"`
	Username    string  `json:"username"`
	Name        string  `json:"name"`
	PublicEmail *string `json:"publicEmail"`
	AvatarURL   *string `json:"avatarUrl"`
	WebURL      string  `json:"webUrl"`
	State       string  `json:"state"`
	Bot         bool    `json:"bot"`
	// samlUID is the member's group SAML identity (gitlab.com group
	// members, as their group's owner sees them): Backstage's
	// <host>/saml-external-uid annotation.
	samlUID string
}

type memberConn struct {
	PageInfo orgx.PageInfo `json:"pageInfo"`
	Nodes    []*struct {
		User *glUser `json:"user"`
	} `json:"nodes"`
}

type glGroup struct {
	ID          string  `json:"id"`
	FullPath    string  `json:"fullPath"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	AvatarURL   *string `json:"avatarUrl"`
	Parent      *struct {
		FullPath string `json:"fullPath"`
	} `json:"parent"`
	GroupMembers *memberConn `json:"groupMembers"`

	members []*glUser
	pager   orgx.Pager[string] // of the group's member pages, by user id
}

const userFields = `id username name publicEmail avatarUrl webUrl state bot`
const groupFields = `id fullPath name description avatarUrl parent { fullPath }`

// read is one Read's state.
type read struct {
	r     *Reader
	prog  *orgx.Progress
	errs  orgx.Errs
	api   orgx.API // REST
	gql   *orgx.GraphQL
	pages *orgx.Pages[pageSizes] // halved for the rest of the read after a refusal
}

// pageSizes are the page sizes of one read's queries.
type pageSizes struct{ groups, members int }

// Halved returns both sizes halved, and false when both are 1.
func (ps pageSizes) Halved() (pageSizes, bool) {
	return pageSizes{max(1, ps.groups/2), max(1, ps.members/2)}, ps.groups > 1 || ps.members > 1
}

// LogValue lists the sizes.
func (ps pageSizes) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("groups", ps.groups), slog.Int("members", ps.members))
}

// Read reads the configured group tree (or, without Config.Group, every
// group the credential can see).
// It is [org.Reader]'s Read: a sorted, valid snapshot or an error and no
// snapshot (never part of one), skipped entities named in
// Snapshot.Warnings, a missing permission PermissionDenied naming what to
// grant, and Canceled or DeadlineExceeded as soon as ctx ends.
func (r *Reader) Read(ctx context.Context) (*org.Snapshot, error) {
	meter := &orgx.Meter{}
	rd := &read{r: r, prog: orgx.NewProgress(r.opts.Progress, "gitlab:"+r.cfg.ID, meter, r.http.Now),
		errs:  orgx.Errs{Op: op, Provider: "gitlab", Host: r.in.Host},
		pages: orgx.NewPages(pageSizes{100, 100}, r.opts.Logger, "gitlaborg: halving page sizes")}
	rd.api = orgx.API{Errs: rd.errs, MaxResponseBytes: r.http.MaxResponseBytes, HTTPError: rd.httpError,
		Client: r.http.ResolverClient(meter, r.opts.Resolver, credentials.Request{Host: r.in.Host, Owner: r.cfg.Group, Policy: credentials.NoUser})}
	rd.gql = &orgx.GraphQL{API: rd.api, URL: r.graphqlURL, Timeout: r.http.RequestTimeout, QueryErrors: rd.queryErrors}
	groups, err := rd.groups(ctx)
	if err != nil {
		return nil, err
	}
	var users []*glUser
	var noSeat map[string]bool
	switch {
	case r.saas():
		// As Backstage on gitlab.com: the users are the root group's
		// members, not the instance's, and those using no seat are left
		// out unless includeUsersWithoutSeat.
		if users, noSeat, err = rd.rootMembers(ctx, len(groups)); err != nil {
			return nil, err
		}
		if r.cfg.IncludeUsersWithoutSeat {
			noSeat = nil
		}
		if r.cfg.RestrictUsersToGroup {
			users = nil // read only for their seats
		}
	case !r.cfg.RestrictUsersToGroup:
		if users, err = rd.allUsers(ctx, len(groups)); err != nil {
			return nil, err
		}
	}
	snap := r.build(groups, users, noSeat)
	if err := orgx.Done(ctx, snap, rd.prog, r.opts.Logger, "gitlaborg", r.cfg.ID); err != nil {
		return nil, err
	}
	return snap, nil
}

// query sends the query build makes for the current page sizes.
func (rd *read) query(ctx context.Context, build func(pageSizes) (string, map[string]any), out any) error {
	return orgx.Query(ctx, rd.gql, rd.pages, build, out)
}

// groups reads the tree, each group with all its members.
func (rd *read) groups(ctx context.Context) ([]*glGroup, error) {
	if rd.r.cfg.Group == "" {
		return rd.instanceGroups(ctx)
	}
	var all []*glGroup
	var pending []*glGroup
	var after *string
	var pager orgx.Pager[string] // by lower-case full path
	first := true
	for {
		var q strings.Builder
		q.WriteString("query($root: ID!, $first: Int!, $after: String, $mFirst: Int!, $rel: [GroupMemberRelation!]) { group(fullPath: $root) { ")
		q.WriteString(groupFields)
		if first {
			q.WriteString(" groupMembers(first: $mFirst, relations: $rel) { pageInfo { hasNextPage endCursor } nodes { user { " + userFields + " } } }")
		}
		q.WriteString(" descendantGroups(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { " + groupFields +
			" groupMembers(first: $mFirst, relations: $rel) { pageInfo { hasNextPage endCursor } nodes { user { " + userFields + " } } } } } } }")
		var data struct {
			Group *struct {
				glGroup
				DescendantGroups *struct {
					PageInfo orgx.PageInfo `json:"pageInfo"`
					Nodes    []*glGroup    `json:"nodes"`
				} `json:"descendantGroups"`
			} `json:"group"`
		}
		err := rd.query(ctx, func(ps pageSizes) (string, map[string]any) {
			return q.String(), map[string]any{"root": rd.r.cfg.Group, "first": ps.groups, "after": after,
				"mFirst": ps.members, "rel": rd.r.relations}
		}, &data)
		if err != nil {
			return nil, err
		}
		if data.Group == nil {
			return nil, &errcode.Error{Code: errcode.NotFound, Op: op, Provider: "gitlab", Host: rd.r.in.Host,
				Msg: fmt.Sprintf("group %s not found, or not visible to the credential", rd.r.cfg.Group)}
		}
		page := []*glGroup{}
		if first {
			root := data.Group.glGroup
			page = append(page, &root)
		}
		if d := data.Group.DescendantGroups; d != nil {
			for _, g := range d.Nodes {
				if g != nil {
					page = append(page, g)
				}
			}
		}
		for _, g := range page {
			if more, err := rd.firstMembers(g); err != nil {
				return nil, err
			} else if more {
				pending = append(pending, g)
			}
			pager.Saw(strings.ToLower(g.FullPath))
		}
		all = append(all, page...)
		rd.prog.Report("groups", 0, len(all), false)
		first = false
		if d := data.Group.DescendantGroups; d == nil || !d.PageInfo.HasNextPage {
			break
		} else {
			c := d.PageInfo.EndCursor
			if !pager.Next(c) {
				// A cursor given before, or a page with no group not read
				// before: a listing that would never end.
				return nil, rd.errs.Repeated("subgroups of " + rd.r.cfg.Group)
			}
			after = &c
		}
	}
	if err := rd.moreMembers(ctx, pending); err != nil {
		return nil, err
	}
	return all, nil
}

// instanceGroups reads every group the credential sees (Query.groups, 100
// a query), each with its first page of members, then the further member
// pages of big groups, batched.
func (rd *read) instanceGroups(ctx context.Context) ([]*glGroup, error) {
	const q = "query($first: Int!, $after: String, $mFirst: Int!, $rel: [GroupMemberRelation!]) { groups(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { " +
		groupFields + " groupMembers(first: $mFirst, relations: $rel) { pageInfo { hasNextPage endCursor } nodes { user { " + userFields + " } } } } } }"
	var all, pending []*glGroup
	var after *string
	var pager orgx.Pager[string] // by lower-case full path
	for {
		var data struct {
			Groups *struct {
				PageInfo orgx.PageInfo `json:"pageInfo"`
				Nodes    []*glGroup    `json:"nodes"`
			} `json:"groups"`
		}
		err := rd.query(ctx, func(ps pageSizes) (string, map[string]any) {
			return q, map[string]any{"first": ps.groups, "after": after, "mFirst": ps.members, "rel": rd.r.relations}
		}, &data)
		if err != nil && strings.Contains(err.Error(), "doesn't exist on type 'Query'") {
			// An instance whose GraphQL API predates Query.groups.
			return nil, rd.errs.Fail(errcode.Unimplemented, http.StatusOK,
				"this GitLab cannot list its groups by GraphQL (no Query.groups): set group in "+ConfigPath+"."+cmp.Or(rd.r.cfg.ID, "default"), err)
		}
		if err != nil {
			return nil, err
		}
		if data.Groups == nil {
			return nil, rd.errs.Fail(errcode.Unavailable, http.StatusOK, "GitLab answered no group list", nil)
		}
		for _, g := range data.Groups.Nodes {
			if g == nil {
				continue
			}
			if more, err := rd.firstMembers(g); err != nil {
				return nil, err
			} else if more {
				pending = append(pending, g)
			}
			all = append(all, g)
			pager.Saw(strings.ToLower(g.FullPath))
		}
		rd.prog.Report("groups", 0, len(all), false)
		if !data.Groups.PageInfo.HasNextPage {
			break
		}
		c := data.Groups.PageInfo.EndCursor
		if !pager.Next(c) {
			return nil, rd.errs.Repeated("the instance's groups")
		}
		after = &c
	}
	if err := rd.moreMembers(ctx, pending); err != nil {
		return nil, err
	}
	return all, nil
}

// firstMembers keeps the page of members g came with, if any, and reports
// whether more pages follow.
func (rd *read) firstMembers(g *glGroup) (bool, error) {
	if g.GroupMembers == nil {
		return false, nil
	}
	return rd.addMembers(g, g.GroupMembers)
}

// addMembers keeps a page of g's members and reports whether more pages
// follow; a cursor given before is an error.
func (rd *read) addMembers(g *glGroup, page *memberConn) (bool, error) {
	for _, n := range page.Nodes {
		if n != nil && n.User != nil {
			g.members = append(g.members, n.User)
			g.pager.Saw(n.User.ID)
		}
	}
	g.GroupMembers.PageInfo = page.PageInfo
	if !page.PageInfo.HasNextPage {
		return false, nil
	}
	// A cursor given before, or a page with no member not read before, is
	// a listing that would never end; but GraphQL lists pending
	// invitations without a user, and a page of only those (brings nothing
	// new and) is followed.
	next := g.pager.Next
	if len(page.Nodes) > 0 && onlyInvites(page) {
		next = g.pager.Follow
	}
	if !next(page.PageInfo.EndCursor) {
		return false, rd.errs.Repeated("members of group " + g.FullPath)
	}
	return true, nil
}

// onlyInvites reports whether every member of page is a pending
// invitation (no user).
func onlyInvites(page *memberConn) bool {
	for _, n := range page.Nodes {
		if n != nil && n.User != nil {
			return false
		}
	}
	return true
}

const groupsPerQuery = 10

// moreMembers reads further member pages of big groups, batched.
func (rd *read) moreMembers(ctx context.Context, pending []*glGroup) error {
	return orgx.Rounds(ctx, pending, groupsPerQuery, rd.r.http.Concurrency, rd.memberPages, func(g *glGroup) string { return g.FullPath })
}

func (rd *read) memberPages(ctx context.Context, batch []*glGroup) ([]*glGroup, error) {
	var q strings.Builder
	q.WriteString("query($mFirst: Int!, $rel: [GroupMemberRelation!]")
	for i := range batch {
		fmt.Fprintf(&q, ", $p%d: ID!, $c%d: String", i, i)
	}
	q.WriteString(") {")
	for i := range batch {
		fmt.Fprintf(&q, " g%d: group(fullPath: $p%d) { fullPath groupMembers(first: $mFirst, after: $c%d, relations: $rel) { pageInfo { hasNextPage endCursor } nodes { user { %s } } } }", i, i, i, userFields)
	}
	q.WriteString(" }")
	var data map[string]*struct {
		FullPath     string      `json:"fullPath"`
		GroupMembers *memberConn `json:"groupMembers"`
	}
	err := rd.query(ctx, func(ps pageSizes) (string, map[string]any) {
		vars := map[string]any{"mFirst": ps.members, "rel": rd.r.relations}
		for i, g := range batch {
			vars[fmt.Sprintf("p%d", i)] = g.FullPath
			vars[fmt.Sprintf("c%d", i)] = g.GroupMembers.PageInfo.EndCursor
		}
		return q.String(), vars
	}, &data)
	if err != nil {
		return nil, err
	}
	var more []*glGroup
	for i, g := range batch {
		got := data[fmt.Sprintf("g%d", i)]
		if got == nil || got.GroupMembers == nil {
			return nil, &errcode.Error{Code: errcode.Unavailable, Op: op, Provider: "gitlab", Host: rd.r.in.Host,
				Msg: fmt.Sprintf("group %s disappeared while its members were read", g.FullPath)}
		}
		if again, err := rd.addMembers(g, got.GroupMembers); err != nil {
			return nil, err
		} else if again {
			more = append(more, g)
		}
	}
	return more, nil
}

// allUsers lists the instance's active users (REST, 100 a page) with
// keyset pagination, which GitLab offers for users since 16.5: its offset
// pagination of an endpoint that has keyset pagination stops at GitLab's
// offset limit (50,000 records by default), and gets slower with every
// page. An older GitLab refuses keyset pagination there (405): the users
// are then read with offsets.
func (rd *read) allUsers(ctx context.Context, groups int) ([]*glUser, error) {
	offset := rd.r.apiURL + "/users?active=true&exclude_internal=true&per_page=100"
	users, _, err := rd.restUsers(ctx, groups, offset+"&pagination=keyset&order_by=id&sort=asc", "users", offset)
	return users, err
}

// rootMembers lists the members of the configured group's root group on
// gitlab.com with their seat information (REST, 100 a page), as Backstage
// lists SaaS users; noSeat holds the lower-case usernames GitLab reports as
// not using a seat.
func (rd *read) rootMembers(ctx context.Context, groups int) (users []*glUser, noSeat map[string]bool, err error) {
	root, _, _ := strings.Cut(rd.r.cfg.Group, "/")
	return rd.restUsers(ctx, groups, rd.r.apiURL+"/groups/"+url.PathEscape(root)+"/members/all?show_seat_info=true&per_page=100", "members of group "+root, "")
}

// restUsers reads a paged REST list of users, from first on. The next
// page is the one X-Next-Page names (offset pagination) or, without it,
// the Link header's rel="next" (keyset pagination, where GitLab sends
// nothing else); the link's query is sent to first's own path, so that
// nothing goes to another host or path whatever the link says. When
// fallback is set and GitLab refuses first with 405 (keyset pagination
// not available there), the listing starts again from fallback.
func (rd *read) restUsers(ctx context.Context, groups int, first, what, fallback string) ([]*glUser, map[string]bool, error) {
	var out []*glUser
	noSeat := map[string]bool{}
	next := first
	// A page with no user not listed before, and more promised: a server
	// ignoring the page asked for would never end.
	var pages orgx.Pager[int64] // by user id
	for next != "" {
		var page []struct {
			ID          int64   `json:"id"`
			Username    string  `json:"username"`
			Name        string  `json:"name"`
			State       string  `json:"state"`
			AvatarURL   *string `json:"avatar_url"`
			WebURL      string  `json:"web_url"`
			Bot         bool    `json:"bot"`
			PublicEmail *string `json:"public_email"`
			Email       *string `json:"email"`         // members of gitlab.com groups: enterprise users' e-mail
			UsingSeat   *bool   `json:"is_using_seat"` // with show_seat_info=true
			// group_saml_identity: members of a gitlab.com group with
			// SAML single sign-on, to the group's owners.
			SAML *struct {
				ExternUID string `json:"extern_uid"`
			} `json:"group_saml_identity"`
		}
		header, err := rd.api.GetJSON(ctx, next, http.Header{"Accept": {"application/json"}}, &page)
		var e *errcode.Error
		if next == first && fallback != "" && errors.As(err, &e) && e.Status == http.StatusMethodNotAllowed {
			first, next, fallback = fallback, fallback, ""
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		for _, u := range page {
			pages.Saw(u.ID)
			gu := &glUser{ID: strconv.FormatInt(u.ID, 10), Username: u.Username, Name: u.Name, State: u.State,
				AvatarURL: u.AvatarURL, WebURL: u.WebURL, Bot: u.Bot, PublicEmail: cmp.Or(u.PublicEmail, u.Email)}
			if u.SAML != nil {
				gu.samlUID = u.SAML.ExternUID
			}
			out = append(out, gu)
			if u.UsingSeat != nil && !*u.UsingSeat {
				noSeat[strings.ToLower(u.Username)] = true
			}
		}
		rd.prog.Report("users", len(out), groups, false)
		next = ""
		if nextPage := header.Get("X-Next-Page"); nextPage != "" {
			if _, err := strconv.Atoi(nextPage); err == nil {
				if !pages.Next(nextPage) {
					return nil, nil, rd.errs.Repeated(what)
				}
				next = first + "&page=" + nextPage
			}
		} else if q, ok := orgx.NextQuery(header.Get("Link")); ok {
			if !pages.Next(q) {
				return nil, nil, rd.errs.Repeated(what)
			}
			path, _, _ := strings.Cut(first, "?")
			next = path + "?" + q
		}
	}
	return out, noSeat, nil
}

// queryErrors is the one place where GitLab's GraphQL errors become codes.
func (rd *read) queryErrors(errs []orgx.QueryError, _ http.Header) error {
	msg := errs[0].Message
	cause := errors.New(msg)
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "complexity") || strings.Contains(lower, "timeout") || strings.Contains(lower, "timed out"):
		return orgx.Shrink(rd.errs.Fail(errcode.Unavailable, http.StatusOK, "query too large for GitLab", cause))
	case strings.Contains(lower, "insufficient") || strings.Contains(lower, "permission"):
		return rd.errs.Fail(errcode.PermissionDenied, http.StatusOK, permissionHint, cause)
	}
	return rd.errs.Fail(errcode.Unknown, http.StatusOK, "GraphQL error", cause)
}

const permissionHint = "GitLab denied reading groups and members: grant the token the read_api scope (and read_user to list users)"

// httpError is the one place where GitLab's HTTP errors become codes.
func (rd *read) httpError(resp *http.Response) error {
	return rd.errs.Answer(resp, rd.r.http.Now(), orgx.Wording{
		Unauthorized:     "GitLab refused the credential",
		PermissionDenied: permissionHint,
		RateLimited:      "rate limited",
		NotFound:         "not found",
		InvalidArgument:  "GitLab refused the request",
		Unavailable:      "GitLab failed",
		GaveUp:           "GitLab timed out",
		Unknown:          "unexpected answer",
	}, func(body []byte) string {
		var ge struct {
			Message any    `json:"message"`
			Error   string `json:"error"`
			Desc    string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &ge)
		return strings.TrimSpace(fmt.Sprint(cmp.Or[any](ge.Message, ge.Error), " ", ge.Desc))
	})
}

// groupName is Backstage's name for a group: the full path without the
// configured group's prefix, '/' replaced by '-'.
func (r *Reader) groupName(fullPath string) string {
	rel := fullPath
	if p, ok := strings.CutPrefix(strings.ToLower(fullPath), strings.ToLower(r.cfg.Group)+"/"); ok {
		rel = fullPath[len(fullPath)-len(p):]
	}
	return strings.ReplaceAll(rel, "/", "-")
}

func usable(u *glUser) bool { return u != nil && !u.Bot && (u.State == "" || u.State == "active") }

// saas reports whether the reader reads gitlab.com, where Backstage lists
// the root group's members with their seats instead of the instance's
// users.
func (r *Reader) saas() bool { return strings.EqualFold(r.in.Host, "gitlab.com") }

// build turns the groups and users into entities.
func (r *Reader) build(groups []*glGroup, extra []*glUser, noSeat map[string]bool) *org.Snapshot {
	snap := &org.Snapshot{}
	warn := func(format string, args ...any) { snap.Warnings = append(snap.Warnings, fmt.Sprintf(format, args...)) }
	host := r.in.Host
	users := map[string]*org.User{}
	var order []string
	excluded := 0 // users userPattern left out
	addUser := func(u *glUser) *org.User {
		if !usable(u) || noSeat[strings.ToLower(u.Username)] {
			return nil
		}
		k := strings.ToLower(u.Username)
		if r.users != nil && !r.users.MatchString(u.Username) {
			if _, seen := users[k]; !seen {
				users[k] = nil
				excluded++
			}
			return nil
		}
		if e := users[k]; e != nil {
			return e
		}
		if !org.ValidName(u.Username) {
			if _, warned := users[k]; !warned {
				warn("user %s (%s): skipped: not a valid entity name", u.Username, u.ID)
				users[k] = nil
			}
			return nil
		}
		e := &org.User{Metadata: org.Metadata{Name: u.Username, Annotations: map[string]string{host + "/user-login": u.WebURL}}}
		if u.samlUID != "" {
			e.Metadata.Annotations[host+"/saml-external-uid"] = u.samlUID
		}
		e.Spec.Profile.DisplayName = u.Name
		if u.PublicEmail != nil {
			e.Spec.Profile.Email = *u.PublicEmail
		}
		if u.AvatarURL != nil {
			e.Spec.Profile.Picture = *u.AvatarURL
		}
		e.Spec.MemberOf = []string{}
		users[k] = e
		order = append(order, k)
		return e
	}
	for _, u := range extra {
		addUser(u)
	}
	kept := map[string]string{} // lower full path -> entity name
	names := orgx.NewNames("group", &snap.Warnings)
	if r.cfg.Group != "" {
		// The configured group's name comes from the configuration.
		names.Reserve(r.groupName(r.cfg.Group), r.cfg.Group)
	}
	for _, g := range groups {
		if r.pattern != nil && !r.pattern.MatchString(g.FullPath) && !strings.EqualFold(g.FullPath, r.cfg.Group) {
			continue
		}
		name := r.groupName(g.FullPath)
		if !org.ValidName(name) {
			warn("group %s: skipped: %q is not a valid entity name", g.FullPath, name)
			continue
		}
		if strings.EqualFold(g.FullPath, r.cfg.Group) {
			kept[strings.ToLower(g.FullPath)] = name
			continue
		}
		// "a/b-c" and "a/b/c" both become "b-c" under Backstage's rule:
		// the name goes to neither (see the package doc).
		names.Claim(name, strings.ToLower(g.FullPath), g.FullPath)
		kept[strings.ToLower(g.FullPath)] = name
	}
	got := names.Settle()
	maps.DeleteFunc(kept, func(path, _ string) bool { return !got[path] && !strings.EqualFold(path, r.cfg.Group) })
	// A group's parent is the group its full path is under: a parent
	// GitLab names elsewhere is dropped with a warning, so every parent's
	// path is shorter than its child's and no cycle can be built.
	parentOf := map[string]string{} // entity name -> parent's entity name
	children := map[string][]string{}
	for _, g := range groups {
		name, ok := kept[strings.ToLower(g.FullPath)]
		if !ok || g.Parent == nil {
			continue
		}
		if !strings.HasPrefix(strings.ToLower(g.FullPath), strings.ToLower(g.Parent.FullPath)+"/") {
			warn("group %s: parent %s left out: its path is not under the parent's", g.FullPath, g.Parent.FullPath)
			continue
		}
		if p, ok := kept[strings.ToLower(g.Parent.FullPath)]; ok {
			parentOf[name] = p
			children[p] = append(children[p], name)
		}
	}
	for _, g := range groups {
		name, ok := kept[strings.ToLower(g.FullPath)]
		if !ok {
			continue
		}
		e := org.Group{Metadata: org.Metadata{Name: name, Annotations: map[string]string{host + "/team-path": g.FullPath}}}
		e.Spec.Type = "team"
		e.Spec.Profile.DisplayName = g.Name
		if g.Description != nil {
			e.Metadata.Description = *g.Description
		}
		if g.AvatarURL != nil {
			e.Spec.Profile.Picture = *g.AvatarURL
		}
		e.Spec.Parent = parentOf[name]
		e.Spec.Children = append([]string{}, children[name]...)
		seen := map[string]bool{}
		for _, m := range g.members {
			u := addUser(m)
			if u == nil || seen[u.Metadata.Name] {
				continue
			}
			seen[u.Metadata.Name] = true
			e.Spec.Members = append(e.Spec.Members, u.Metadata.Name)
			u.Spec.MemberOf = append(u.Spec.MemberOf, name)
		}
		snap.Groups = append(snap.Groups, e)
	}
	for _, k := range order {
		snap.Users = append(snap.Users, *users[k])
	}
	if excluded > 0 && len(snap.Users) == 0 {
		warn("userPattern %q kept none of the %d users: it is matched against usernames, not e-mail addresses", r.cfg.UserPattern, excluded)
	}
	snap.Warnings = append(snap.Warnings, snap.BreakCycles()...)
	snap.Sort()
	return snap
}

// String describes the reader without any secret.
func (r *Reader) String() string {
	return "gitlaborg.Reader(" + cmp.Or(r.cfg.ID, "default") + ": " + cmp.Or(r.cfg.Group, "every group") + " on " + r.in.Host + ")"
}

// Format prints String for every verb, so no verb shows a secret.
func (r *Reader) Format(f fmt.State, verb rune) { orgx.Format(f, verb, r.String()) }

// LogValue describes the reader without any secret.
func (r *Reader) LogValue() slog.Value { return slog.StringValue(r.String()) }
