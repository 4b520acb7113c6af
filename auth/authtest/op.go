// Package authtest runs identity providers for tests and examples, in
// process and on loopback: a real OpenID Provider (github.com/zitadel/oidc's
// op package over its in-memory example storage) that signs in one
// configured user at once, without a login page, so that a browser or an
// HTTP client following redirects completes the flow by itself.
//
// The fake GitHub, GitLab and Bitbucket Cloud in scm/scmtest serve their
// own OAuth endpoints; this package is for OpenID Connect and Microsoft
// Entra ID.
package authtest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is the user an [OP] signs in.
type User struct {
	// Subject is the user's "sub"; default "user-1".
	Subject   string
	Username  string // preferred_username; default "alice"
	Email     string // default "<username>@example.com", verified
	FirstName string
	LastName  string
	// NoEmailVerified sends the e-mail without email_verified, as
	// Microsoft Entra ID does.
	NoEmailVerified bool
	// Claims are more claims of the ID token and userinfo, such as
	// Entra's optional xms_edov.
	Claims map[string]any
	// MayExchange lets the client exchange the user's tokens (RFC 8693
	// token exchange at the token endpoint) for tokens of another
	// audience; without it an exchange is refused (invalid_request).
	MayExchange bool
}

// OPOptions configures [StartOP].
type OPOptions struct {
	// ClientID and ClientSecret are the one client's; defaults "portal"
	// and "portal-secret".
	ClientID     string
	ClientSecret string
	// RedirectURIs are the client's exact redirect URIs.
	RedirectURIs []string
	// User is who signs in.
	User User
	// IssuerPath is appended to the server's URL to make the issuer,
	// e.g. "/tenant-1/v2.0" for an Entra-shaped issuer; default none.
	IssuerPath string
	// IssuerAliases are further paths under which the provider is served
	// as under IssuerPath, its issuer unchanged, as Entra ID serves a
	// tenant under each of its domain names ("/contoso.onmicrosoft.com/v2.0")
	// with the tenant id in the issuer.
	IssuerAliases []string
	// ProfileInIDToken puts the profile and e-mail claims in the ID
	// token, so relying parties need not call userinfo.
	ProfileInIDToken bool
	// NoUserinfoEndpoint leaves userinfo_endpoint out of the discovery
	// document, as providers without one do (the endpoint is optional in
	// OpenID Connect Discovery).
	NoUserinfoEndpoint bool
}

// OP is a running OpenID Provider.
type OP struct {
	// Issuer is the issuer URL (the discovery document is at
	// Issuer + "/.well-known/openid-configuration").
	Issuer string
	// URL is the server's root URL.
	URL string

	srv     *http.Server
	ln      net.Listener
	mu      sync.Mutex
	counts  map[string]int
	storage *storage.Storage
	subject string
}

// ApproveDevice is the user entering userCode at the provider's device
// page and approving it (the device authorization grant, which the OP
// serves at /device_authorization with codes that live 5 minutes, polled
// every second); it reports whether the code was waiting.
func (p *OP) ApproveDevice(userCode string) bool {
	return p.storage.CompleteDeviceAuthorization(context.Background(), userCode, p.subject) == nil
}

// RefuseDevice is the user entering userCode and refusing it.
func (p *OP) RefuseDevice(userCode string) bool {
	return p.storage.DenyDeviceAuthorization(context.Background(), userCode) == nil
}

type userStore struct{ u *storage.User }

// GetUserByID returns the one user by id.
func (s userStore) GetUserByID(id string) *storage.User {
	if id == s.u.ID {
		return s.u
	}
	return nil
}

// GetUserByUsername returns the one user by username.
func (s userStore) GetUserByUsername(name string) *storage.User {
	if name == s.u.Username {
		return s.u
	}
	return nil
}

// ExampleClientID names the example storage's service client.
func (s userStore) ExampleClientID() string { return "service" }

// opStorage makes the client put the profile in ID tokens when asked.
type opStorage struct {
	*storage.Storage
	profileInIDToken bool
	claims           map[string]any
	mayExchange      bool
	subject          string // the one user's
}

// ValidateTokenExchangeRequest refuses an exchange the user does not
// allow as providers do, with invalid_request (HTTP 400), where the
// example storage would fail with a server error (500).
func (s opStorage) ValidateTokenExchangeRequest(ctx context.Context, r op.TokenExchangeRequest) error {
	if !s.mayExchange || r.GetExchangeSubject() != s.subject {
		// (The example storage would fail on a subject it does not know:
		// a token of another OP signed with the same key.)
		return oidc.ErrInvalidRequest().WithDescription("the client may not exchange this user's tokens")
	}
	return s.Storage.ValidateTokenExchangeRequest(ctx, r)
}

// SetUserinfoFromScopes adds the user's extra claims to the example
// storage's.
func (s opStorage) SetUserinfoFromScopes(ctx context.Context, ui *oidc.UserInfo, userID, clientID string, scopes []string) error {
	if err := s.Storage.SetUserinfoFromScopes(ctx, ui, userID, clientID, scopes); err != nil {
		return err
	}
	for k, v := range s.claims {
		ui.AppendClaims(k, v)
	}
	return nil
}

// GetClientByClientID returns the client, which may also use the device
// authorization grant, asserting the profile in ID tokens when
// configured.
func (s opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return c, err
	}
	c = deviceClient{c}
	if !s.profileInIDToken {
		return c, nil
	}
	return profileClient{c}, nil
}

// deviceClient adds the device authorization grant to a client's.
type deviceClient struct{ op.Client }

// GrantTypes are the client's and the device code grant.
func (c deviceClient) GrantTypes() []oidc.GrantType {
	return append(c.Client.GrantTypes(), oidc.GrantTypeDeviceCode)
}

type profileClient struct{ op.Client }

// IDTokenUserinfoClaimsAssertion puts the userinfo claims in ID tokens.
func (profileClient) IDTokenUserinfoClaimsAssertion() bool { return true }

// StartOP starts an OpenID Provider on a free loopback port. Close it when
// done.
func StartOP(o OPOptions) (*OP, error) {
	if o.ClientID == "" {
		o.ClientID = "portal"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "portal-secret"
	}
	if len(o.RedirectURIs) == 0 {
		return nil, errors.New("authtest: RedirectURIs are required")
	}
	u := o.User
	if u.Subject == "" {
		u.Subject = "user-1"
	}
	if u.Username == "" {
		u.Username = "alice"
	}
	if u.Email == "" {
		u.Email = u.Username + "@example.com"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	root := "http://" + ln.Addr().String()
	issuer := root + strings.TrimSuffix(o.IssuerPath, "/")
	client := storage.WebClient(o.ClientID, o.ClientSecret, o.RedirectURIs...)
	st := storage.NewStorageWithClients(userStore{&storage.User{ID: u.Subject, Username: u.Username, Password: "unused",
		FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, EmailVerified: !u.NoEmailVerified, PreferredLanguage: language.English,
		IsAdmin: u.MayExchange}}, // the example storage lets its admins exchange tokens
		map[string]*storage.Client{o.ClientID: client})
	key := sha256.Sum256([]byte("scmkit authtest op"))
	provider, err := op.NewProvider(&op.Config{CryptoKey: key, CodeMethodS256: true, AuthMethodPost: true, GrantTypeRefreshToken: true,
		SupportedUILocales:  []language.Tag{language.English},
		DeviceAuthorization: op.DeviceAuthorizationConfig{Lifetime: 5 * time.Minute, PollInterval: time.Second, UserFormPath: "/device", UserCode: op.UserCodeBase20}},
		opStorage{st, o.ProfileInIDToken, u.Claims, u.MayExchange, u.Subject}, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		ln.Close()
		return nil, err
	}
	p := &OP{Issuer: issuer, URL: root, ln: ln, counts: map[string]int{}, storage: st, subject: u.Subject}
	callback := op.AuthCallbackURL(provider)
	mux := http.NewServeMux()
	// The login page of the example storage's clients: approve at once.
	mux.Handle("/login/username", op.NewIssuerInterceptor(provider.IssuerFromRequest).HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("authRequestID")
		if err := st.CheckUsernamePassword(u.Username, "unused", id); err != nil {
			http.Error(w, "unknown authorization request", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, callback(r.Context(), id), http.StatusFound)
	}))
	var h http.Handler = provider
	if o.IssuerPath != "" {
		prefix := strings.TrimSuffix(o.IssuerPath, "/")
		mux.Handle(prefix+"/", http.StripPrefix(prefix, provider))
		for _, a := range o.IssuerAliases {
			a = strings.TrimSuffix(a, "/")
			mux.Handle(a+"/", http.StripPrefix(a, provider))
		}
	} else {
		mux.Handle("/", h)
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.counts[strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(o.IssuerPath, "/"))]++
		p.mu.Unlock()
		if o.NoUserinfoEndpoint && strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			serveWithoutUserinfo(w, r, mux)
			return
		}
		mux.ServeHTTP(w, r)
	})}
	go p.srv.Serve(ln)
	return p, nil
}

// serveWithoutUserinfo serves h's discovery document without its
// userinfo_endpoint.
func serveWithoutUserinfo(w http.ResponseWriter, r *http.Request, h http.Handler) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var doc map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
		http.Error(w, "authtest: the discovery document could not be read", http.StatusInternalServerError)
		return
	}
	delete(doc, "userinfo_endpoint")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

// Requests returns how many requests each path received (relative to the
// issuer: "/oauth/token", "/userinfo", "/keys",
// "/.well-known/openid-configuration", "/authorize"...).
func (p *OP) Requests() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// ResetRequests zeroes the counts.
func (p *OP) ResetRequests() {
	p.mu.Lock()
	p.counts = map[string]int{}
	p.mu.Unlock()
}

// Close stops the server.
func (p *OP) Close() error { return p.srv.Close() }
