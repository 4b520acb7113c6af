// Package cli is the wiring the example programs share: it parses the
// common flags, loads the Backstage app-config.yaml files, and builds an
// *scm.Client the way an embedding application would (config.Load, then
// credentials.NewResolver, then scm.NewClient with every adapter), with a
// transport that counts the HTTP requests each host receives.
//
// It is a program's helper, not library code: it reads the process
// environment (for ${VAR} substitutions and the user's token), writes to
// the writers it is given, and ends the process in [Main].
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scmkit/scmkit/auth"
	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/credentials"
	"github.com/scmkit/scmkit/integrations"
	"github.com/scmkit/scmkit/scm"
	"github.com/scmkit/scmkit/scm/adapters"
)

// DefaultConfig is the config file read when no -config flag is given and
// it exists, as Backstage reads app-config.yaml from the current directory.
const DefaultConfig = "app-config.yaml"

// RunFunc is a program's body: it parses args (without the program name),
// writes its results to stdout and diagnostics to stderr, and stops when
// ctx is cancelled.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Main runs run with the process's arguments and a context cancelled by
// Ctrl-C (os.Interrupt). On error it prints "name: error" and a hint to
// stderr and exits with status 1; -h and -help exit with status 0.
func Main(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	if h := Hint(err); h != "" {
		fmt.Fprintf(os.Stderr, "hint: %s\n", h)
	}
	os.Exit(1)
}

// Hint suggests what to do about an error of the client, from its
// scm.Code and the operation that failed; "" when there is nothing more to
// say than the error itself.
func Hint(err error) string {
	e := (*scm.Error)(nil)
	if errors.As(err, &e) && strings.HasPrefix(e.Op, "config.") {
		return "" // the configuration's own errors say what is wrong and where
	}
	switch scm.Code(err) {
	case scm.Unauthorized:
		return "the host rejected the credential, or none was configured: check the token in the config (or the variable named by -user-token-env) and that it has not expired"
	case scm.PermissionDenied:
		switch {
		case e != nil && e.Provider == "":
			// No integration answered: the error says what to configure.
			return "configure an integration for the host in the config (or, for reads, allow it under backend.reading.allow)"
		case e != nil && isRead(e.Op):
			return "the credential cannot read this: check that it has read access to the repository (e.g. the contents scope or permission)"
		}
		return "the credential lacks a permission for this operation: writes need e.g. contents and pull-request write access"
	case scm.NotFound:
		return "check the URL, branch and path; hosts also answer \"not found\" for private repositories the credential cannot see"
	case scm.RateLimited:
		if at, ok := scm.RetryAt(err); ok {
			return "rate limited: try again after " + at.Local().Format(time.DateTime) + ", or use a credential with a higher limit (a GitHub App)"
		}
		return "rate limited: try again later, or use a credential with a higher limit (a GitHub App)"
	case scm.Canceled:
		return "interrupted"
	}
	return ""
}

// isRead reports whether op, an scm.Error's Op, only reads.
func isRead(op string) bool {
	switch op {
	case "scm.ReadFile", "scm.ReadTree", "scm.Search", "scm.FindFiles", "scm.ListRepositories", "catalog.Discover":
		return true
	}
	return false
}

// UsageError is a mistake in the command line; its message says what is
// wrong.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Common holds the flags every example program accepts: the config files,
// the signed-in user's token and verbosity.
type Common struct {
	// Configs are the -config files in order; later ones override
	// earlier ones. Empty means DefaultConfig.
	Configs []string
	// UserTokenEnv names the environment variable holding the user's
	// OAuth token (-user-token-env); "" means no user.
	UserTokenEnv string
	// DeviceClient is the client id of an OAuth app (GitHub) or
	// application (GitLab) to sign the user in with the device flow
	// (-device-login); "" means no device sign-in.
	DeviceClient string
	// Verbose logs the library's debug records (which credential was
	// picked, retries) to stderr; they never hold a secret.
	Verbose bool
}

// Register adds -config, -user-token-env and -v to fs.
func (c *Common) Register(fs *flag.FlagSet) {
	fs.Func("config", "Backstage app-config.yaml `file` (repeatable, later files override earlier ones; default "+DefaultConfig+" when it exists, else none: github.com, gitlab.com and bitbucket.org anonymously)",
		func(s string) error {
			if s == "" {
				return errors.New("empty file name")
			}
			c.Configs = append(c.Configs, s)
			return nil
		})
	fs.StringVar(&c.UserTokenEnv, "user-token-env", "",
		"read the signed-in user's OAuth token for the URL's host from environment variable `NAME`; it is tried before the configured credentials")
	fs.StringVar(&c.DeviceClient, "device-login", "",
		"sign the user in to the URL's GitHub or GitLab host with the device flow of the OAuth app whose client id is `CLIENT_ID` (no secret), and act as her")
	fs.BoolVar(&c.Verbose, "v", false, "log which credential each call uses, and retries, to stderr")
}

// Env is what a program needs to work: the loaded configuration and a
// client, with the counter of its requests.
type Env struct {
	Config *config.Config
	// Client acts for the user when -user-token-env was given.
	Client *scm.Client
	// Requests counts every HTTP request the client and the credential
	// resolver send, per host.
	Requests *Counter
	// User is true when a user token was given.
	User bool
}

// Open loads the configuration and builds the client. Config warnings
// (unset variables, deprecated settings) go to stderr. Without -config it
// reads DefaultConfig when the current directory has one (an entry that
// cannot be read, such as a dangling symbolic link, is an error), and
// otherwise no file at all (saying so on stderr): github.com, gitlab.com
// and bitbucket.org are then read anonymously.
//
// The user's token, when -user-token-env is given, is offered only to the
// integration host of target, the URL the program works on (a user who
// signed in with one host has a token for that host only); a target whose
// host has no integration is then a usage error. policy is the user view's
// credential policy (nil: the defaults); with policy.RequireUser or
// RequireUserForWrites and no -user-token-env, Open fails with a usage
// error.
func (c *Common) Open(ctx context.Context, stderr io.Writer, target string, policy *scm.UserOptions) (*Env, error) {
	files := c.Configs
	if len(files) == 0 {
		// Lstat: a link that points nowhere (a ConfigMap not mounted
		// yet) is a file that is there and fails to load, not a missing
		// one; so is one that cannot be stat'ed (EACCES, ELOOP, ENOTDIR).
		// Only a file that is not there at all is skipped.
		if _, err := os.Lstat(DefaultConfig); errors.Is(err, fs.ErrNotExist) {
			// No app-config.yaml here: github.com, gitlab.com and
			// bitbucket.org are known without configuration, so public
			// repositories can still be read anonymously.
			fmt.Fprintf(stderr, "note: no -config and no %s in the current directory: reading github.com, gitlab.com and bitbucket.org anonymously (public repositories only)\n", DefaultConfig)
		} else {
			files = []string{DefaultConfig} // config.Load reports any error
		}
	}
	cfg, err := config.Load(ctx, &config.Options{Lookup: os.LookupEnv, Environ: os.Environ()}, files...)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}

	counter := NewCounter(http.DefaultTransport)
	res, err := credentials.NewResolver(cfg.Registry, &credentials.ResolverOptions{
		HTTPClient: &http.Client{Transport: counter}, // GitHub App and OAuth consumer token requests
	})
	if err != nil {
		return nil, err
	}
	opts := &scm.Options{Drivers: adapters.All(nil), Transport: counter}
	if c.Verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	client, err := scm.NewClient(cfg.Registry, res, opts)
	if err != nil {
		return nil, err
	}

	env := &Env{Config: cfg, Client: client, Requests: counter}
	var users scm.UserCredentials
	if c.UserTokenEnv != "" && c.DeviceClient != "" {
		return nil, Usagef("-user-token-env and -device-login both name the user: pass one")
	}
	if c.DeviceClient != "" {
		in, ok := cfg.Registry.ByURL(target)
		if !ok {
			return nil, Usagef("-device-login: %s is not on the host of any integration", RedactURL(target))
		}
		users, err = deviceLogin(ctx, stderr, in, c.DeviceClient, &http.Client{Transport: counter})
		if err != nil {
			return nil, err
		}
		env.User = true
	}
	if c.UserTokenEnv != "" {
		tok, ok := os.LookupEnv(c.UserTokenEnv)
		if tok = strings.TrimSpace(tok); !ok || tok == "" {
			return nil, Usagef("-user-token-env: environment variable %s is not set or empty", c.UserTokenEnv)
		}
		in, ok := cfg.Registry.ByURL(target)
		if !ok {
			return nil, Usagef("-user-token-env: %s is not on the host of any integration, so the user's token has nowhere to go", RedactURL(target))
		}
		users = scm.UserCredentials{in.Host: credentials.Static(credentials.Credential{Kind: credentials.KindUser,
			Token: tok, Source: "flag -user-token-env " + c.UserTokenEnv})}
		env.User = true
	}
	if policy != nil && (policy.RequireUser || policy.RequireUserForWrites) && users == nil {
		return nil, Usagef("acting as the user needs the user's token: pass -user-token-env NAME or -device-login CLIENT_ID")
	}
	if users != nil || policy != nil {
		env.Client = client.ForUser(users, policy)
	}
	return env, nil
}

// deviceLogin signs the user in to in's host with the device flow of
// OAuth client clientID, telling her on stderr where to enter the code,
// and returns her credentials, renewed through the host while the program
// runs.
func deviceLogin(ctx context.Context, stderr io.Writer, in *integrations.Integration, clientID string, hc *http.Client) (scm.UserCredentials, error) {
	var p auth.DeviceProvider
	var scopes []string
	var err error
	switch in.Kind {
	case integrations.GitHub:
		o := auth.GitHubOptions{ClientID: clientID, APIBaseURL: in.APIBaseURL, HTTPClient: hc}
		if in.Host != "github.com" {
			o.EnterpriseInstanceURL = in.BaseURL
		}
		p, err = auth.NewGitHub(o)
		scopes = []string{"repo"} // an OAuth app's; a GitHub App's permissions come from the app
	case integrations.GitLab:
		p, err = auth.NewGitLab(auth.GitLabOptions{ClientID: clientID, BaseURL: in.BaseURL, HTTPClient: hc})
		scopes = []string{"api"}
	default:
		return nil, Usagef("-device-login: %s is a %s host; the device flow is for GitHub and GitLab", in.Host, in.Kind)
	}
	if err != nil {
		return nil, err
	}
	dc, err := p.DeviceAuth(ctx, scopes)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "To sign in, open %s and enter the code %s (it expires at %s).\n", dc.VerificationURI, dc.UserCode, dc.Expiry.Format(time.Kitchen))
	s, err := p.DeviceSignIn(ctx, dc)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "Signed in as %s.\n", s.Identity.Login)
	return auth.UserCredentials(p, s, &credentials.UserOptions{HTTPClient: hc}), nil
}

// NewFlagSet returns a flag set that reports errors instead of exiting and
// whose -h prints usage (the command synopsis, one or more lines) and the
// flags to stderr.
func NewFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\nflags:\n", strings.TrimSpace(usage))
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args with fs, accepting flags before and after the
// positional arguments (which it returns); everything after "--" is
// positional.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// RedactURL returns raw for display with anything that may carry a secret
// removed: user information, the fragment and every query parameter but
// "at" (the ref of Bitbucket Server URLs).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		var keep []string
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if strings.HasPrefix(kv, "at=") {
				keep = append(keep, kv)
			}
		}
		u.RawQuery = strings.Join(keep, "&")
	}
	return u.String()
}

// Counter is an http.RoundTripper that counts the requests it sends, per
// host, including retries and redirects. It is safe for concurrent use.
type Counter struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

// NewCounter returns a Counter sending requests with base.
func NewCounter(base http.RoundTripper) *Counter {
	return &Counter{base: base, n: map[string]int{}}
}

// RoundTrip counts req and sends it.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[req.URL.Host]++
	c.mu.Unlock()
	return c.base.RoundTrip(req)
}

// Total returns the number of requests sent so far.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, n := range c.n {
		t += n
	}
	return t
}

// String summarises the counts, e.g. "3 HTTP requests (api.github.com 2,
// codeload.github.com 1)".
func (c *Counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	hosts := make([]string, 0, len(c.n))
	t := 0
	for h, n := range c.n {
		hosts = append(hosts, h)
		t += n
	}
	slices.Sort(hosts)
	s := fmt.Sprintf("%d HTTP %s", t, Plural(t, "request", "requests"))
	if len(hosts) == 0 {
		return s
	}
	parts := make([]string, len(hosts))
	for i, h := range hosts {
		parts[i] = fmt.Sprintf("%s %d", h, c.n[h])
	}
	return s + " (" + strings.Join(parts, ", ") + ")"
}

// Plural returns one when n is 1 and many otherwise.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
