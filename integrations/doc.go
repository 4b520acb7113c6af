// Package integrations knows which source-control hosts exist and what
// their URLs mean. It reads the integrations: section of a Backstage
// app-config.yaml (already decoded into a [Config]) with Backstage's keys,
// defaults and validation rules for GitHub, GitLab, Bitbucket Cloud and
// Bitbucket Server, and builds an immutable [Registry].
//
// A Registry finds the [Integration] for a host ([Registry.ByHost],
// [Registry.ByURL], [Registry.Owning]), parses web URLs into a [Location]
// (kind, host, owner, repository, ref, path) with [Registry.Parse] and
// builds them back with [Registry.URL] (Parse(URL(loc)) is loc again),
// routes a URL in one parse with [Registry.Lookup] (integration, Location
// and anonymous reading together, as a client needs them per call), resolves relative links and edit
// links as Backstage does ([Registry.ResolveURL], [Registry.EditURL]), gives
// the URL of a file in a pasted repository or directory URL
// ([Registry.FileURL]), and
// answers whether backend.reading.allow lets a URL be read anonymously
// ([Registry.AllowsAnonymous]). An Integration builds the API URLs an
// adapter needs ([Integration.FileAPIURL], [Integration.RawURL],
// [Integration.ArchiveURL]).
//
// Defaults: an entry for github.com, gitlab.com and bitbucket.org is
// implied when the config has none (bitbucket.org only when
// integrations.bitbucketCloud is empty), so the zero Registry already
// knows the public hosts. Hosts compare case-insensitively with the
// default ports :443 and :80 dropped; non-default ports and a GitLab
// sub-path (baseUrl https://host/gitlab) work.
//
// scmkit's extension to Backstage's config is [ScopedCredential]: several
// credentials on one host, each for some owners. [Integration.CredentialFor]
// picks the most specific one; the entry's own token stays the host-wide
// fallback ([Integration.Token]).
//
// Like Backstage, the registry does not refuse a configuration for a value
// Backstage starts with although it cannot work (an apiBaseUrl that is not
// a URL, a GitHub Enterprise entry with neither apiBaseUrl nor rawBaseUrl):
// that entry keeps its host but is disabled ([Integration.Disabled]), and
// every use of it fails naming its config path. Entries of the Backstage
// sections scmkit does not serve ([Config.Unsupported]: azure, gerrit, ...)
// are remembered by host, so that a URL on one of them is refused with an
// error naming the section that would serve it.
//
// The package has no global state and reads no environment variables.
// Secrets are held in [Secret], which never prints, marshals or logs its
// value.
//
// # Errors
//
// [NewRegistry] returns an *errcode.Error with code InvalidArgument whose
// wrapped error joins one [*FieldError] per problem, each with its config
// path ("integrations.github[1].apps[0].privateKey") and a message saying
// how to fix it; [FieldErrors] lists them. All problems are reported at
// once. Messages never contain a secret.
//
// Parse, Lookup, URL, ResolveURL, EditURL and the URL builders return an
// *errcode.Error with code InvalidArgument (Provider and Host set when an
// integration was found) for: a host with no integration (the message says
// to add one), a URL that is not absolute http(s) or carries user info,
// path traversal ("." or ".." segments, even percent-encoded several
// times), control characters, and URLs or Locations of an unsupported
// shape. They never panic on malformed input.
package integrations
