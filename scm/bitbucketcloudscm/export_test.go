package bitbucketcloudscm

// Slug gives the external tests the unexported slug.
var Slug = slug
