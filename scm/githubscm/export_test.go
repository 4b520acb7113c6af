package githubscm

// CommitHeadline is commitHeadline, for the external tests.
var CommitHeadline = commitHeadline
