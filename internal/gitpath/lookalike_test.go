package gitpath

import "testing"

// TestNamesThatOnlyLookLikeGitsOwn: names git accepts even though a
// careless reading would take them for .git or .gitmodules: letters
// beyond ASCII whose low byte is an ASCII letter of "git", and an NTFS
// short name with a letter after the digits of its "~N" tail. A
// .gitmodules short name with digits only there stays refused as a
// directory.
func TestNamesThatOnlyLookLikeGitsOwn(t *testing.T) {
	for _, tc := range []struct {
		name      string
		file, dir bool // accepted as a file, as a directory
	}{
		{".\u0167\u0169\u0174", true, true},                   // ".ŧĩŴ": low bytes 'g' 'i' 't'
		{".\u0167\u0169\u0174\u016d\u016f\u0164", true, true}, // low bytes of "gitmod"
		{"gi7eb~1a", true, true},
		{"gi7eb~12", true, false},
		{"gi7e~1a3", true, true},
	} {
		for _, file := range []bool{true, false} {
			want := tc.file
			if !file {
				want = tc.dir
			}
			if err := CheckName(tc.name, file); (err == nil) != want {
				t.Errorf("CheckName(%q, file %v) = %v; want accepted %v", tc.name, file, err, want)
			}
		}
	}
}
