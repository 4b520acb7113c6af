package bitbucketserverscm

// ProjectKey gives the external tests the unexported helper.
var ProjectKey = projectKey

// SearchAvailable reports whether FindFiles will try the server's code
// search: false with Options.NoCodeSearch, or for Options.SearchRecheck
// after the server answered that search is not available.
func (d *Driver) SearchAvailable() bool { return !d.searchOff() }
