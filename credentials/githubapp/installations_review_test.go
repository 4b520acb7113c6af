package githubapp_test

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/scmkit/scmkit/credentials/internal/apptest"
	"github.com/scmkit/scmkit/errcode"
)

// hostilePages serves GET /app/installations as pages of per fresh
// installations each, pages of them, each linking to the next.
func hostilePages(per, pages int) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/app/installations" {
			return false
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		w.Header().Set("Content-Type", "application/json")
		if page < pages {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/app/installations?per_page=100&page=%d>; rel="next"`, r.Host, page+1))
		}
		var b strings.Builder
		b.WriteString("[")
		for i := range per {
			if i > 0 {
				b.WriteString(",")
			}
			id := (page-1)*per + i + 1
			fmt.Fprintf(&b, `{"id":%d,"app_id":%d,"account":{"login":"o%d","type":"Organization"}}`, id, apptest.AppID, id)
		}
		b.WriteString("]")
		fmt.Fprint(w, b.String())
		return true
	}
}

// TestInstallationsBoundCountsInstallations: the doc says a listing that goes on
// beyond 100,000 installations is an Unavailable error, but the bound
// counts pages, not installations: pages of more than 100 pass it.
func TestInstallationsBoundCountsInstallations(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.SetFault(hostilePages(5000, 21)) // 105,000 installations
	list, err := s.app.Installations(t.Context())
	if errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("Installations: %d installations, err %v; want Unavailable (more than 100,000)", len(list), err)
	}
}

// TestInstallationsListsEachOnce: pages that overlap (offset paging
// while installations change) list an installation twice.
func TestInstallationsListsEachOnce(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/app/installations" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("page") == "" {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/app/installations?per_page=100&page=2>; rel="next"`, r.Host))
			fmt.Fprintf(w, `[{"id":1,"app_id":%d,"account":{"login":"a","type":"Organization"}},{"id":2,"app_id":%[1]d,"account":{"login":"b","type":"Organization"}}]`, apptest.AppID)
			return true
		}
		fmt.Fprintf(w, `[{"id":2,"app_id":%d,"account":{"login":"b","type":"Organization"}},{"id":3,"app_id":%[1]d,"account":{"login":"c","type":"Organization"}}]`, apptest.AppID)
		return true
	})
	list, err := s.app.Installations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Errorf("%d installations listed: %+v; want 3 (a, b, c once each)", len(list), list)
	}
}

// TestInstallationsResultIsTheCallers: the Permissions maps Installations
// returns are the ones its page cache and owner cache keep: a caller that
// edits one changes what the app answers later.
func TestInstallationsResultIsTheCallers(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.Add(apptest.Installation{ID: 1, Login: "acme"})
	list, err := s.app.Installations(t.Context())
	if err != nil || len(list) != 1 {
		t.Fatalf("Installations = %v, %v", list, err)
	}
	if len(list[0].Permissions) == 0 {
		t.Fatal("the fake lists no permissions: the test shows nothing")
	}
	before := fmt.Sprint(list[0].Permissions)
	list[0].Permissions["administration"] = "write"
	inst, err := s.app.Installation(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(inst.Permissions); got != before {
		t.Errorf("Installation(acme).Permissions = %s after the caller edited Installations' result; want %s", got, before)
	}
}

// TestInstallationsNextOnlyOnItsPath: a Link rel="next" to another path on
// the API host gets the JWT (githuborg's own listing sent only the query,
// to /app/installations).
func TestInstallationsNextOnlyOnItsPath(t *testing.T) {
	s := newSetup(t, nil, nil)
	var mu sync.Mutex
	var got []string
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		got = append(got, r.URL.Path+" auth="+strconv.FormatBool(r.Header.Get("Authorization") != ""))
		mu.Unlock()
		switch r.URL.Path {
		case "/app/installations":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/elsewhere/collect?page=2>; rel="next"`, r.Host))
			fmt.Fprintf(w, `[{"id":1,"app_id":%d,"account":{"login":"a","type":"Organization"}}]`, apptest.AppID)
			return true
		case "/elsewhere/collect":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `[]`)
			return true
		}
		return false
	})
	// The link's query is asked on the listing's own path: the fault
	// answers the same page again, which ends the listing as one that
	// would never end.
	if list, err := s.app.Installations(t.Context()); errcode.CodeOf(err) != errcode.Unavailable {
		t.Errorf("Installations = %v, %v; want Unavailable", list, err)
	}
	want := []string{"/app/installations auth=true", "/app/installations auth=true"}
	if !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q: the JWT only on /app/installations", got, want)
	}
}

// TestInstallationsEnterprisePages: enterprise installations have no
// account login (GitHub sends slug and name), so the "nothing new" rule,
// which keys on the login, takes a page of them for a repeated page.
func TestInstallationsEnterprisePages(t *testing.T) {
	s := newSetup(t, nil, nil)
	s.fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/app/installations" {
			return false
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		w.Header().Set("Content-Type", "application/json")
		if page < 3 {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/app/installations?per_page=100&page=%d>; rel="next"`, r.Host, page+1))
		}
		var b strings.Builder
		b.WriteString("[")
		for i := range 100 {
			if i > 0 {
				b.WriteString(",")
			}
			id := (page-1)*100 + i + 1
			if page == 1 && i > 0 || page == 3 {
				fmt.Fprintf(&b, `{"id":%d,"app_id":%d,"account":{"login":"o%d","type":"Organization"}}`, id, apptest.AppID, id)
			} else {
				fmt.Fprintf(&b, `{"id":%d,"app_id":%d,"account":{"slug":"ent%d","name":"E","type":"Enterprise"}}`, id, apptest.AppID, id)
			}
		}
		b.WriteString("]")
		fmt.Fprint(w, b.String())
		return true
	})
	list, err := s.app.Installations(t.Context())
	if err != nil || len(list) != 300 {
		t.Errorf("Installations: %d installations, %v; want 300", len(list), err)
	}
}
