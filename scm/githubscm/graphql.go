package githubscm

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/google/go-github/v66/github"
)

// graphql posts one GraphQL query and decodes its data into out. An answer
// with errors fails with a *GraphQLError; HTTP failures are go-github's
// errors, as for REST calls. A query changes nothing, so the request is
// marked idempotent (an Idempotency-Key with no value, which net/http
// does not send): the retry policy retries it after a 5xx or a dropped
// connection as it retries a GET, instead of failing a whole listing
// for one 502. Never call it with a mutation (see mutate).
func (d *Driver) graphql(ctx context.Context, gh *github.Client, query string, vars map[string]any, out any) error {
	req, err := gh.NewRequest(http.MethodPost, d.graphqlURL, map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req.Header["Idempotency-Key"] = nil
	var answer struct {
		Data   json.RawMessage    `json:"data"`
		Errors []GraphQLErrorItem `json:"errors"`
	}
	resp, err := gh.Do(ctx, req, &answer)
	if err != nil {
		return redact(err)
	}
	if len(answer.Errors) > 0 {
		return newGraphQLError(resp.Response, answer.Errors)
	}
	return json.Unmarshal(answer.Data, out)
}
