package testsvc

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium starts a headless chromium for tb (skipping or failing the test
// as [Require] does when it is not installed: Debian package "chromium")
// with a fresh profile in a throw-away directory, and returns a chromedp
// context driving one tab of it, ending after timeout. The browser is
// stopped in tb.Cleanup. It runs with the network features that would
// reach the internet switched off, so it only talks to the loopback
// servers the test gives it.
func Chromium(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	bin := Require(tb, "chromium", "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1024, 768),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	tb.Cleanup(func() {
		cancelTab()
		cancelAlloc() // stops the browser and waits for it
	})
	// Start the browser now, on a context without deadline (the browser
	// lives as long as the context of the first action), so that a broken
	// installation fails here.
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		tb.Fatalf("starting chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, timeout)
	tb.Cleanup(cancelTimeout)
	return ctx
}
