package fakebitbucketserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/scmkit/scmkit/scm/scmtest/internal/repostore"
)

// SearchMode says how the fake answers Data Center's code search endpoint,
// POST {context}/rest/search/latest/search.
type SearchMode int

const (
	// SearchEnabled (the default) answers searches from an index of every
	// repository's default branch, as a Data Center instance with its
	// search server does.
	SearchEnabled SearchMode = iota
	// SearchNotInstalled answers 404, as a server without the search
	// endpoint does.
	SearchNotInstalled
	// SearchUnavailable answers 503 with an error body, as an instance
	// whose search server is down or not configured does.
	SearchUnavailable
)

// searchPath is the search endpoint below the context path.
const searchPath = "/rest/search/latest/search"

// SetSearch sets how the fake answers code searches.
func (s *Server) SetSearch(m SearchMode) {
	s.st.Lock()
	defer s.st.Unlock()
	s.searchMode = m
}

// searchQuery is a parsed query: modifiers and terms.
type searchQuery struct {
	project, repo, ext string
	terms              []string // lower-case
}

var searchTokenRE = regexp.MustCompile(`"([^"]*)"|("\S*)|(\S+?):(\S+)|(\S+)`)

// parseSearchQuery parses terms (bare or "quoted") and the modifiers
// project:, repo:, ext: (others, such as lang: or path:, are refused).
func parseSearchQuery(q string) (*searchQuery, error) {
	out := &searchQuery{}
	for _, m := range searchTokenRE.FindAllStringSubmatch(q, -1) {
		switch k := strings.ToLower(m[3]); {
		case m[2] != "":
			return nil, errors.New("unterminated quote")
		case k == "project":
			out.project = m[4]
		case k == "repo":
			out.repo = m[4]
		case k == "ext":
			out.ext = strings.ToLower(m[4])
		case k != "":
			return nil, errors.New("unsupported modifier " + k)
		case strings.TrimSpace(m[1]+m[5]) != "":
			out.terms = append(out.terms, strings.ToLower(strings.TrimSpace(m[1]+m[5])))
		}
	}
	if len(out.terms) == 0 {
		return nil, errors.New("the query must contain at least one search term besides modifiers")
	}
	return out, nil
}

type searchHit struct {
	rp   *repostore.Repo
	path string
	hits int
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	s.st.Lock()
	defer s.st.Unlock()
	switch s.searchMode {
	case SearchNotInstalled:
		s.writeError(w, r, http.StatusNotFound, "", "The requested resource does not exist")
		return
	case SearchUnavailable:
		// The exception is modelled, not recorded.
		s.writeError(w, r, http.StatusServiceUnavailable, exPrefix+"search.SearchUnavailableException",
			"Search is currently unavailable. Please contact your administrator.")
		return
	}
	var body struct {
		Query    string `json:"query"`
		Entities struct {
			Code *struct {
				Start int `json:"start"`
				Limit int `json:"limit"`
			} `json:"code"`
		} `json:"entities"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(b, &body) != nil {
		s.writeError(w, r, http.StatusBadRequest, exValidation, "The request body is not valid JSON")
		return
	}
	q, err := parseSearchQuery(body.Query)
	if err != nil {
		s.writeError(w, r, http.StatusBadRequest, exValidation, "Invalid search query: "+err.Error())
		return
	}
	ans := map[string]any{"scope": map[string]string{"type": "GLOBAL"}, "query": map[string]bool{"substituted": false}}
	if body.Entities.Code == nil {
		s.writeJSON(w, r, http.StatusOK, ans)
		return
	}
	hits := s.searchIndexLocked(q)
	pg := pageOf(body.Entities.Code.Start, body.Entities.Code.Limit, len(hits), 100, func(i int) any {
		return map[string]any{"repository": s.repoJSON(hits[i].rp), "file": hits[i].path, "hitCount": hits[i].hits,
			"hitContexts": []any{}, "pathMatches": []any{}}
	})
	ans["code"] = map[string]any{"category": "primary", "isLastPage": pg.IsLastPage, "count": len(hits),
		"start": pg.Start, "nextStart": pg.Start + pg.Size, "values": pg.Values}
	s.writeJSON(w, r, http.StatusOK, ans)
}

// searchIndexLocked returns the files of every default branch that match
// q: the modifiers, and every term in the path or the content (in any
// case), sorted by project, repository and path.
func (s *Server) searchIndexLocked(q *searchQuery) []searchHit {
	var hits []searchHit
	for _, p := range s.st.Owners() {
		if q.project != "" && !strings.EqualFold(q.project, p.Key) {
			continue
		}
		for _, rp := range p.SortedRepos() {
			c := rp.Commits[rp.Branches[rp.DefaultBranch]]
			if c == nil || q.repo != "" && !strings.EqualFold(q.repo, rp.Slug) && !strings.EqualFold(q.repo, p.Key+"/"+rp.Slug) {
				continue // empty, or another repository
			}
			for _, fp := range repostore.Under(c.Files, "") {
				if q.ext != "" && strings.ToLower(strings.TrimPrefix(path.Ext(fp), ".")) != q.ext {
					continue
				}
				lp, lc := strings.ToLower(fp), strings.ToLower(string(c.Files[fp].Content))
				n, ok := 0, true
				for _, t := range q.terms {
					k := strings.Count(lc, t)
					ok = ok && (k > 0 || strings.Contains(lp, t))
					n += k
				}
				if ok {
					hits = append(hits, searchHit{rp: rp, path: fp, hits: n})
				}
			}
		}
	}
	return hits
}
