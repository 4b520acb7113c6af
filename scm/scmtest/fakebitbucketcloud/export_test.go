package fakebitbucketcloud

// DownloadURL returns the base URL of the download host, for the tests
// of redirected archive downloads.
func (s *Server) DownloadURL() string { return s.download.URL }
