// Package chromium starts a headless Chromium for the browser tests
// (frontend/e2e) and the map benchmarks (bench/) with the same flags: no
// sandbox (they run as root), no GPU, nothing that reaches the network on
// its own (updates, sync, QUIC), and a profile of their own.
package chromium

import (
	"errors"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// candidates are where Debian's package and other installs put the binary.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// ErrNotFound says that no Chromium binary is installed.
var ErrNotFound = errors.New("chromium not found: install it with make deps (Debian package chromium)")

// Find returns the path of the first Chromium binary installed.
func Find() (string, error) {
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Options are the allocator options of a headless Chromium exe with the
// profile folder profile and a width × height window.
func Options(exe, profile string, width, height int) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
	)
}
