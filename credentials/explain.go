package credentials

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"github.com/scmkit/scmkit/credentials/githubapp"
	"github.com/scmkit/scmkit/errcode"
)

// Outcome is what happened to one candidate credential in a resolution.
type Outcome int

const (
	// Chosen: this candidate is the credential returned.
	Chosen Outcome = iota + 1
	// Skipped: the candidate does not apply (none passed, excluded by a
	// policy, not installed for the owner, not for writes…), so the next
	// one was tried.
	Skipped
	// Failed: the candidate should have applied but did not work (an app
	// whose installation is suspended, a token endpoint that is down, a
	// user source that cannot refresh); its error is what Resolve returns,
	// unless a later app works.
	Failed
	// NotTried: the candidate was not tried because an earlier one failed
	// and Resolve does not fall back after a failure.
	NotTried
)

var outcomeNames = [...]string{Chosen: "Chosen", Skipped: "Skipped", Failed: "Failed", NotTried: "NotTried"}

// String returns the outcome's name, e.g. "Skipped".
func (o Outcome) String() string {
	if o > 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// GoString returns the outcome as Go syntax, e.g. "credentials.Skipped".
func (o Outcome) GoString() string {
	if o > 0 && int(o) < len(outcomeNames) {
		return "credentials." + outcomeNames[o]
	}
	return "credentials.Outcome(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText writes the outcome's name, so that JSON shows "Skipped"
// rather than a number.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an outcome's name, as MarshalText writes it.
func (o *Outcome) UnmarshalText(text []byte) error {
	for i, name := range outcomeNames {
		if name != "" && name == string(text) {
			*o = Outcome(i)
			return nil
		}
	}
	return errcode.Newf(errcode.InvalidArgument, "credentials.Outcome.UnmarshalText",
		"unknown outcome %q; want Chosen, Skipped, Failed or NotTried", text)
}

// Candidate is one credential that [Resolver.Explain] considered. Its
// fields are built from configuration paths, app ids, owners, policies and
// error messages only, never from a token, so it may be printed, logged or
// marshalled to JSON as it is.
type Candidate struct {
	// What names the candidate: "user token",
	// "integrations.github[0].apps[0] (app 4242)",
	// "integrations.github[0].apps[0] (app 4242, publicAccess)",
	// "integrations.bitbucketCloud[0] (OAuth consumer)",
	// "integrations.github[0].credentials[1]", "integrations.github[0].token"
	// (or where the token would be configured), or "anonymous".
	What string `json:"what"`
	// Outcome is what happened to it.
	Outcome Outcome `json:"outcome"`
	// Why explains the outcome: "none passed", "not used (NoUser policy)",
	// "owner acme is in its owners", "not installed for owner acme; …",
	// the error of a failed candidate, "not for writes".
	Why string `json:"why"`
}

// String describes the candidate on one line, e.g.
// "integrations.github[0].token: Chosen (the integration's own token)".
func (c Candidate) String() string {
	return c.What + ": " + c.Outcome.String() + " (" + c.Why + ")"
}

// LogValue shows the candidate as a group of what, outcome and why.
func (c Candidate) LogValue() slog.Value {
	return slog.GroupValue(slog.String("what", c.What), slog.String("outcome", c.Outcome.String()), slog.String("why", c.Why))
}

// Explain resolves req exactly as [Resolver.Resolve] does, through the same
// code, and also returns the decision trace: every candidate considered, in
// the order of Resolve's documentation, with what happened to it.
//
// On success the trace ends with the Chosen candidate: the candidates after
// it were not considered and are omitted. After a failed app credential,
// the owner-scoped credentials and the host's token, which Resolve does not
// fall back to, are listed as NotTried. The trace is empty when Resolve
// fails before considering any candidate (a request with no host, a URL on
// another integration, a contradictory policy, a context that has ended).
// For a host that no integration owns, the trace is the one "anonymous"
// candidate.
//
// Explain costs what Resolve costs plus the trace; Resolve itself records
// nothing beyond what its error needs.
func (r *Resolver) Explain(ctx context.Context, req Request) (*Credential, []Candidate, error) {
	tr := &trace{}
	c, err := r.resolve(ctx, req, tr)
	return c, tr.list, err
}

// trace collects the candidates for Explain. A nil *trace, as Resolve
// passes, records nothing, and its callers format nothing for it.
type trace struct {
	list []Candidate
}

func (t *trace) add(what string, o Outcome, why string) {
	if t != nil {
		t.list = append(t.list, Candidate{What: what, Outcome: o, Why: why})
	}
}

// appNames are an app's names, computed when the resolver is built.
type appNames struct {
	what   string // "integrations.github[0].apps[0] (app 4242)"
	public string // "integrations.github[0].apps[0] (app 4242, publicAccess)"
	label  string // "app 4242 (integrations.github[0].apps[0])", how githubapp's messages name it
}

func newAppNames(app *githubapp.App) appNames {
	id, path := strconv.FormatInt(app.ID(), 10), app.ConfigPath()
	return appNames{what: path + " (app " + id + ")", public: path + " (app " + id + ", publicAccess)", label: "app " + id + " (" + path + ")"}
}

// scopedEntry is one credentials[] entry, in config order, for the trace.
type scopedEntry struct {
	cred   *Credential
	owners []string // lower-cased, without surrounding slashes
}

// The methods below record a candidate both in the list that Resolve's
// error shows and, when Explain asked for it, in the trace.

// skip records a candidate that does not apply.
func (t *attempts) skip(what, why string) {
	t.add(what, why, nil)
	t.trace.add(what, Skipped, why)
}

// failed records a candidate whose credential returned err: Skipped when
// fallback (an app not installed for the owner), Failed otherwise. label is
// how err's message names the candidate, which the trace's Why leaves out.
func (t *attempts) failed(what, label string, err error, fallback bool) {
	t.add(what, "", err)
	if t.trace != nil {
		o := Failed
		if fallback {
			o = Skipped
		}
		t.trace.add(what, o, whyOf(err, label))
	}
}

// notTried records a candidate left out after an earlier failure.
func (t *attempts) notTried(what, why string) {
	t.add(what, why, nil)
	t.trace.add(what, NotTried, why)
}

// chose records the candidate returned; Resolve's error never needs it.
func (t *attempts) chose(what, why string) { t.trace.add(what, Chosen, why) }

// choseApp records an app credential returned for owner.
func (t *attempts) choseApp(what string, tok *githubapp.Token, owner string) {
	if t.trace == nil {
		return
	}
	switch {
	case tok.InstallationID == 0:
		t.trace.add(what, Chosen, "the app's JWT, as the request names no owner")
	case owner == "":
		t.trace.add(what, Chosen, "installation "+strconv.FormatInt(tok.InstallationID, 10)+"'s token, for a read")
	default:
		t.trace.add(what, Chosen, "installed for owner "+owner+" (installation "+strconv.FormatInt(tok.InstallationID, 10)+")")
	}
}

// scopedSkipped records that no credentials[] entry covers owner.
func (t *attempts) scopedSkipped(h *hostState, owner string) {
	if h.scoped == nil {
		return
	}
	t.add("credentials[]", "no entry for this owner", nil)
	if t.trace == nil {
		return
	}
	why := "owner " + owner + " is not in its owners"
	if strings.Trim(owner, "/") == "" {
		why = "the request names no owner"
	}
	for _, e := range h.scopedList {
		t.trace.add(e.cred.Source, Skipped, why)
	}
}

// scopedNotTried records the credentials[] entries left out after an app
// error.
func (t *attempts) scopedNotTried(h *hostState, why string) {
	if h.scoped == nil {
		return
	}
	t.add("credentials[]", why, nil)
	if t.trace == nil {
		return
	}
	for _, e := range h.scopedList {
		t.trace.add(e.cred.Source, NotTried, why)
	}
}

// scopedChosen records the entries up to chosen, the entry that covers
// owner: those before it in config order are Skipped.
func (t *attempts) scopedChosen(h *hostState, owner string, chosen *Credential) {
	if t.trace == nil {
		return
	}
	key := strings.ToLower(strings.Trim(owner, "/"))
	for _, e := range h.scopedList {
		m := e.covers(key, h.scopedGroups)
		switch {
		case e.cred == chosen && m == key:
			t.trace.add(e.cred.Source, Chosen, "owner "+owner+" is in its owners")
			return
		case e.cred == chosen:
			t.trace.add(e.cred.Source, Chosen, "group "+m+", a parent of "+owner+", is in its owners")
			return
		case m == "":
			t.trace.add(e.cred.Source, Skipped, "owner "+owner+" is not in its owners")
		default:
			t.trace.add(e.cred.Source, Skipped, "group "+m+" covers "+owner+", but "+chosen.Source+" names a nearer one")
		}
	}
}

// covers returns the owner of e that covers key (lower-cased): key itself,
// or with groups the longest parent group of it; "" if none does.
func (e scopedEntry) covers(key string, groups bool) string {
	best := ""
	for _, o := range e.owners {
		switch {
		case o == key:
			return o
		case groups && len(o) > len(best) && strings.HasPrefix(key, o+"/"):
			best = o
		}
	}
	return best
}

// errMsg is an error's message without its errcode prefix.
func errMsg(err error) string {
	var e *errcode.Error
	if errors.As(err, &e) && e.Msg != "" {
		return e.Msg
	}
	return err.Error()
}

// whyOf is a candidate's error message without the candidate's own name at
// its start: "not installed for owner acme; install it on acme, …" rather
// than "app 4242 (integrations.github[0].apps[0]) is not installed …".
func whyOf(err error, label string) string {
	msg := errMsg(err)
	if label != "" {
		if rest, ok := strings.CutPrefix(msg, label+" is "); ok {
			return rest
		}
		if rest, ok := strings.CutPrefix(msg, label+" "); ok {
			return rest
		}
	}
	return msg
}
