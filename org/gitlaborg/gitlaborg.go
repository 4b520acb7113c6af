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
// a warning naming it. Both gitlab.com and self-managed
// instances under a sub-path (https://host/gitlab) work: the GraphQL
// endpoint is beside the integration's apiBaseUrl.
//
// # Requests
//
// The group tree and every group's first 100 members come from GraphQL,
// 100 groups per query; a group with more members costs one more query per
// further 100, batched with other groups' pages. With restrictUsersToGroup
// the users are the members found; otherwise every active user of the
// instance is listed too (GET /api/v4/users?active=true, 100 a page). A
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
	"bytes"
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
	"sync"
	"time"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/internal/orgx"
)

// ConfigPath is where Backstage keeps the GitLab providers.
const ConfigPath = "catalog.providers.gitlab"

// Config is one catalog.providers.gitlab.<id> block, with Backstage's keys.
type Config struct {
	// ID is the block's key.
	ID string `json:"-"`
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
}

// DecodeConfig decodes catalog.providers.gitlab and returns the blocks with
// orgEnabled, sorted by id.
func DecodeConfig(d orgx.Decoder) ([]Config, error) {
	if d == nil || !d.Has(ConfigPath) {
		return nil, nil
	}
	var m map[string]Config
	if err := d.Decode(ConfigPath, &m); err != nil {
		return nil, err
	}
	var out []Config
	for _, id := range slices.Sorted(maps.Keys(m)) {
		if c := m[id]; c.OrgEnabled {
			c.ID = id
			out = append(out, c)
		}
	}
	return out, nil
}

// Options configures a Reader. Registry and Resolver are required.
type Options struct {
	Registry  *integrations.Registry
	Resolver  *credentials.Resolver
	Transport http.RoundTripper
	// MaxRetries, MinWait, MaxWait and MaxRateLimitWait tune the retry and
	// rate-limit policy (internal/httpx); zero means its defaults.
	MaxRetries       int
	MinWait, MaxWait time.Duration
	MaxRateLimitWait time.Duration
	// RequestTimeout bounds each GraphQL request; 0 means 60s.
	RequestTimeout time.Duration
	// Concurrency bounds the requests in flight for extra member pages;
	// 0 means 4.
	Concurrency int
	// MaxResponseBytes caps each answer; 0 means 64 MiB.
	MaxResponseBytes int64
	Progress         org.ProgressFunc
	Logger           *slog.Logger
	Now              func() time.Time
}

// Reader reads one GitLab provider block. It implements org.Reader.
type Reader struct {
	cfg        Config
	in         *integrations.Integration
	graphqlURL string
	apiURL     string
	relations  []string
	pattern    *regexp.Regexp
	opts       Options
}

var _ org.Reader = (*Reader)(nil)

// New returns a reader for one block.
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
	u, err := url.Parse(api)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, bad("the integration's apiBaseUrl %q is not an http(s) URL", in.APIBaseURL)
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
		if pat, err = regexp.Compile(cfg.GroupPattern); err != nil {
			return nil, bad("groupPattern: %v", err)
		}
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 60 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = 64 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Reader{cfg: cfg, in: in, apiURL: api, graphqlURL: strings.TrimSuffix(api, "/api/v4") + "/api/graphql",
		relations: rels, pattern: pat, opts: o}, nil
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
}

type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

type memberConn struct {
	PageInfo pageInfo `json:"pageInfo"`
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
	cursors orgx.Cursors // of the group's member pages
}

const userFields = `id username name publicEmail avatarUrl webUrl state bot`
const groupFields = `id fullPath name description avatarUrl parent { fullPath }`

// read is one Read's state.
type read struct {
	r    *Reader
	hc   *http.Client
	prog *orgx.Progress

	mu    sync.Mutex // guards pages, shared by concurrent queries
	pages pageSizes  // halved for the rest of the read after a refusal
}

type pageSizes struct{ groups, members int }

func (rd *read) pageSizes() pageSizes {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	return rd.pages
}

// Read reads the configured group tree.
func (r *Reader) Read(ctx context.Context) (*org.Snapshot, error) {
	meter := &orgx.Meter{}
	rd := &read{r: r, prog: orgx.NewProgress(r.opts.Progress, "gitlab:"+r.cfg.ID, meter, r.opts.Now)}
	rd.pages = pageSizes{100, 100}
	rd.hc = orgx.Client(r.opts.Transport, meter, func(base http.RoundTripper) http.RoundTripper {
		return &credentials.Transport{Base: base, Resolver: r.opts.Resolver,
			Request: credentials.Request{Host: r.in.Host, Owner: r.cfg.Group, Policy: credentials.NoUser}}
	}, orgx.Retry{MaxRetries: r.opts.MaxRetries, MinWait: r.opts.MinWait, MaxWait: r.opts.MaxWait, MaxRateLimitWait: r.opts.MaxRateLimitWait}, r.opts.Logger)
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
	if err := snap.Validate(); err != nil {
		// The build skips what Backstage would reject; this is a bug.
		return nil, err
	}
	rd.prog.Report("done", len(snap.Users), len(snap.Groups), true)
	if r.opts.Logger != nil {
		for _, w := range snap.Warnings {
			r.opts.Logger.WarnContext(ctx, "gitlaborg: "+w, "provider", r.cfg.ID)
		}
	}
	return snap, nil
}

// groups reads the tree, each group with all its members.
func (rd *read) groups(ctx context.Context) ([]*glGroup, error) {
	if rd.r.cfg.Group == "" {
		return rd.instanceGroups(ctx)
	}
	var all []*glGroup
	var pending []*glGroup
	var after *string
	var cursors orgx.Cursors
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
					PageInfo pageInfo   `json:"pageInfo"`
					Nodes    []*glGroup `json:"nodes"`
				} `json:"descendantGroups"`
			} `json:"group"`
		}
		err := rd.adaptive(ctx, func(ps pageSizes) (string, map[string]any) {
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
			if g.GroupMembers != nil {
				g.members = appendUsers(g.members, g.GroupMembers)
				if g.GroupMembers.PageInfo.HasNextPage {
					if !g.cursors.Next(g.GroupMembers.PageInfo.EndCursor) {
						return nil, rd.repeated("members of group " + g.FullPath)
					}
					pending = append(pending, g)
				}
			}
		}
		all = append(all, page...)
		rd.prog.Report("groups", 0, len(all), false)
		first = false
		if d := data.Group.DescendantGroups; d == nil || !d.PageInfo.HasNextPage {
			break
		} else {
			c := d.PageInfo.EndCursor
			if !cursors.Next(c) {
				return nil, rd.repeated("subgroups of " + rd.r.cfg.Group)
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
	var cursors orgx.Cursors
	for {
		var data struct {
			Groups *struct {
				PageInfo pageInfo   `json:"pageInfo"`
				Nodes    []*glGroup `json:"nodes"`
			} `json:"groups"`
		}
		err := rd.adaptive(ctx, func(ps pageSizes) (string, map[string]any) {
			return q, map[string]any{"first": ps.groups, "after": after, "mFirst": ps.members, "rel": rd.r.relations}
		}, &data)
		if err != nil && strings.Contains(err.Error(), "doesn't exist on type 'Query'") {
			// An instance whose GraphQL API predates Query.groups.
			return nil, rd.fail(errcode.Unimplemented, http.StatusOK,
				"this GitLab cannot list its groups by GraphQL (no Query.groups): set group in "+ConfigPath+"."+idOr(rd.r.cfg.ID), err)
		}
		if err != nil {
			return nil, err
		}
		if data.Groups == nil {
			return nil, rd.fail(errcode.Unavailable, http.StatusOK, "GitLab answered no group list", nil)
		}
		for _, g := range data.Groups.Nodes {
			if g == nil {
				continue
			}
			if g.GroupMembers != nil {
				g.members = appendUsers(g.members, g.GroupMembers)
				if g.GroupMembers.PageInfo.HasNextPage {
					if !g.cursors.Next(g.GroupMembers.PageInfo.EndCursor) {
						return nil, rd.repeated("members of group " + g.FullPath)
					}
					pending = append(pending, g)
				}
			}
			all = append(all, g)
		}
		rd.prog.Report("groups", 0, len(all), false)
		if !data.Groups.PageInfo.HasNextPage {
			break
		}
		c := data.Groups.PageInfo.EndCursor
		if !cursors.Next(c) {
			return nil, rd.repeated("the instance's groups")
		}
		after = &c
	}
	if err := rd.moreMembers(ctx, pending); err != nil {
		return nil, err
	}
	return all, nil
}

func appendUsers(dst []*glUser, c *memberConn) []*glUser {
	for _, n := range c.Nodes {
		if n != nil && n.User != nil {
			dst = append(dst, n.User)
		}
	}
	return dst
}

const groupsPerQuery = 10

// moreMembers reads further member pages of big groups, batched.
func (rd *read) moreMembers(ctx context.Context, pending []*glGroup) error {
	return orgx.Rounds(ctx, pending, groupsPerQuery, rd.r.opts.Concurrency, rd.memberPages, func(g *glGroup) string { return g.FullPath })
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
	err := rd.adaptive(ctx, func(ps pageSizes) (string, map[string]any) {
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
		g.members = appendUsers(g.members, got.GroupMembers)
		g.GroupMembers.PageInfo = got.GroupMembers.PageInfo
		if got.GroupMembers.PageInfo.HasNextPage {
			if !g.cursors.Next(got.GroupMembers.PageInfo.EndCursor) {
				return nil, rd.repeated("members of group " + g.FullPath)
			}
			more = append(more, g)
		}
	}
	return more, nil
}

// allUsers lists the instance's active users (REST, 100 a page).
func (rd *read) allUsers(ctx context.Context, groups int) ([]*glUser, error) {
	users, _, err := rd.restUsers(ctx, groups, rd.r.apiURL+"/users?active=true&exclude_internal=true&per_page=100", "users")
	return users, err
}

// rootMembers lists the members of the configured group's root group on
// gitlab.com with their seat information (REST, 100 a page), as Backstage
// lists SaaS users; noSeat holds the lower-case usernames GitLab reports as
// not using a seat.
func (rd *read) rootMembers(ctx context.Context, groups int) (users []*glUser, noSeat map[string]bool, err error) {
	root, _, _ := strings.Cut(rd.r.cfg.Group, "/")
	return rd.restUsers(ctx, groups, rd.r.apiURL+"/groups/"+url.PathEscape(root)+"/members/all?show_seat_info=true&per_page=100", "members of group "+root)
}

// restUsers reads a paged REST list of users, from first on.
func (rd *read) restUsers(ctx context.Context, groups int, first, what string) ([]*glUser, map[string]bool, error) {
	var out []*glUser
	noSeat := map[string]bool{}
	next := first
	var pages orgx.Cursors
	for next != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, nil, errcode.Wrap(errcode.InvalidArgument, op, err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := rd.hc.Do(req)
		if err != nil {
			return nil, nil, rd.transportError(ctx, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, nil, rd.httpError(resp)
		}
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
		}
		nextPage := resp.Header.Get("X-Next-Page")
		if err := orgx.ReadJSON(op, resp, rd.r.opts.MaxResponseBytes, &page); err != nil {
			return nil, nil, err
		}
		for _, u := range page {
			out = append(out, &glUser{ID: strconv.FormatInt(u.ID, 10), Username: u.Username, Name: u.Name, State: u.State,
				AvatarURL: u.AvatarURL, WebURL: u.WebURL, Bot: u.Bot, PublicEmail: cmp.Or(u.PublicEmail, u.Email)})
			if u.UsingSeat != nil && !*u.UsingSeat {
				noSeat[strings.ToLower(u.Username)] = true
			}
		}
		rd.prog.Report("users", len(out), groups, false)
		next = ""
		if nextPage != "" {
			if _, err := strconv.Atoi(nextPage); err == nil {
				if !pages.Next(nextPage) {
					return nil, nil, rd.repeated(what)
				}
				next = first + "&page=" + nextPage
			}
		}
	}
	return out, noSeat, nil
}

const maxHalvings = 7

func (rd *read) adaptive(ctx context.Context, build func(pageSizes) (string, map[string]any), out any) error {
	for attempt := 0; ; attempt++ {
		ps := rd.pageSizes()
		q, vars := build(ps)
		err := rd.post(ctx, q, vars, out)
		var s errShrink
		if err == nil || !errors.As(err, &s) || attempt >= maxHalvings || ctx.Err() != nil || (ps.groups == 1 && ps.members == 1) {
			return err
		}
		rd.mu.Lock()
		if rd.pages == ps { // another query may have halved them already
			rd.pages = pageSizes{max(1, ps.groups/2), max(1, ps.members/2)}
		}
		ps = rd.pages
		rd.mu.Unlock()
		if rd.r.opts.Logger != nil {
			rd.r.opts.Logger.InfoContext(ctx, "gitlaborg: halving page sizes", "groups", ps.groups, "members", ps.members, "cause", err.Error())
		}
	}
}

type errShrink struct{ error }

func (e errShrink) Unwrap() error { return e.error }

func (rd *read) post(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return errcode.Wrap(errcode.Unknown, op, err)
	}
	rctx, cancel := context.WithTimeout(ctx, rd.r.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, rd.r.graphqlURL, bytes.NewReader(body))
	if err != nil {
		return errcode.Wrap(errcode.InvalidArgument, op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := rd.hc.Do(req)
	if err != nil {
		if ctx.Err() == nil && rctx.Err() != nil {
			return errShrink{rd.fail(errcode.DeadlineExceeded, 0, "a GraphQL query timed out", err)}
		}
		return rd.transportError(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		return rd.httpError(resp)
	}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := orgx.ReadJSON(op, resp, rd.r.opts.MaxResponseBytes, &env); err != nil {
		return err
	}
	if len(env.Errors) > 0 {
		msg := env.Errors[0].Message
		cause := errors.New(msg)
		lower := strings.ToLower(msg)
		switch {
		case strings.Contains(lower, "complexity") || strings.Contains(lower, "timeout") || strings.Contains(lower, "timed out"):
			return errShrink{rd.fail(errcode.Unavailable, http.StatusOK, "query too large for GitLab", cause)}
		case strings.Contains(lower, "insufficient") || strings.Contains(lower, "permission"):
			return rd.fail(errcode.PermissionDenied, http.StatusOK, permissionHint, cause)
		}
		return rd.fail(errcode.Unknown, http.StatusOK, "GraphQL error", cause)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return rd.fail(errcode.Unavailable, http.StatusOK, "the GraphQL answer is not the shape asked for", err)
	}
	return nil
}

const permissionHint = "GitLab denied reading groups and members: grant the token the read_api scope (and read_user to list users)"

// repeated is the error of a listing whose cursor came back.
func (rd *read) repeated(what string) error {
	return orgx.RepeatedCursor(op, "gitlab", rd.r.in.Host, what)
}

func (rd *read) fail(code errcode.Code, status int, msg string, err error) *errcode.Error {
	return &errcode.Error{Code: code, Op: op, Provider: "gitlab", Host: rd.r.in.Host, Status: status, Msg: msg, Err: err}
}

func (rd *read) transportError(ctx context.Context, err error) error {
	if c := errcode.FromContext(ctx, op); c != nil {
		return c
	}
	var e *errcode.Error
	if errors.As(err, &e) {
		f := rd.fail(e.Code, e.Status, e.Msg, err)
		f.RetryAt = e.RetryAt
		return f
	}
	return rd.fail(errcode.Unavailable, 0, "", err)
}

// httpError is the one place where GitLab's HTTP errors become codes.
func (rd *read) httpError(resp *http.Response) error {
	st := resp.StatusCode
	b, _ := httpx.ReadBody(resp, 64<<10)
	var ge struct {
		Message any    `json:"message"`
		Error   string `json:"error"`
		Desc    string `json:"error_description"`
	}
	_ = json.Unmarshal(b, &ge)
	cause := errors.New(strings.TrimSpace(fmt.Sprint(cmp.Or[any](ge.Message, ge.Error), " ", ge.Desc)))
	switch {
	case st == http.StatusUnauthorized:
		return rd.fail(errcode.Unauthorized, st, "GitLab refused the credential", cause)
	case st == http.StatusTooManyRequests:
		e := rd.fail(errcode.RateLimited, st, "rate limited", cause)
		e.RetryAt, _ = httpx.RateLimitInfo(resp, rd.r.opts.Now())
		return e
	case st == http.StatusForbidden:
		return rd.fail(errcode.PermissionDenied, st, permissionHint, cause)
	case st == http.StatusNotFound:
		return rd.fail(errcode.NotFound, st, "not found", cause)
	case st == http.StatusBadGateway || st == http.StatusGatewayTimeout:
		return errShrink{rd.fail(errcode.Unavailable, st, "GitLab timed out", cause)}
	case st >= 500:
		return rd.fail(errcode.Unavailable, st, "GitLab failed", cause)
	}
	return rd.fail(errcode.Unknown, st, "unexpected answer", cause)
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
	addUser := func(u *glUser) *org.User {
		if !usable(u) || noSeat[strings.ToLower(u.Username)] {
			return nil
		}
		k := strings.ToLower(u.Username)
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
	kept := map[string]string{}  // lower full path -> entity name
	taken := map[string]string{} // lower entity name -> full path
	for _, g := range groups {
		if r.pattern != nil && !r.pattern.MatchString(g.FullPath) && !strings.EqualFold(g.FullPath, r.cfg.Group) {
			continue
		}
		name := r.groupName(g.FullPath)
		if !org.ValidName(name) {
			warn("group %s: skipped: %q is not a valid entity name", g.FullPath, name)
			continue
		}
		if other, dup := taken[strings.ToLower(name)]; dup {
			// "a/b-c" and "a/b/c" both become "b-c" under Backstage's rule.
			warn("group %s: skipped: its name %q is already group %s's", g.FullPath, name, other)
			continue
		}
		taken[strings.ToLower(name)] = g.FullPath
		kept[strings.ToLower(g.FullPath)] = name
	}
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
	snap.Warnings = append(snap.Warnings, snap.BreakCycles()...)
	snap.Sort()
	return snap
}

// String describes the reader without any secret.
func (r *Reader) String() string {
	return "gitlaborg.Reader(" + idOr(r.cfg.ID) + ": " + cmp.Or(r.cfg.Group, "every group") + " on " + r.in.Host + ")"
}

// Format prints String for every verb, so no verb shows a secret.
func (r *Reader) Format(f fmt.State, verb rune) { orgx.Format(f, verb, r.String()) }

// LogValue describes the reader without any secret.
func (r *Reader) LogValue() slog.Value { return slog.StringValue(r.String()) }

func idOr(id string) string {
	if id == "" {
		return "default"
	}
	return id
}
