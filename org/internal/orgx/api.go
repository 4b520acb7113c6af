package orgx

import (
	"context"
	"net/http"

	"github.com/scmkit/scmkit/errcode"
)

// API sends one reader's requests to one service and words their errors.
type API struct {
	Client *http.Client
	Errs   Errs
	// MaxResponseBytes caps each answer.
	MaxResponseBytes int64
	// HTTPError is the error of an answer other than 200 OK.
	HTTPError func(*http.Response) error
}

// transport is the error of a request that got no answer.
func (a *API) transport(ctx context.Context, err error) error { return a.Errs.Transport(ctx, err) }

// GetJSON gets link, with header added to the request, and decodes the
// JSON answer into out; it returns the answer's header (paging links).
func (a *API) GetJSON(ctx context.Context, link string, header http.Header, out any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, errcode.Wrap(errcode.InvalidArgument, a.Errs.Op, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		return nil, a.transport(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, a.HTTPError(resp)
	}
	if err := ReadJSON(a.Errs.Op, resp, a.MaxResponseBytes, out); err != nil {
		return nil, err
	}
	return resp.Header, nil
}
