package githubscm

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/google/go-github/v66/github"
)

// graphql posts one GraphQL query and decodes its data into out. An answer
// with errors fails with a *GraphQLError; HTTP failures are go-github's
// errors, as for REST calls.
func (d *Driver) graphql(ctx context.Context, gh *github.Client, query string, vars map[string]any, out any) error {
	req, err := gh.NewRequest(http.MethodPost, d.graphqlURL, map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
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
