package identity

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestPrincipal(t *testing.T) {
	alice := &User{EntityRef: "user:default/alice", OwnershipEntityRefs: []string{"user:default/alice", "group:default/Team-A"}}
	tests := []struct {
		p    Principal
		str  string
		log  string
		anon bool
	}{
		{Principal{}, "anonymous", "who.anonymous=true", true},
		{Principal{User: alice}, "user:default/alice", "who.user=user:default/alice", false},
		{Principal{Service: "plugin:scaffolder"}, "plugin:scaffolder", "who.service=plugin:scaffolder", false},
		{Principal{User: alice, Service: "plugin:scaffolder"}, "plugin:scaffolder on behalf of user:default/alice", "who.user=user:default/alice who.service=plugin:scaffolder", false},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.str {
			t.Errorf("String = %q, want %q", got, tt.str)
		}
		if tt.p.IsAnonymous() != tt.anon {
			t.Errorf("%s: IsAnonymous = %v", tt.str, !tt.anon)
		}
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("acted", "who", tt.p)
		if !strings.Contains(buf.String(), tt.log) {
			t.Errorf("log %q does not contain %q", buf.String(), tt.log)
		}
	}
	if !alice.Owns("group:default/team-a") || alice.Owns("group:default/team-b") || (*User)(nil).Owns("x") {
		t.Error("Owns")
	}
}
