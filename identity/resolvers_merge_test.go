package identity

import "testing"

func TestResolversMerge(t *testing.T) {
	a, b, c := &SignInResolver{}, &SignInResolver{}, &SignInResolver{}
	rs := Resolvers{}
	rs.Set("github", "production", a)
	rs.Set("github", "development", b)
	rs.Merge(Resolvers{"github": {"development": c}, "gitlab": {"production": c}})
	rs.Merge(nil)
	for _, tc := range []struct {
		id, env string
		want    *SignInResolver
	}{{"github", "production", a}, {"github", "development", c}, {"gitlab", "production", c}, {"gitlab", "development", nil}} {
		if got := rs.For(tc.id, tc.env); got != tc.want {
			t.Errorf("For(%s, %s) = %p; want %p", tc.id, tc.env, got, tc.want)
		}
	}
	if got := Resolvers(nil).For("github", "production"); got != nil {
		t.Errorf("a nil Resolvers resolves %p", got)
	}
}
