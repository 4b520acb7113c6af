package orgx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/scmkit/scmkit/errcode"
)

// GraphQL sends one reader's GraphQL queries (GitHub's, GitLab's) and
// decodes their data; what differs between providers is how they word
// their errors. API.HTTPError's error for a 502 or 504 is made [Shrink].
type GraphQL struct {
	API
	URL     string
	Header  http.Header   // set on every request, beside Content-Type and Accept
	Timeout time.Duration // bounds each request; one that times out is [Shrink]
	// QueryErrors is the error of an answer that carries GraphQL errors;
	// header is the answer's (a rate limit's reset time).
	QueryErrors func(errs []QueryError, header http.Header) error
}

// QueryError is one entry of a GraphQL answer's errors.
type QueryError struct {
	Type    string `json:"type"` // GitHub's classification; GitLab sends none
	Message string `json:"message"`
}

// Post sends query with vars and decodes the answer's data into out.
func (g *GraphQL) Post(ctx context.Context, query string, vars map[string]any, out any) error {
	op := g.Errs.Op
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return errcode.Wrap(errcode.Unknown, op, err)
	}
	rctx, cancel := context.WithTimeout(ctx, g.Timeout)
	defer cancel()
	timedOut := func() bool { return ctx.Err() == nil && rctx.Err() != nil }
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return errcode.Wrap(errcode.InvalidArgument, op, err)
	}
	for k, v := range g.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := g.Client.Do(req)
	if err != nil {
		if timedOut() {
			return Shrink(g.Errs.Fail(errcode.DeadlineExceeded, 0, fmt.Sprintf("a GraphQL query timed out after %s", g.Timeout), err))
		}
		return g.transport(ctx, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusBadGateway, http.StatusGatewayTimeout: // the server gave up on the query
		return Shrink(g.HTTPError(resp))
	default:
		return g.HTTPError(resp)
	}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []QueryError    `json:"errors"`
	}
	if err := ReadJSON(op, resp, g.MaxResponseBytes, &env); err != nil {
		if timedOut() {
			return Shrink(g.Errs.Fail(errcode.DeadlineExceeded, 0, "a GraphQL answer timed out", err))
		}
		return err
	}
	if len(env.Errors) > 0 {
		return g.QueryErrors(env.Errors, resp.Header)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return g.Errs.Fail(errcode.Unavailable, resp.StatusCode, "the GraphQL answer is not the shape asked for", err)
	}
	return nil
}

// PageInfo is a GraphQL connection's pageInfo.
type PageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

// Sizes is what [Pages] needs of a set of page sizes.
type Sizes[T any] interface {
	comparable
	// Halved returns every size halved (none below 1), and false when
	// every size is 1 already.
	Halved() (T, bool)
	// LogValue lists the sizes for the log line of a halving.
	LogValue() slog.Value
}

// maxHalvings bounds how often one query's page sizes are halved.
const maxHalvings = 7

// Pages are the page sizes of one read's queries, shared by its concurrent
// queries. A query refused as too large (a [Shrink] error) is sent again
// with every size halved, and the smaller sizes stay for the rest of the
// read: the pages that follow are as heavy.
type Pages[T Sizes[T]] struct {
	logger *slog.Logger
	msg    string
	attrs  []any

	mu  sync.Mutex
	cur T
}

// NewPages returns page sizes starting at initial; each halving is logged
// to logger (nil: silent) as msg with attrs.
func NewPages[T Sizes[T]](initial T, logger *slog.Logger, msg string, attrs ...any) *Pages[T] {
	return &Pages[T]{cur: initial, logger: logger, msg: msg, attrs: attrs}
}

// Current returns the sizes now in force.
func (p *Pages[T]) Current() T {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// Do calls send with the current sizes until it succeeds, fails with an
// error that smaller pages cannot avoid, or the sizes cannot be halved
// again.
func (p *Pages[T]) Do(ctx context.Context, send func(T) error) error {
	for attempt := 0; ; attempt++ {
		ps := p.Current()
		err := send(ps)
		if err == nil || !Shrinkable(err) || attempt >= maxHalvings || ctx.Err() != nil {
			return err
		}
		half, ok := ps.Halved()
		if !ok {
			return err
		}
		p.mu.Lock()
		if p.cur == ps { // another query may have halved them already
			p.cur = half
		}
		ps = p.cur
		p.mu.Unlock()
		if p.logger != nil {
			p.logger.InfoContext(ctx, p.msg, append(p.attrs[:len(p.attrs):len(p.attrs)], "pages", ps, "cause", err.Error())...)
		}
	}
}

// Query sends the query build makes for the current page sizes to g,
// halving the sizes while the query is too large, and decodes its data
// into out.
func Query[T Sizes[T]](ctx context.Context, g *GraphQL, p *Pages[T], build func(T) (string, map[string]any), out any) error {
	return p.Do(ctx, func(ps T) error {
		q, vars := build(ps)
		return g.Post(ctx, q, vars, out)
	})
}
