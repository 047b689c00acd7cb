// Command shoot saves a screenshot of the map at a URL once its incidents
// are drawn (scripts/screenshots.sh uses it for the README's pictures).
//
//	go run ./scripts/shoot -out docs/map-offline.png http://127.0.0.1:18181/
//
// Chromium's own --screenshot cannot wait for the map: the live-update
// stream keeps a request open, so its virtual time never runs out.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/chromedp"
)

// drawn: the map has rendered its incidents (as markers or tiles) and no
// load is in flight.
const drawn = `(() => { const m = document.getElementById('map');
	return m && m.dataset.incidents === 'ready' && Number(m.dataset.renders || 0) > 0; })()`

func main() {
	out := flag.String("out", "map.png", "PNG file to write")
	width := flag.Int("width", 1280, "window width")
	height := flag.Int("height", 800, "window height")
	settle := flag.Duration("settle", 2*time.Second, "wait after the incidents are drawn (labels, outlines)")
	chromium := flag.String("chromium", "chromium", "Chromium binary")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: shoot [-out FILE] URL")
	}
	if err := shoot(flag.Arg(0), *out, *chromium, *width, *height, *settle); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", *out)
}

func shoot(url, out, chromium string, width, height int, settle time.Duration) error {
	exe, err := exec.LookPath(chromium)
	if err != nil {
		return fmt.Errorf("find Chromium: %w", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(width, height))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate(url),
		chromedp.Poll[chromedp.Void](drawn, chromedp.WithPollingInterval(100*time.Millisecond)),
		chromedp.Sleep(settle)); err != nil {
		return fmt.Errorf("load %s: %w", url, err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
