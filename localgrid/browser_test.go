package localgrid_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fractal-grid/fractal/internal/testenv"
)

var screenshotPath = flag.String("screenshot", "", "also save the browser test's screenshot to this file")

// browser starts Debian's chromium headless with a fresh profile and
// returns a tab's context.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(testenv.Tool(t, "chromium")),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// TestBrowserMakesAVideoAndShowsTheGrid drives the web page the way a
// person would: the key is filled in for a local grid, a prompt is
// submitted, the video plays in the page, and the grid view lists every
// miner in the map and the table.
func TestBrowserMakesAVideoAndShowsTheGrid(t *testing.T) {
	const miners = 3
	cfg := testConfig(t.TempDir(), miners)
	cfg.Uneven = true
	g := startGrid(t, cfg)
	ctx := browser(t)
	problems := watchConsole(t, ctx)

	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1400, 1000),
		chromedp.Navigate(g.URL()),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === 'true' && document.getElementById('key').value === `+jsString(g.APIKey())),
	)
	if err != nil {
		t.Fatalf("open the page with the demo key filled in: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("prompt"), "a blue fish swimming through a coral reef"),
		chromedp.SetValue(chromedp.ID("seed"), "11"),
		chromedp.SetValue(chromedp.ID("size"), "128x128"),
		chromedp.SetValue(chromedp.ID("frames"), "8"),
		chromedp.SetValue(chromedp.ID("steps"), "8"),
		chromedp.Click(chromedp.ID("go")),
	)
	if err != nil {
		t.Fatalf("submit the prompt: %v", err)
	}
	playing := `(() => { const v = document.getElementById('video');
		return !v.hidden && (v.currentTime > 0 || (!v.paused && v.readyState >= 2)); })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](playing, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('job-status').textContent + ' ' + document.getElementById('error').textContent`))
		t.Fatalf("the video never played (job: %q): %v", status, err)
	}
	listed := `document.querySelectorAll('#miners tbody tr').length === ` + strconv.Itoa(miners) +
		` && document.querySelectorAll('#map circle.miner').length === ` + strconv.Itoa(miners)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](listed, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the grid view does not list %d miners: %v", miners, err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#map circle.miner')].map(c => c.dataset.hotkey).sort()`))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range g.Miners() {
		want = append(want, m.Hotkey.SS58())
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the map shows miners %v, want %v", got, want)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('job-status').textContent`))
	if err != nil || status != "completed" {
		t.Errorf("job status: got %q (%v), want completed", status, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "page.png")
	if *screenshotPath != "" {
		path = *screenshotPath
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
	for _, p := range problems() {
		t.Errorf("browser console: %s", p)
	}
}

// watchConsole collects the page's console warnings, errors and uncaught
// exceptions; the returned func stops watching and returns them.
func watchConsole(t *testing.T, ctx context.Context) func() []string {
	t.Helper()
	if err := chromedp.Do(ctx); err != nil { // start the browser and open the tab
		t.Fatalf("start chromium: %v", err)
	}
	cctx, stop := context.WithCancel(ctx)
	msgs := chromedp.Console(cctx)
	var (
		mu  sync.Mutex
		out []string
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleWarning, chromedp.ConsoleError, chromedp.ConsoleException:
				mu.Lock()
				out = append(out, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		stop()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

func jsString(s string) string { return "'" + s + "'" } // API keys hold only [a-z0-9_]
