package githuborg_test

import (
	"strings"
	"testing"

	"github.com/scmkit/scmkit/config"
	"github.com/scmkit/scmkit/errcode"
	"github.com/scmkit/scmkit/org/githuborg"
)

func TestDecodeConfigNamesUnsetVariables(t *testing.T) {
	env := map[string]string{"GITHUB_ORG": "acme", "GHE_URL": "https://ghe.example.com"}
	tests := []struct {
		name, yaml string
		want       string // in the error; "": no error
	}{
		{"all set", "catalog:\n  providers:\n    githubOrg:\n      id: production\n      githubUrl: ${GHE_URL}\n      orgs: [\"${GITHUB_ORG}\"]\n", ""},
		{"fallback", "catalog:\n  providers:\n    githubOrg:\n      id: production\n      githubUrl: ${GH_URL:-https://github.com}\n      orgs: [acme]\n", ""},
		{"githubUrl", "catalog:\n  providers:\n    githubOrg:\n      id: production\n      githubUrl: ${GHE_URL_TYPO}\n      orgs: [acme]\n",
			"catalog.providers.githubOrg: the environment does not set GHE_URL_TYPO"},
		{"an organisation of a list entry", "catalog:\n  providers:\n    githubOrg:\n      - id: a\n        orgs: [acme]\n      - id: b\n        orgs: [\"${SECOND_ORG}\", \"${THIRD_ORG}\"]\n",
			"the environment does not set SECOND_ORG, THIRD_ORG"},
		{"variables elsewhere do not count", "auth:\n  session:\n    secret: ${UNSET_SECRET}\ncatalog:\n  providers:\n    githubOrg:\n      id: production\n      orgs: [acme]\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.LoadBytes(t.Context(), &config.Options{Lookup: func(n string) (string, bool) { v, ok := env[n]; return v, ok }}, []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			got, err := githuborg.DecodeConfig(cfg)
			if tt.want == "" {
				if err != nil || len(got) != 1 {
					t.Fatalf("= %+v, %v", got, err)
				}
				return
			}
			if errcode.CodeOf(err) != errcode.InvalidArgument || got != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("= %+v, %v; want InvalidArgument saying %q", got, err, tt.want)
			}
			if strings.Contains(err.Error(), "acme") || strings.Contains(err.Error(), "ghe.example.com") {
				t.Errorf("error shows a value: %v", err)
			}
		})
	}
}
