// Package msgraph reads users and groups of a Microsoft Entra ID tenant
// through Microsoft Graph as Backstage User and Group entities, configured
// as Backstage's catalog.providers.microsoftGraphOrg block.
//
// It authenticates with the client-credentials grant
// (credentials.ClientCredentials) against
// {authority}/{tenantId}/oauth2/v2.0/token, and sends the token only to the
// target's host: an @odata.nextLink to any other host is refused.
//
// # Entities
//
// As Backstage's provider: the organisation is a root group (spec.type
// "root", named after the tenant's display name, annotation
// graph.microsoft.com/tenant-id); each group is named by its normalised
// mailNickname (or displayName), spec.type "team", annotation
// graph.microsoft.com/group-id, with its group members as children and
// groups without a parent hung under the root; each user is named by its
// normalised mail, annotation graph.microsoft.com/user-id, with
// spec.memberOf holding its direct groups and, as Backstage does, their
// ancestors. A user without an id, a display name or a mail is skipped,
// with a warning naming it.
//
// Two rules are stricter than Backstage's, because any member may create a
// group by default and a group's owners choose its members:
//
//   - A name that two users, or two groups, normalise to ("Admins!",
//     "admins" and "ADMINS" all make admins) is contested and goes to
//     neither of them, with one warning naming every claimant's object id:
//     whichever came first, or whose id sorts first, could be the impostor,
//     and the name carries the real group's RBAC roles and ownership. Only
//     the root group, named after the tenant, keeps its name over a group
//     that normalises to it. Rename one of the groups (mailNickname) to
//     bring the other back.
//   - A group several groups list as a member is in each one's
//     spec.children, so its members are members of every parent;
//     spec.parent names the first by name (Backstage keeps one parent).
//
// Photos are off by
// default (user.loadPhotos); a photo Graph fails to serve (5xx after the
// retries) is left out with a warning and fetched on the next read.
//
// # Requests
//
// Without filters (the default), users and groups are read with delta
// queries (/users/delta, /groups/delta with members@delta), asking for 999
// objects a page: a tenant of 10,000 users and 1,000 groups costs about 1 +
// 11 + 2 requests on the first run (Backstage, photos off: about 1,100, one
// member listing per group). The reader keeps the delta links and the
// tenant's state in memory: a second Read of an unchanged tenant costs 3
// requests (organisation, users delta, groups delta) and returns the same
// snapshot; changes cost only their delta pages. An expired delta token
// (410) starts a full read again. With user.filter, group.filter or
// search, userGroupMember, or queryMode advanced, list queries with
// $top=999 are used instead, plus one member listing (999 a page) per
// group, at most 10 at a time. ConsistencyLevel: eventual (with $count) is
// sent only when the query needs it: $search, ne, not, endsWith, or
// queryMode advanced. @odata.nextLink is followed verbatim. 429 and 503
// with Retry-After are waited out, up to Options.MaxRateLimitWait; see
// Options.MaxRetries for the policy. The token request is one of the
// reader's requests: sent when a Read needs a token, with that Read's
// context, under the same policy, counted in the progress reports'
// requests, and its token reused by every request and Read until five
// minutes before it expires.
//
// # Errors
//
// Read returns a complete snapshot or an error, never part of one; a failed
// Read leaves the delta state as it was. Graph's "Insufficient privileges"
// is PermissionDenied naming the application permissions to grant:
// User.Read.All and GroupMember.Read.All, admin-consented.
package msgraph

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/internal/httpx"
	"github.com/scmkit/scmkit/internal/redact"
	"github.com/scmkit/scmkit/org"
	"github.com/scmkit/scmkit/org/internal/orgx"
)

// ConfigPath is where Backstage keeps this provider's configuration.
const ConfigPath = "catalog.providers.microsoftGraphOrg"

// Defaults.
const (
	DefaultTarget    = "https://graph.microsoft.com/v1.0"
	DefaultAuthority = "https://login.microsoftonline.com"
	PageSize         = 999
)

// Config is one provider of catalog.providers.microsoftGraphOrg, with
// Backstage's keys.
type Config struct {
	// ID is the provider id: the key of the block in the map form,
	// "default" for a single block.
	ID string `json:"-"`
	// Schedule is the block's schedule key (frequency, timeout,
	// initialDelay, scope), nil when absent; org.Run reads with it.
	Schedule *org.Schedule `json:"schedule"`
	// Target is the Graph base URL; default https://graph.microsoft.com/v1.0.
	// The access token is sent to its host only.
	Target string `json:"target"`
	// Authority is the identity platform's base URL; default
	// https://login.microsoftonline.com.
	Authority string `json:"authority"`
	// TenantID is the directory (tenant) id or domain. Required.
	TenantID string `json:"tenantId"`
	// ClientID and ClientSecret are the application's credentials for the
	// client-credentials grant; both or neither (then Options.TokenSource
	// is required).
	ClientID     string              `json:"clientId"`
	ClientSecret integrations.Secret `json:"clientSecret"`
	// User selects the users: an OData filter (which switches off delta
	// queries), extra properties to select, an $expand, and whether to
	// load photos (default false: one request per user).
	User struct {
		Filter     string   `json:"filter"`
		Select     []string `json:"select"`
		Expand     string   `json:"expand"`
		LoadPhotos *bool    `json:"loadPhotos"`
	} `json:"user"`
	// Group selects the groups: an OData filter or a $search (either
	// switches off delta queries), extra properties, an $expand.
	Group struct {
		Filter string   `json:"filter"`
		Search string   `json:"search"`
		Select []string `json:"select"`
		Expand string   `json:"expand"`
	} `json:"group"`
	// UserGroupMember, when set, takes the users from the user members of
	// the groups it matches instead of from the whole directory.
	UserGroupMember struct {
		Filter string `json:"filter"`
		Search string `json:"search"`
	} `json:"userGroupMember"`
	// QueryMode is "basic" (default) or "advanced" (ConsistencyLevel:
	// eventual on every query).
	QueryMode string `json:"queryMode"`

	// Warnings, set by DecodeConfig, name the keys of the block that
	// scmkit does not read, each with its path: a typo, a key in another
	// case than Backstage's, or one of Backstage's older flat keys
	// (userFilter for user.filter: ignored, the filter would not apply
	// and every user would be read). Show them to the operator; New does
	// not look at them.
	Warnings []string `json:"-"`
}

// flatKeys are Backstage's older flat keys, which scmkit does not read,
// and the key to use instead.
var flatKeys = func() map[string]string {
	m := map[string]string{}
	for old, use := range map[string]string{"userFilter": "user.filter", "userSelect": "user.select", "userExpand": "user.expand",
		"loadUserPhotos": "user.loadPhotos", "groupFilter": "group.filter", "groupSearch": "group.search",
		"groupSelect": "group.select", "groupExpand": "group.expand", "userGroupMemberFilter": "userGroupMember.filter",
		"userGroupMemberSearch": "userGroupMember.search"} {
		m[old] = "Backstage's older spelling of " + use + ", which scmkit does not read: ignored, so it does not apply; write " + use
	}
	return m
}()

// DecodeConfig decodes catalog.providers.microsoftGraphOrg: a single block
// (it has clientId or tenantId; its id is "default") or a map of provider
// ids to blocks, returned sorted by id.
func DecodeConfig(d org.Decoder) ([]Config, error) {
	if d == nil || !d.Has(ConfigPath) {
		return nil, nil
	}
	var probe map[string]json.RawMessage
	if err := d.Decode(ConfigPath, &probe); err != nil {
		return nil, err
	}
	if _, ok := probe["tenantId"]; ok || probe["clientId"] != nil {
		var c Config
		if err := d.Decode(ConfigPath, &c); err != nil {
			return nil, err
		}
		c.ID = "default"
		raw, err := orgx.Raw(d, ConfigPath)
		if err != nil {
			return nil, err
		}
		c.Warnings = orgx.KeyWarnings[Config](raw, ConfigPath, flatKeys, "schedule")
		return []Config{c}, nil
	}
	cs, err := orgx.DecodeMap(d, ConfigPath, func(c *Config, id string) { c.ID = id })
	if err != nil {
		return nil, err
	}
	for i := range cs {
		cs[i].Warnings = orgx.KeyWarnings[Config](probe[cs[i].ID], ConfigPath+"."+cs[i].ID, flatKeys, "schedule")
	}
	return cs, nil
}

// Options configures a Reader. All fields are optional.
type Options struct {
	// Transport sends the requests (Graph and token endpoint); nil means
	// http.DefaultTransport.
	Transport http.RoundTripper
	// TokenSource, when set, is used instead of the client-credentials
	// grant (for an ambient Azure credential the embedder obtains).
	TokenSource oauth2.TokenSource
	// MaxRetries, MinWait, MaxWait and MaxRateLimitWait tune the retry and
	// throttling policy, as in githuborg.Options (a 503 with Retry-After
	// is waited out as a 429 is); zero means its defaults.
	MaxRetries       int
	MinWait, MaxWait time.Duration
	MaxRateLimitWait time.Duration
	// Concurrency bounds member listings and photo downloads in flight;
	// 0 means 10.
	Concurrency int
	// MaxResponseBytes caps each answer; 0 means 64 MiB.
	MaxResponseBytes int64
	// Progress, when set, receives progress reports.
	Progress org.ProgressFunc
	// Logger receives warnings and retries; nil is silent.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// State is what [Reader.State] returned in an earlier process, so
	// that the first Read is already incremental. A state of another
	// target, tenant or selection, or one that does not parse, is ignored
	// (the first Read is then a full one).
	State []byte
}

// Reader reads one tenant. It implements org.Reader. Reads are serialised:
// the reader keeps the delta state of the last successful Read. The zero
// Reader is not usable; make one with [New].
type Reader struct {
	cfg     Config
	opts    Options
	http    orgx.HTTP // opts' HTTP settings, defaults applied
	errs    orgx.Errs
	api     orgx.API
	target  *url.URL
	src     credentials.Source // the access token
	meter   *orgx.Meter
	hc      *http.Client
	delta   bool
	advUser bool // user queries need ConsistencyLevel
	advGrp  bool

	mu    sync.Mutex // serialises Read
	state *state
}

var _ org.Reader = (*Reader)(nil)

// state is what a delta round leaves behind.
type state struct {
	users      map[string]*gUser
	groups     map[string]*gGroup
	usersLink  string
	groupsLink string
}

type gUser struct {
	ID                string  `json:"id"`
	DisplayName       *string `json:"displayName"`
	Mail              *string `json:"mail"`
	UserPrincipalName string  `json:"userPrincipalName"`
	OdataType         string  `json:"@odata.type"`
	picture           string
	photoChecked      bool // picture is known (possibly none)
}

type gGroup struct {
	ID           string          `json:"id"`
	DisplayName  *string         `json:"displayName"`
	MailNickname *string         `json:"mailNickname"`
	Mail         *string         `json:"mail"`
	Description  *string         `json:"description"`
	members      map[string]bool // member id -> is a group
}

func (s *state) clone() *state {
	c := &state{users: maps.Clone(s.users), groups: make(map[string]*gGroup, len(s.groups)), usersLink: s.usersLink, groupsLink: s.groupsLink}
	for id, g := range s.groups {
		cg := *g
		cg.members = maps.Clone(g.members)
		c.groups[id] = &cg
	}
	return c
}

func newState() *state {
	return &state{users: map[string]*gUser{}, groups: map[string]*gGroup{}}
}

// New returns a reader for one provider block (from [DecodeConfig]); nil
// opts means the defaults. New makes no request; a missing or malformed
// key (tenantId, clientId, clientSecret, a URL) is an InvalidArgument
// *errcode.Error naming its config path.
func New(cfg Config, opts *Options) (*Reader, error) {
	const op = "msgraph.New"
	var o Options
	if opts != nil {
		o = *opts
	}
	where := ConfigPath
	if cfg.ID != "" {
		where += "." + cfg.ID
	}
	bad := func(format string, args ...any) error {
		return errcode.Newf(errcode.InvalidArgument, op, "%s: "+format, append([]any{where}, args...)...)
	}
	if cfg.TenantID == "" {
		return nil, bad("tenantId is required")
	}
	if cfg.User.Filter != "" && (cfg.UserGroupMember.Filter != "" || cfg.UserGroupMember.Search != "") {
		return nil, bad("user.filter cannot be combined with userGroupMember.filter or userGroupMember.search")
	}
	if cfg.QueryMode != "" && cfg.QueryMode != "basic" && cfg.QueryMode != "advanced" {
		return nil, bad("queryMode must be basic or advanced, got %q", cfg.QueryMode)
	}
	target, err := checkURL(cmp.Or(cfg.Target, DefaultTarget))
	if err != nil {
		return nil, bad("target: %v", err)
	}
	authority, err := checkURL(cmp.Or(cfg.Authority, DefaultAuthority))
	if err != nil {
		return nil, bad("authority: %v", err)
	}
	if !validTenant(cfg.TenantID) {
		return nil, bad("tenantId %q is not a tenant id or domain", cfg.TenantID)
	}
	hs := orgx.HTTP{Transport: o.Transport, Concurrency: o.Concurrency, MaxResponseBytes: o.MaxResponseBytes, Logger: o.Logger, Now: o.Now,
		Retry: orgx.Retry{MaxRetries: o.MaxRetries, MinWait: o.MinWait, MaxWait: o.MaxWait, MaxRateLimitWait: o.MaxRateLimitWait}}
	r := &Reader{cfg: cfg, opts: o, http: hs.Defaults(10), target: target, meter: &orgx.Meter{},
		errs: orgx.Errs{Op: "msgraph.Read", Provider: "microsoftGraph", Host: target.Host}}
	switch {
	case o.TokenSource != nil:
		r.src = credentials.FromOAuth2(o.TokenSource)
	case cfg.ClientID == "" || cfg.ClientSecret.IsZero():
		if cfg.ClientID != "" || !cfg.ClientSecret.IsZero() {
			return nil, bad("clientId and clientSecret go together")
		}
		return nil, bad("clientId and clientSecret are required (an ambient Azure credential can be passed as Options.TokenSource)")
	default:
		cc := &clientcredentials.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret.Reveal(),
			TokenURL:  strings.TrimRight(authority.String(), "/") + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token",
			Scopes:    []string{target.Scheme + "://" + target.Host + "/.default"},
			AuthStyle: oauth2.AuthStyleInParams,
		}
		// The token request goes through the reader's client stack (retries,
		// rate limits, the request count) with the context of the Read
		// that needs it; the token is shared by concurrent requests and
		// Reads, and renewed before it expires.
		r.src = credentials.ClientCredentials(cc, &credentials.ClientCredentialsOptions{
			HTTPClient: r.http.TokenClient(r.meter, cc.ClientSecret),
			Now:        r.http.Now,
			Source:     where,
			What:       "the application " + cfg.ClientID + " of tenant " + cfg.TenantID,
			Host:       authority.Host,
			Provider:   "microsoftGraph",
		})
	}
	r.hc = r.http.Client(r.meter, func(base http.RoundTripper) http.RoundTripper {
		return &bearer{host: target.Host, src: r.src, base: base}
	})
	r.api = orgx.API{Client: r.hc, Errs: r.errs, MaxResponseBytes: r.http.MaxResponseBytes, HTTPError: r.httpError}
	advanced := cfg.QueryMode == "advanced"
	r.advUser = advanced || needsAdvanced(cfg.User.Filter) || cfg.UserGroupMember.Search != "" || needsAdvanced(cfg.UserGroupMember.Filter)
	r.advGrp = advanced || cfg.Group.Search != "" || needsAdvanced(cfg.Group.Filter)
	r.delta = cfg.User.Filter == "" && cfg.User.Expand == "" && cfg.Group.Filter == "" && cfg.Group.Search == "" && cfg.Group.Expand == "" &&
		cfg.UserGroupMember.Filter == "" && cfg.UserGroupMember.Search == "" && !advanced
	if r.delta && len(o.State) > 0 {
		if st, err := r.decodeState(o.State); err == nil {
			r.state = st
		} else if o.Logger != nil {
			o.Logger.Info("msgraph: ignoring the saved state, reading the tenant in full", "provider", cfg.ID, "reason", err.Error())
		}
	}
	return r, nil
}

// savedState is the JSON form of the delta state.
type savedState struct {
	Version    int          `json:"v"`
	Scope      string       `json:"scope"` // target, tenant and selections it is valid for
	UsersLink  string       `json:"usersLink"`
	GroupsLink string       `json:"groupsLink"`
	Users      []savedUser  `json:"users"`
	Groups     []savedGroup `json:"groups"`
}

type savedUser struct {
	ID                string  `json:"id"`
	DisplayName       *string `json:"displayName,omitempty"`
	Mail              *string `json:"mail,omitempty"`
	UserPrincipalName string  `json:"userPrincipalName,omitempty"`
	Picture           string  `json:"picture,omitempty"`
	PhotoChecked      bool    `json:"photoChecked,omitempty"`
}

type savedGroup struct {
	ID           string          `json:"id"`
	DisplayName  *string         `json:"displayName,omitempty"`
	MailNickname *string         `json:"mailNickname,omitempty"`
	Mail         *string         `json:"mail,omitempty"`
	Description  *string         `json:"description,omitempty"`
	Members      map[string]bool `json:"members,omitempty"` // id -> is a group
}

func (r *Reader) stateScope() string {
	return strings.Join([]string{r.target.String(), r.cfg.TenantID, selectList(defaultUserSelect, r.cfg.User.Select),
		selectList(defaultGroupSelect, r.cfg.Group.Select)}, "|")
}

// State returns the delta state of the last successful Read (the delta
// links and the tenant's users and groups as read), for [Options.State]
// in a later process; nil before the first successful Read, and when the
// configuration uses list queries (filters, search, advanced mode), which
// have no delta. It holds what the catalog files hold (names, e-mail
// addresses, memberships) and no credential.
func (r *Reader) State() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == nil {
		return nil, nil
	}
	ss := savedState{Version: 1, Scope: r.stateScope(), UsersLink: r.state.usersLink, GroupsLink: r.state.groupsLink}
	for _, id := range slices.Sorted(maps.Keys(r.state.users)) {
		u := r.state.users[id]
		ss.Users = append(ss.Users, savedUser{u.ID, u.DisplayName, u.Mail, u.UserPrincipalName, u.picture, u.photoChecked})
	}
	for _, id := range slices.Sorted(maps.Keys(r.state.groups)) {
		g := r.state.groups[id]
		ss.Groups = append(ss.Groups, savedGroup{g.ID, g.DisplayName, g.MailNickname, g.Mail, g.Description, g.members})
	}
	return json.Marshal(ss)
}

func (r *Reader) decodeState(b []byte) (*state, error) {
	var ss savedState
	if err := json.Unmarshal(b, &ss); err != nil {
		return nil, err
	}
	if ss.Version != 1 || ss.Scope != r.stateScope() {
		return nil, errors.New("the state is of another version, target, tenant or selection")
	}
	for _, link := range []string{ss.UsersLink, ss.GroupsLink} {
		u, err := url.Parse(link)
		if err != nil || !strings.EqualFold(u.Host, r.target.Host) || u.Scheme != r.target.Scheme {
			return nil, errors.New("the state's delta links are not on the target's host")
		}
	}
	st := newState()
	st.usersLink, st.groupsLink = ss.UsersLink, ss.GroupsLink
	for _, u := range ss.Users {
		st.users[u.ID] = &gUser{ID: u.ID, DisplayName: u.DisplayName, Mail: u.Mail, UserPrincipalName: u.UserPrincipalName,
			picture: u.Picture, photoChecked: u.PhotoChecked}
	}
	for _, g := range ss.Groups {
		m := g.Members
		if m == nil {
			m = map[string]bool{}
		}
		st.groups[g.ID] = &gGroup{ID: g.ID, DisplayName: g.DisplayName, MailNickname: g.MailNickname, Mail: g.Mail, Description: g.Description, members: m}
	}
	return st, nil
}

// bearer attaches the access token from src to requests to the target's
// host, and refuses every request to another host. It is msgraph's own:
// credentials.Transport's rule of where a credential goes is keyed by the
// integrations of an integrations.Registry (GitHub, GitLab, Bitbucket
// hosts), and Graph is none of them.
type bearer struct {
	host string
	src  credentials.Source
	base http.RoundTripper
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Host, b.host) {
		closeBody(req)
		return nil, errcode.Newf(errcode.InvalidArgument, op, "refusing to send the Graph token to %s (not the target host)", req.URL.Host)
	}
	cred, err := b.src.Credential(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Header.Set("Authorization", "Bearer "+cred.Token)
	resp, err := b.base.RoundTrip(out)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		// Revoked or expired early: the next request gets a new token.
		if inv, ok := b.src.(credentials.Invalidator); ok {
			inv.Invalidate(cred)
		}
	}
	return resp, err
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// checkURL parses a configured base URL: https, or plain http to a
// loopback host, without user information, query or fragment. Its errors
// quote the URL redacted.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q is not a URL without user information, query or fragment", redact.URL(raw))
	}
	switch u.Scheme {
	case "https":
	case "http":
		// Plain http only to this machine (tests, local proxies).
		h := u.Hostname()
		if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("%q: plain http is allowed to loopback hosts only", u.String())
		}
	default:
		return nil, fmt.Errorf("%q is not an https URL", u.String())
	}
	return u, nil
}

func validTenant(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// needsAdvanced reports whether an OData filter uses an operator that Graph
// only supports in advanced queries.
func needsAdvanced(filter string) bool {
	f := " " + strings.ToLower(filter) + " "
	return strings.Contains(f, " ne ") || strings.Contains(f, " not ") || strings.Contains(f, "not(") || strings.Contains(f, "endswith(")
}

const op = "msgraph.Read"

// Read reads the tenant: in full the first time, then with the delta
// queries of the previous Read (or Options.State), so that an unchanged
// tenant costs a few requests.
// It is [org.Reader]'s Read: a sorted, valid snapshot or an error and no
// snapshot (never part of one), skipped entities named in
// Snapshot.Warnings, a missing permission PermissionDenied naming what to
// grant, and Canceled or DeadlineExceeded as soon as ctx ends.
func (r *Reader) Read(ctx context.Context) (*org.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	prog := orgx.NewProgress(r.opts.Progress, "microsoftGraphOrg:"+r.cfg.ID, r.meter, r.http.Now)
	tenant, err := r.organization(ctx)
	if err != nil {
		return nil, err
	}
	var st *state
	if r.delta {
		st, err = r.readDelta(ctx, prog)
	} else {
		st, err = r.readQueries(ctx, prog)
	}
	if err != nil {
		return nil, err
	}
	var photoWarnings []string
	if r.cfg.User.LoadPhotos != nil && *r.cfg.User.LoadPhotos {
		if photoWarnings, err = r.photos(ctx, st); err != nil {
			return nil, err
		}
	}
	snap := r.build(tenant, st)
	snap.Warnings = append(snap.Warnings, photoWarnings...)
	if err := orgx.Done(ctx, snap, prog, r.opts.Logger, "msgraph", r.cfg.ID); err != nil {
		return nil, err
	}
	if r.delta {
		r.state = st // only a complete read replaces the state
	}
	return snap, nil
}

type tenantInfo struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

func (r *Reader) organization(ctx context.Context) (tenantInfo, error) {
	var body struct {
		Value []tenantInfo `json:"value"`
	}
	if err := r.get(ctx, r.url("/organization", "$select=id,displayName"), false, &body); err != nil {
		return tenantInfo{}, err
	}
	if len(body.Value) == 0 {
		return tenantInfo{}, r.errs.Fail(errcode.NotFound, 0, "the organisation is not visible to the application", nil)
	}
	return body.Value[0], nil
}

func (r *Reader) url(path, query string) string {
	u := strings.TrimRight(r.target.String(), "/") + path
	if query != "" {
		u += "?" + query
	}
	return u
}

var defaultUserSelect = []string{"id", "displayName", "mail", "userPrincipalName"}
var defaultGroupSelect = []string{"id", "displayName", "mailNickname", "mail", "description"}

func selectList(def, extra []string) string {
	all := slices.Clone(def)
	for _, e := range extra {
		if !slices.Contains(all, e) {
			all = append(all, e)
		}
	}
	return strings.Join(all, ",")
}

// readDelta runs one delta round for users and one for groups, on a copy
// of the state.
func (r *Reader) readDelta(ctx context.Context, prog *orgx.Progress) (*state, error) {
	st := newState()
	if r.state != nil {
		st = r.state.clone()
	}
	for attempt := 0; ; attempt++ {
		err := r.deltaRound(ctx, st, prog)
		if err == nil {
			return st, nil
		}
		var gone errGone
		if !errors.As(err, &gone) || attempt > 0 {
			return nil, err
		}
		// The delta token expired: read everything again.
		if r.opts.Logger != nil {
			r.opts.Logger.InfoContext(ctx, "msgraph: delta token expired, reading the tenant again", "provider", r.cfg.ID)
		}
		st = newState()
	}
}

type errGone struct{ error }

func (e errGone) Unwrap() error { return e.error }

func (r *Reader) deltaRound(ctx context.Context, st *state, prog *orgx.Progress) error {
	link := st.usersLink
	if link == "" {
		st.users = map[string]*gUser{}
		link = r.url("/users/delta", "$select="+selectList(defaultUserSelect, r.cfg.User.Select))
	}
	type userDelta struct {
		gUser
		Removed json.RawMessage `json:"@removed"`
	}
	next, err := follow(ctx, r, link, false, "users/delta", func(v *userDelta) {
		if v.Removed != nil {
			delete(st.users, v.ID)
			return
		}
		st.users[v.ID] = &v.gUser
	}, func() { prog.Report("users", len(st.users), len(st.groups), false) })
	if err != nil {
		return err
	}
	st.usersLink = cmp.Or(next, st.usersLink)

	link = st.groupsLink
	if link == "" {
		st.groups = map[string]*gGroup{}
		link = r.url("/groups/delta", "$select="+selectList(defaultGroupSelect, r.cfg.Group.Select)+",members")
	}
	type groupDelta struct {
		gGroup
		Removed json.RawMessage `json:"@removed"`
		Members []struct {
			ID        string          `json:"id"`
			OdataType string          `json:"@odata.type"`
			Removed   json.RawMessage `json:"@removed"`
		} `json:"members@delta"`
	}
	next, err = follow(ctx, r, link, false, "groups/delta", func(v *groupDelta) {
		if v.Removed != nil {
			delete(st.groups, v.ID)
			return
		}
		g := st.groups[v.ID]
		if g == nil {
			g = &gGroup{members: map[string]bool{}}
			st.groups[v.ID] = g
		}
		members := g.members
		*g = v.gGroup
		g.members = members
		for _, m := range v.Members {
			if m.Removed != nil {
				delete(g.members, m.ID)
			} else {
				g.members[m.ID] = m.OdataType == "#microsoft.graph.group"
			}
		}
	}, func() { prog.Report("groups", len(st.users), len(st.groups), false) })
	if err != nil {
		return err
	}
	st.groupsLink = cmp.Or(next, st.groupsLink)
	return nil
}

// readQueries reads with list queries (filters, search, advanced mode).
func (r *Reader) readQueries(ctx context.Context, prog *orgx.Progress) (*state, error) {
	st := newState()
	userSel := selectList(defaultUserSelect, r.cfg.User.Select)
	var mu sync.Mutex // guards st while member listings run concurrently
	putUser := func(u *gUser) {
		mu.Lock()
		st.users[u.ID] = u
		mu.Unlock()
	}
	// Groups.
	q := listQuery(selectList(defaultGroupSelect, r.cfg.Group.Select), r.cfg.Group.Filter, r.cfg.Group.Search, r.cfg.Group.Expand, r.advGrp)
	if err := list(ctx, r, r.url("/groups", q), r.advGrp, func(g *gGroup) {
		g.members = map[string]bool{}
		st.groups[g.ID] = g
	}); err != nil {
		return nil, err
	}
	prog.Report("groups", 0, len(st.groups), false)
	// Users: by filter, or the user members of the userGroupMember groups.
	if ugm := r.cfg.UserGroupMember; ugm.Filter != "" || ugm.Search != "" {
		adv := r.advUser || ugm.Search != ""
		var ids []string
		if err := list(ctx, r, r.url("/groups", listQuery("id", ugm.Filter, ugm.Search, "", adv)), adv, func(g *struct {
			ID string `json:"id"`
		}) {
			ids = append(ids, g.ID)
		}); err != nil {
			return nil, err
		}
		if err := orgx.Each(ctx, r.http.Concurrency, slices.Values(ids), func(ctx context.Context, id string) error {
			return list(ctx, r, r.url("/groups/"+url.PathEscape(id)+"/members/microsoft.graph.user", listQuery(userSel, "", "", "", false)), false, putUser)
		}); err != nil {
			return nil, err
		}
	} else {
		q := listQuery(userSel, r.cfg.User.Filter, "", r.cfg.User.Expand, r.advUser)
		if err := list(ctx, r, r.url("/users", q), r.advUser, putUser); err != nil {
			return nil, err
		}
	}
	prog.Report("members", len(st.users), len(st.groups), false)
	// Direct members of each group.
	err := orgx.Each(ctx, r.http.Concurrency, maps.Values(st.groups), func(ctx context.Context, grp *gGroup) error {
		return list(ctx, r, r.url("/groups/"+url.PathEscape(grp.ID)+"/members", listQuery("id", "", "", "", false)), false, func(m *struct {
			ID        string `json:"id"`
			OdataType string `json:"@odata.type"`
		}) {
			mu.Lock()
			grp.members[m.ID] = m.OdataType == "#microsoft.graph.group"
			mu.Unlock()
		})
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// listQuery is the query of a list request: PageSize objects a page with
// the properties sel, and the filter, search and expand given (none when
// empty); an advanced query asks for $count, as Graph requires.
func listQuery(sel, filter, search, expand string, advanced bool) string {
	q := "$top=" + strconv.Itoa(PageSize) + "&$select=" + sel
	if filter != "" {
		q += "&$filter=" + odataEscape(filter)
	}
	if search != "" {
		q += "&$search=" + odataEscape(search)
	}
	if expand != "" {
		q += "&$expand=" + odataEscape(expand)
	}
	if advanced {
		q += "&$count=true"
	}
	return q
}

// follow reads a collection from link, following its @odata.nextLinks,
// and calls each for every object, decoded as a T, and onPage (when not
// nil) after every page. It returns the @odata.deltaLink a delta query
// ends with. A link given twice, or a page of objects all sent before (the
// same bytes: a delta query's group repeated with other members@delta is
// new) with more promised, is an error naming the listing what: a server
// doing either would never end. Graph may send an empty page with a
// nextLink; up to orgx.MaxEmptyPages of those in a row are followed.
func follow[T any](ctx context.Context, r *Reader, link string, advanced bool, what string, each func(*T), onPage func()) (deltaLink string, err error) {
	var pager orgx.Pager[uint64] // by hash of the object sent
	seed := maphash.MakeSeed()
	empty := 0 // empty pages in a row
	for link != "" {
		var page struct {
			Value []json.RawMessage `json:"value"`
			Next  string            `json:"@odata.nextLink"`
			Delta string            `json:"@odata.deltaLink"`
		}
		if err := r.get(ctx, link, advanced, &page); err != nil {
			return "", err
		}
		for _, raw := range page.Value {
			v := new(T)
			if err := json.Unmarshal(raw, v); err != nil {
				return "", r.errs.Fail(errcode.Unavailable, 0, "an object is not the JSON expected", err)
			}
			each(v)
			pager.Saw(maphash.Bytes(seed, raw))
		}
		if onPage != nil {
			onPage()
		}
		link = page.Next
		next := pager.Next
		if len(page.Value) == 0 {
			empty++
			next = pager.Follow // nothing to repeat
		} else {
			empty = 0
		}
		if link != "" && (!next(link) || empty > orgx.MaxEmptyPages) {
			return "", r.errs.Repeated(what)
		}
		deltaLink = cmp.Or(page.Delta, deltaLink)
	}
	return deltaLink, nil
}

// list reads a collection with a list query (no delta).
func list[T any](ctx context.Context, r *Reader, link string, advanced bool, each func(*T)) error {
	_, err := follow(ctx, r, link, advanced, "a listing", each, nil)
	return err
}

// photos loads each user's 48x48 photo as a data URL. In delta mode a
// user that did not change keeps the photo of the previous read (a photo
// change alone does not show in users/delta). A photo Graph fails to
// serve (Unavailable: a 5xx, or no answer, after the retries; its photo
// gateway times out) is left out with a warning, returned sorted, and
// asked for again on the next read: a picture is not worth the tenant's
// read. Any other failure (a refusal, a rate limit to wait out, the
// context's end) ends the read.
func (r *Reader) photos(ctx context.Context, st *state) ([]string, error) {
	var todo []*gUser
	for id, old := range st.users {
		if !old.photoChecked {
			u := *old // the previous state may share *old: write a copy
			st.users[id] = &u
			todo = append(todo, &u)
		}
	}
	var mu sync.Mutex
	var warnings []string
	skip := func(u *gUser, err error) error {
		if ctx.Err() != nil || errcode.CodeOf(err) != errcode.Unavailable {
			return err
		}
		mu.Lock()
		warnings = append(warnings, fmt.Sprintf("user %s (%s): photo left out, to be fetched again: %v", u.ID, u.UserPrincipalName, err))
		mu.Unlock()
		return nil
	}
	err := orgx.Each(ctx, r.http.Concurrency, slices.Values(todo), func(ctx context.Context, u *gUser) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url("/users/"+url.PathEscape(u.ID)+"/photos/48x48/$value", ""), nil)
		if err != nil {
			return errcode.Wrap(errcode.InvalidArgument, op, err)
		}
		resp, err := r.hc.Do(req)
		if err != nil {
			return skip(u, r.errs.Transport(ctx, err))
		}
		if resp.StatusCode == http.StatusNotFound {
			httpx.DrainClose(resp)
			u.photoChecked = true
			return nil
		}
		if resp.StatusCode != http.StatusOK {
			return skip(u, r.httpError(resp))
		}
		b, err := httpx.ReadBody(resp, 1<<20)
		if err != nil {
			return err
		}
		u.picture, u.photoChecked = "data:image/jpeg;base64,"+base64.StdEncoding.EncodeToString(b), true
		return nil
	})
	slices.Sort(warnings)
	return warnings, err
}

// get fetches link (followed verbatim) and decodes its JSON body.
func (r *Reader) get(ctx context.Context, link string, advanced bool, out any) error {
	u, err := url.Parse(link)
	if err != nil || !strings.EqualFold(u.Host, r.target.Host) || u.Scheme != r.target.Scheme {
		return r.errs.Fail(errcode.InvalidArgument, 0, "Graph returned a link to another host; refusing to follow it", nil)
	}
	h := http.Header{"Accept": {"application/json"}, "Prefer": {fmt.Sprintf("odata.maxpagesize=%d", PageSize)}}
	if advanced {
		h.Set("ConsistencyLevel", "eventual")
	}
	_, err = r.api.GetJSON(ctx, link, h, out)
	return err
}

// permissionHint names what to grant.
const permissionHint = "grant the application the Microsoft Graph application permissions User.Read.All and GroupMember.Read.All, with admin consent (delegated permissions are not enough)"

// httpError is the one place where Graph's HTTP errors become codes. An
// expired delta token (410, or Graph's syncStateNotFound or
// resyncRequired) is errGone: the reader then reads the tenant in full.
func (r *Reader) httpError(resp *http.Response) error {
	var code string
	e := r.errs.Answer(resp, r.http.Now(), orgx.Wording{
		Unauthorized:     "Graph refused the access token",
		PermissionDenied: "Graph denied reading users and groups: " + permissionHint,
		RateLimited:      "throttled by Graph",
		NotFound:         "not found",
		InvalidArgument:  "Graph rejected the query (check the provider's filter, search and select)",
		Unavailable:      "Graph failed",
		Unknown:          "unexpected answer",
	}, func(body []byte) string {
		var ge struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &ge)
		code = ge.Error.Code
		return strings.TrimSpace(ge.Error.Code + ": " + ge.Error.Message)
	})
	refused := e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	if !refused && (e.Status == http.StatusGone || code == "syncStateNotFound" || code == "resyncRequired") {
		return errGone{r.errs.Fail(errcode.Unavailable, e.Status, "the delta token expired", e.Err)}
	}
	return e
}

// build turns the tenant's state into entities.
func (r *Reader) build(tenant tenantInfo, st *state) *org.Snapshot {
	snap := &org.Snapshot{}
	warn := func(format string, args ...any) { snap.Warnings = append(snap.Warnings, fmt.Sprintf(format, args...)) }
	rootName := org.NormalizeName(tenant.DisplayName)
	if !org.ValidName(rootName) {
		rootName = org.NormalizeName(tenant.ID)
	}
	root := org.Group{Metadata: org.Metadata{Name: rootName, Annotations: map[string]string{"graph.microsoft.com/tenant-id": tenant.ID}}}
	root.Spec.Type = "root"
	root.Spec.Profile.DisplayName = tenant.DisplayName

	// Users, in id order for deterministic warnings.
	userName := map[string]string{} // id -> entity name
	userNames := orgx.NewNames("user", &snap.Warnings)
	for _, id := range slices.Sorted(maps.Keys(st.users)) {
		u := st.users[id]
		switch {
		case u.ID == "" || u.DisplayName == nil || *u.DisplayName == "" || u.Mail == nil || *u.Mail == "":
			warn("user %s (%s): skipped: it has no id, display name or mail to name it by", u.ID, u.UserPrincipalName)
			continue
		}
		name := org.NormalizeName(*u.Mail)
		if !org.ValidName(name) {
			warn("user %s (%s): skipped: mail %q does not make a valid entity name", u.ID, u.UserPrincipalName, *u.Mail)
			continue
		}
		userNames.Claim(name, u.ID, u.ID+" ("+u.UserPrincipalName+")")
		userName[id] = name
	}
	// A name two users or two groups normalise to goes to neither (see
	// orgx.Names): members create groups, and their names and ids.
	got := userNames.Settle()
	maps.DeleteFunc(userName, func(id, _ string) bool { return !got[id] })
	groupName := map[string]string{} // id -> entity name
	groupNames := orgx.NewNames("group", &snap.Warnings)
	groupNames.Reserve(rootName, tenant.ID)
	for _, id := range slices.Sorted(maps.Keys(st.groups)) {
		g := st.groups[id]
		raw := ""
		if g.MailNickname != nil {
			raw = *g.MailNickname
		}
		if raw == "" && g.DisplayName != nil {
			raw = *g.DisplayName
		}
		name := org.NormalizeName(raw)
		if !org.ValidName(name) {
			warn("group %s (%q): skipped: no mailNickname or displayName makes a valid entity name", g.ID, raw)
			continue
		}
		groupNames.Claim(name, g.ID, g.ID)
		groupName[id] = name
	}
	got = groupNames.Settle()
	maps.DeleteFunc(groupName, func(id, _ string) bool { return !got[id] })
	// Parents: a group's group members are its children. Every parent
	// lists the child in spec.children, so the child's members are members
	// of each parent; spec.parent, which Backstage's schema allows once,
	// names the first by name. Keeping one parent only would let the owner
	// of any group (owners add members) cut a group from its real parent,
	// and its members from the roles they hold through it.
	parent := map[string]string{} // child id -> parent id named in spec.parent
	children := map[string][]string{}
	for _, pid := range slices.SortedFunc(maps.Keys(groupName), func(a, b string) int { return cmp.Compare(groupName[a], groupName[b]) }) {
		for _, cid := range slices.Sorted(maps.Keys(st.groups[pid].members)) {
			if st.groups[pid].members[cid] && groupName[cid] != "" && cid != pid {
				if _, has := parent[cid]; !has {
					parent[cid] = pid
				}
				children[pid] = append(children[pid], groupName[cid])
			}
		}
	}
	userGroups := map[string][]string{}
	for id, name := range groupName {
		g := st.groups[id]
		e := org.Group{Metadata: org.Metadata{Name: name, Annotations: map[string]string{"graph.microsoft.com/group-id": g.ID}}}
		e.Spec.Type = "team"
		if g.DisplayName != nil {
			e.Spec.Profile.DisplayName = *g.DisplayName
		}
		if g.Mail != nil {
			e.Spec.Profile.Email = *g.Mail
		}
		if g.Description != nil {
			e.Metadata.Description = *g.Description
		}
		if p, ok := parent[id]; ok {
			e.Spec.Parent = groupName[p]
		} else {
			e.Spec.Parent = rootName
			root.Spec.Children = append(root.Spec.Children, name)
		}
		e.Spec.Children = append([]string{}, children[id]...)
		for mid, isGroup := range g.members {
			if un := userName[mid]; !isGroup && un != "" {
				e.Spec.Members = append(e.Spec.Members, un)
				userGroups[mid] = append(userGroups[mid], name)
			}
		}
		snap.Groups = append(snap.Groups, e)
	}
	if root.Spec.Children == nil {
		root.Spec.Children = []string{}
	}
	snap.Groups = append(snap.Groups, root)
	snap.Warnings = append(snap.Warnings, snap.BreakCycles()...)
	// Users, with memberOf closed over parent groups as Backstage does.
	for id, name := range userName {
		u := st.users[id]
		e := org.User{Metadata: org.Metadata{Name: name, Annotations: map[string]string{"graph.microsoft.com/user-id": u.ID}}}
		e.Spec.Profile.DisplayName = *u.DisplayName
		e.Spec.Profile.Email = *u.Mail
		e.Spec.Profile.Picture = u.picture
		e.Spec.MemberOf = append([]string{}, userGroups[id]...)
		snap.Users = append(snap.Users, e)
	}
	x := org.NewIndex(snap)
	for i := range snap.Users {
		u := &snap.Users[i]
		var all []string
		for _, g := range x.GroupsOf(u.Ref()) {
			all = append(all, g.Name)
		}
		if all == nil {
			all = []string{}
		}
		u.Spec.MemberOf = all
	}
	snap.Sort()
	return snap
}

// String describes the reader without any secret.
func (r *Reader) String() string {
	return "msgraph.Reader(" + cmp.Or(r.cfg.ID, "default") + ": tenant " + r.cfg.TenantID + " at " + r.target.Host + ")"
}

// Format prints String for every verb, so no verb shows a secret.
func (r *Reader) Format(f fmt.State, verb rune) { orgx.Format(f, verb, r.String()) }

// LogValue describes the reader without any secret.
func (r *Reader) LogValue() slog.Value { return slog.StringValue(r.String()) }

// odataEscape encodes a query option's value, spaces as %20 (OData
// services do not all read '+' as a space).
func odataEscape(v string) string { return strings.ReplaceAll(url.QueryEscape(v), "+", "%20") }
